"""The relational schema, portable between SQLite and PostgreSQL; Alembic migrations mirror it."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def _ts(name: str, *, nullable: bool = False) -> Column[object]:
    return Column(name, DateTime(timezone=True), nullable=nullable)


api_keys = Table(
    "api_keys",
    metadata,
    Column("key_id", String(32), primary_key=True),
    Column("name", String(128), nullable=False, unique=True),
    Column("key_hash", String(64), nullable=False, unique=True),
    _ts("created_at"),
    _ts("revoked_at", nullable=True),
    Column("scope", String(16), nullable=False, server_default="orchestrator"),
    # Where this key's callbacks go, and the whsec_ secret that signs them, sealed under the
    # server's secret key (core/sealed_secrets.py; never logged or served).
    Column("callback_url", String(2048), nullable=True),
    Column("callback_secret", String(512), nullable=True),
    # URL prefixes a case of this key may name as its callback_url; NULL: the callback URL's origin.
    Column("callback_allowed", JSON, nullable=True),
    CheckConstraint("scope IN ('orchestrator', 'read', 'admin')", name="scope"),
)

users = Table(
    "users",
    metadata,
    Column("username", String(128), primary_key=True),
    Column("password_hash", String(255), nullable=False),
    Column("roles", JSON, nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    _ts("created_at"),
)

ui_sessions = Table(
    "ui_sessions",
    metadata,
    Column("session_hash", String(64), primary_key=True),
    Column("username", String(128), nullable=False, index=True),
    _ts("created_at"),
    _ts("expires_at"),
    _ts("revoked_at", nullable=True),
)
cases = Table(
    "cases",
    metadata,
    Column("case_id", String(128), primary_key=True),
    Column("digest", String(64), nullable=False),
    Column("body", JSON, nullable=False),
    Column("workflow", String(64), nullable=False, index=True),
    Column("site", String(128), nullable=False, index=True),
    Column("status", String(32), nullable=False, index=True),
    Column("cause", String(64), nullable=True, index=True),
    Column("confidence", Float, nullable=True),
    Column("amount_value", Float, nullable=True),
    Column("currency", String(3), nullable=True),
    _ts("sla_due_at", nullable=True),
    Column("submitted_by", String(160), nullable=False),
    Column("result", JSON, nullable=True),
    Column("corrected_cause", String(64), nullable=True),
    Column("correction", JSON, nullable=True),
    _ts("created_at"),
    _ts("updated_at"),
    # Whoever runs the case's graph holds this lease; a killed owner's lease simply runs out.
    Column("run_owner", String(64), nullable=True),
    _ts("run_lease_until", nullable=True),
    # The case's own callback target, which overrides its submitting key's.
    Column("callback_url", String(2048), nullable=True),
)

history = Table(
    "history",
    metadata,
    Column("case_id", String(128), primary_key=True),
    Column("body", JSON, nullable=False),
    Column("cause", String(64), nullable=False, index=True),
    Column("actions", JSON, nullable=False),
    Column("outcome", Text, nullable=False),
    _ts("resolved_at", nullable=True),
    Column("source", String(16), nullable=False),
    _ts("imported_at"),
)

loose_messages = Table(
    "loose_messages",
    metadata,
    Column("message_id", String(32), primary_key=True),
    _ts("at"),
    Column("party", String(16), nullable=False),
    Column("po_id", String(128), nullable=True, index=True),
    Column("supplier_id", String(128), nullable=True, index=True),
    Column("shipment_id", String(128), nullable=True, index=True),
    Column("order_id", String(128), nullable=True, index=True),
    Column("invoice_id", String(128), nullable=True, index=True),
    Column("body", JSON, nullable=False),
    _ts("imported_at"),
)

policy_decisions = Table(
    "policy_decisions",
    metadata,
    Column("decision_id", String(40), primary_key=True),
    Column("case_id", String(128), ForeignKey("cases.case_id"), nullable=False, index=True),
    Column("action", String(64), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("required_approvals", Integer, nullable=False),
    Column("approver_role", String(64), nullable=True),
    Column("rules_fired", JSON, nullable=False),
    Column("reasons", JSON, nullable=False),
    Column("policy_version", String(64), nullable=False),
    Column("inputs_digest", String(64), nullable=False),
    Column("inputs", JSON, nullable=False),
    _ts("created_at"),
)

approvals = Table(
    "approvals",
    metadata,
    Column("approval_id", String(40), primary_key=True),
    Column("case_id", String(128), ForeignKey("cases.case_id"), nullable=False, index=True),
    Column("action", String(64), nullable=False),
    Column("params", JSON, nullable=False),
    Column("posts_to_erp", Boolean, nullable=False),
    Column("approver_role", String(64), nullable=True),
    Column("required_approvals", Integer, nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("decision_id", String(40), ForeignKey("policy_decisions.decision_id"), nullable=False),
    Column("proposed_by", String(160), nullable=False),
    Column("edited_by", JSON, nullable=False),
    _ts("created_at"),
    _ts("decided_at", nullable=True),
    CheckConstraint("required_approvals >= 1", name="needs_an_approver"),
    CheckConstraint("NOT posts_to_erp OR approver_role IS NOT NULL", name="erp_needs_role"),
)

approval_votes = Table(
    "approval_votes",
    metadata,
    Column("vote_id", Integer, primary_key=True, autoincrement=True),
    Column(
        "approval_id", String(40), ForeignKey("approvals.approval_id"), nullable=False, index=True
    ),
    Column("actor", String(160), nullable=False),
    Column("actor_kind", String(16), nullable=False),
    Column("actor_roles", JSON, nullable=False),
    Column("decision", String(16), nullable=False),
    Column("reason", Text, nullable=True),
    Column("params", JSON, nullable=True),
    _ts("at"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("outbox_id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),
    Column("case_id", String(128), nullable=False, index=True),
    Column("action", String(64), nullable=False),
    Column("idempotency_key", String(64), nullable=False, unique=True),
    Column("approval_id", String(40), ForeignKey("approvals.approval_id"), nullable=True),
    Column("payload", JSON, nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text, nullable=True),
    _ts("next_attempt_at"),
    _ts("created_at"),
    _ts("delivered_at", nullable=True),
    # A worker claims a row for the lease; another worker may take it only after it runs out.
    Column("claimed_by", String(64), nullable=True),
    _ts("lease_until", nullable=True),
    # The database itself refuses an ERP posting row that no approval record stands behind.
    CheckConstraint("kind <> 'erp' OR approval_id IS NOT NULL", name="erp_needs_approval"),
)

sandbox_postings = Table(
    "sandbox_postings",
    metadata,
    Column("posting_id", Integer, primary_key=True, autoincrement=True),
    Column("idempotency_key", String(64), nullable=False, unique=True),
    Column("case_id", String(128), nullable=False, index=True),
    Column("action", String(64), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("approvers", JSON, nullable=False),
    _ts("posted_at"),
)

action_log = Table(
    "action_log",
    metadata,
    Column("entry_id", Integer, primary_key=True, autoincrement=True),
    Column("idempotency_key", String(64), nullable=False, unique=True),
    Column("case_id", String(128), nullable=False, index=True),
    Column("action", String(64), nullable=False),
    Column("target", String(64), nullable=False),
    Column("params", JSON, nullable=False),
    _ts("at"),
)

audit = Table(
    "audit",
    metadata,
    Column("entry_id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", String(128), nullable=True, index=True),
    _ts("at"),
    Column("actor", String(160), nullable=False),
    Column("kind", String(48), nullable=False, index=True),
    Column("detail", JSON, nullable=False),
)

# The event feed and the source of callbacks: one row per status change or delivered posting,
# appended in the transaction that made it and never rewritten (triggers refuse it).
case_events = Table(
    "case_events",
    metadata,
    Column("event_id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", String(128), nullable=False, index=True),
    Column("type", String(48), nullable=False),
    Column("submitted_by", String(160), nullable=False, index=True),
    Column("payload", JSON, nullable=False),
    _ts("created_at"),
)

slack_messages = Table(
    "slack_messages",
    metadata,
    Column("message_key", String(64), primary_key=True),
    Column("case_id", String(128), nullable=False, index=True),
    Column("channel", String(64), nullable=False),
    Column("ts", String(32), nullable=False),
    Column("thread_ts", String(32), nullable=True),
    _ts("posted_at"),
)


Index("ix_cases_created", cases.c.created_at, cases.c.case_id)

workers = Table(
    "workers",
    metadata,
    Column("worker_id", String(64), primary_key=True),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    _ts("started_at"),
    _ts("heartbeat_at"),
)
