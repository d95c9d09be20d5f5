"""Audit rows are a typed catalogue: every kind written is catalogued, and bad rows never land."""

from __future__ import annotations

import ast
import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from audit_samples import BAD, SAMPLES
from sqlalchemy import func, select

from agent.corrections import correct_cause
from app.wiring import Overrides, Runtime, open_runtime
from core.approvals import ApprovalRecord, ApprovalStatus
from core.audit_events import CATALOGUE, validate_event
from core.errors import AuditRejected, PolicyRefusal
from core.models import Case, ResolvedCase
from core.principals import Principal, PrincipalKind
from core.results import CaseStatus
from core.settings import Settings
from core.store import approvals as approval_store
from core.store import audit
from core.store.db import Database
from core.store.tables import audit as audit_table
from evals.simulator import simulate

# The one case factory sits beside the API tests until a tests/support package exists.
from tests.support.cases import make_inventory_case
from tools.embedding.fake import FakeEmbedder
from tools.erp.fake import FakeErp
from tools.retrieval.fake import FakeContextIndex

ROOT = Path(__file__).resolve().parents[3]
SKIP = {".venv", "tests", "migrations", "node_modules", ".git"}
WRITER = Path("core/store/audit.py")  # passes its callers' kinds through


# ---- every kind written anywhere in the source tree is in the catalogue ----------------------


def _sources() -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted(ROOT.rglob("*.py")):
        if not SKIP.intersection(path.relative_to(ROOT).parts):
            yield path, ast.parse(path.read_text(), filename=str(path))


def _outbox_row_kinds(trees: list[tuple[Path, ast.Module]]) -> set[str]:
    """The constant kinds given to outbox enqueue calls: each may end in delivered/failed rows."""
    kinds = set()
    for _path, tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "enqueue":
                for kw in node.keywords:
                    if kw.arg == "kind" and isinstance(kw.value, ast.Constant):
                        kinds.add(kw.value.value)
    return kinds


class KindScanner:
    """Resolves the kind expression of every audit write in one module to its possible strings."""

    def __init__(self, path: Path, tree: ast.Module, row_kinds: set[str]) -> None:
        self.path, self.tree, self.row_kinds = path, tree, row_kinds
        self.parents = {c: p for p in ast.walk(tree) for c in ast.iter_child_nodes(p)}
        self.found: set[str] = set()
        self.unresolved: list[str] = []

    def scan(self) -> None:
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Call) and self._is_audit_write(node):
                kind = next((k.value for k in node.keywords if k.arg == "kind"), None)
                if kind is not None:
                    self.found |= self.resolve(kind)
            if isinstance(node, ast.Dict) and self._is_audit_row(node):
                value = node.values[[_key(k) for k in node.keys].index("kind")]
                self.found |= self.resolve(value)

    @staticmethod
    def _is_audit_write(call: ast.Call) -> bool:
        func = call.func
        return (
            isinstance(func, ast.Attribute)
            and func.attr in ("record", "record_many")
            and isinstance(func.value, ast.Name)
            and func.value.id == "audit"
        )

    @staticmethod
    def _is_audit_row(node: ast.Dict) -> bool:
        return {"case_id", "actor", "kind", "detail"} <= {_key(k) for k in node.keys}

    def resolve(self, expr: ast.expr) -> set[str]:
        """Returns the strings expr can evaluate to, noting what it cannot follow."""
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
            return {expr.value}
        if isinstance(expr, ast.IfExp):
            return self.resolve(expr.body) | self.resolve(expr.orelse)
        if isinstance(expr, ast.JoinedStr):
            return self._expand(expr)
        if isinstance(expr, ast.Attribute) and expr.attr == "kind":
            return set(self.row_kinds)  # an outbox row's kind
        if isinstance(expr, ast.Name):
            return self._resolve_name(expr)
        self.unresolved.append(f"{self.path}:{expr.lineno} {ast.unparse(expr)}")
        return set()

    def _expand(self, text: ast.JoinedStr) -> set[str]:
        out = {""}
        for part in text.values:
            options = (
                self.resolve(part.value)
                if isinstance(part, ast.FormattedValue)
                else {str(part.value)}  # type: ignore[attr-defined]
            )
            out = {head + tail for head in out for tail in options}
        return out

    def _function_of(self, node: ast.AST) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
        while node in self.parents:
            node = self.parents[node]
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                return node
        return None

    def _resolve_name(self, name: ast.Name) -> set[str]:
        function = self._function_of(name)
        if function is None:
            self.unresolved.append(f"{self.path}:{name.lineno} {name.id}")
            return set()
        params = [a.arg for a in function.args.posonlyargs + function.args.args]
        if name.id in params:
            return self._call_site_values(function.name, params.index(name.id), name.id)
        assigned = [
            n.value
            for n in ast.walk(function)
            if isinstance(n, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == name.id for t in n.targets)
        ]
        if not assigned:
            self.unresolved.append(f"{self.path}:{name.lineno} {name.id}")
        return set().union(*(self.resolve(v) for v in assigned))

    def _call_site_values(self, function: str, position: int, keyword: str) -> set[str]:
        values: set[str] = set()
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == function:
                given = node.args[position : position + 1]
                given += [k.value for k in node.keywords if k.arg == keyword]
                for value in given:
                    values |= self.resolve(value)
        return values


def _key(key: ast.expr | None) -> str | None:
    return key.value if isinstance(key, ast.Constant) else None


def _kinds_written() -> tuple[set[str], list[str]]:
    trees = list(_sources())
    row_kinds = _outbox_row_kinds(trees)
    found: set[str] = set()
    unresolved: list[str] = []
    for path, tree in trees:
        if path.relative_to(ROOT) == WRITER:
            continue
        scanner = KindScanner(path.relative_to(ROOT), tree, row_kinds)
        scanner.scan()
        found |= scanner.found
        unresolved += scanner.unresolved
    return found, unresolved


def test_every_kind_written_in_the_source_tree_is_catalogued_and_every_model_is_used() -> None:
    """An AST scan of audit writes (calls and row dicts) finds exactly the catalogue's kinds."""
    found, unresolved = _kinds_written()
    assert unresolved == [], "the scan cannot tell which kinds these write"
    # The scan must see through the dynamic kinds: outbox f-strings, SLA kinds, row helpers.
    assert {"erp.delivered", "slack.dead_lettered", "sla.escalation", "action.failed"} <= found
    assert found - set(CATALOGUE) == set(), "written but not catalogued"
    assert set(CATALOGUE) - found == set(), "catalogued but written nowhere"


# ---- each model accepts its sample and rejects a bad detail ----------------------------------


def test_the_samples_cover_the_catalogue() -> None:
    """Every catalogued kind has a valid sample and a bad detail below."""
    assert set(SAMPLES) == set(CATALOGUE) == set(BAD)


@pytest.mark.parametrize("kind", sorted(CATALOGUE))
def test_a_kind_accepts_its_sample_detail(kind: str) -> None:
    """The sample is valid, so the refusals below are about the change alone."""
    assert isinstance(validate_event(kind, SAMPLES[kind]), CATALOGUE[kind])


@pytest.mark.parametrize("kind", sorted(CATALOGUE))
def test_a_kind_refuses_a_wrongly_typed_field(kind: str) -> None:
    """A detail whose field has the wrong type or value is refused, naming the field."""
    bad = {**SAMPLES[kind], **BAD[kind]}
    with pytest.raises(AuditRejected, match=next(iter(BAD[kind]))):
        validate_event(kind, bad)


@pytest.mark.parametrize("kind", sorted(CATALOGUE))
def test_a_kind_refuses_an_undeclared_field_and_a_missing_one(kind: str) -> None:
    """Free-form extras are refused, and so is a detail missing a required field."""
    with pytest.raises(AuditRejected, match="surprise"):
        validate_event(kind, {**SAMPLES[kind], "surprise": 1})
    model = CATALOGUE[kind]
    required = [name for name, field in model.model_fields.items() if field.is_required()]
    assert required, f"{kind} has no required field"
    with pytest.raises(AuditRejected, match=required[0]):
        validate_event(kind, {k: v for k, v in SAMPLES[kind].items() if k != required[0]})


# ---- writes are refused in the writer's transaction ------------------------------------------


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    """A migrated SQLite store."""
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'triage.db'}")
    db.migrate()
    yield db
    asyncio.run(db.dispose())


async def _count(db: Database) -> int:
    async with db.transaction() as conn:
        return int((await conn.execute(select(func.count()).select_from(audit_table))).scalar_one())


def test_an_unknown_kind_is_refused_and_rolls_back_the_writers_transaction(
    database: Database,
) -> None:
    """A valid row written before an uncatalogued one in the same transaction is not kept."""

    async def write() -> None:
        async with database.transaction() as conn:
            await audit.record(
                conn, case_id=None, actor="learner", kind="history.imported", cases=3
            )
            await audit.record(conn, case_id="C-1", actor="system", kind="case.reopened")

    with pytest.raises(AuditRejected, match=r"case\.reopened"):
        asyncio.run(write())
    assert asyncio.run(_count(database)) == 0


def test_record_many_refuses_the_whole_batch_for_one_bad_row(database: Database) -> None:
    """One row breaking its model refuses every row of the batch."""
    good: audit.AuditRow = {
        "case_id": "C-1", "actor": "executor", "kind": "action.started",
        "detail": SAMPLES["action.started"],
    }  # fmt: skip
    bad: audit.AuditRow = {**good, "detail": {**SAMPLES["action.started"], "action": ""}}

    async def write() -> None:
        async with database.transaction() as conn:
            await audit.record_many(conn, [good, bad])

    with pytest.raises(AuditRejected, match="action"):
        asyncio.run(write())
    assert asyncio.run(_count(database)) == 0


def test_a_stored_detail_keeps_the_fields_given_as_json(database: Database) -> None:
    """The status enum is stored as its value and unset optional fields are not invented."""

    async def write_and_read() -> list[audit.AuditEntry]:
        async with database.transaction() as conn:
            await audit.record(
                conn, case_id="C-1", actor="a", kind="case.status", status=CaseStatus.routed
            )
            return await audit.entries(conn, "C-1")

    [entry] = asyncio.run(write_and_read())
    assert entry.detail == {"status": "routed"}
    assert entry.event() == CATALOGUE["case.status"](status=CaseStatus.routed)


def test_a_status_given_as_text_is_refused() -> None:
    """Strict types: the status writer must hand over a CaseStatus, not a loose string."""
    with pytest.raises(AuditRejected, match="status"):
        validate_event("case.status", {"status": "routed"})


# ---- a full flow in process writes only valid rows -------------------------------------------

ORCHESTRATOR = Principal(name="orchestrator", kind=PrincipalKind.api_key)
ROLES = frozenset({"inventory_controller", "ops_supervisor", "finance_approver", "buyer"})
EDITOR = Principal(name="erin", kind=PrincipalKind.person, roles=ROLES)
APPROVER = Principal(name="amir", kind=PrincipalKind.person, roles=ROLES)
POSTING = "post_inventory_adjustment"


async def _submit(rt: Runtime) -> str:
    case = Case.model_validate(make_inventory_case())
    await rt.service.submit(case, ORCHESTRATOR)
    return case.case_id


async def _pending(rt: Runtime, case_id: str) -> list[ApprovalRecord]:
    async with rt.db.transaction() as conn:
        records = await approval_store.list_approvals(conn, case_id=case_id)
    return [r for r in records if r.status is ApprovalStatus.pending]


async def _approve_all(rt: Runtime, case_id: str) -> None:
    for record in await _pending(rt, case_id):
        await rt.desk.decide(record.approval_id, APPROVER, "approve", "checked")


async def _flow(tmp_path: Path, erp: FakeErp) -> tuple[list[audit.AuditEntry], set[CaseStatus]]:
    """Refuses, edits, approves, retries, dead-letters, replays, rejects and corrects."""
    settings = Settings(data_dir=tmp_path, classifier="local", retrain_debounce_s=0)
    overrides = Overrides(erp=erp, index=FakeContextIndex(FakeEmbedder()))
    async with open_runtime(settings, overrides) as rt:
        rt.outbox.max_backoff_s = 0  # a retried row is due again at once
        history = simulate(cases=0, history=300, messages=0, seed=4).history
        await rt.learner.add_history([ResolvedCase.model_validate(h) for h in history])
        first, second, third = [await _submit(rt) for _ in range(3)]
        [posting] = [r for r in await _pending(rt, first) if r.action == POSTING]
        with pytest.raises(PolicyRefusal):
            await rt.desk.decide(posting.approval_id, ORCHESTRATOR, "approve", "ok")
        await rt.desk.decide(
            posting.approval_id, EDITOR, "edit", "recount", {"quantity_delta": -11}
        )
        await _approve_all(rt, first)
        erp.fail_next(1)  # retryable: scheduled again, then delivered
        await rt.outbox.deliver_due(case_id=first)
        await correct_cause(rt.deps, first, "master_data_error", "wrong unit", APPROVER)
        await _approve_all(rt, second)
        erp.fail_next(1, permanent=True)  # a dead letter, replayed by a person
        await rt.outbox.deliver_due(case_id=second)
        failed = (await rt.service.get(second)).status
        await rt.outbox.replay("person:amir")
        await rt.outbox.deliver_due(case_id=second)
        for record in await _pending(rt, third):
            await rt.desk.decide(record.approval_id, APPROVER, "reject", "not ours")
        await rt.outbox.deliver_due(case_id=third)
        statuses = {failed, *[(await rt.service.get(c)).status for c in (first, second, third)]}
        async with rt.db.transaction() as conn:
            return await audit.entries(conn), statuses


@pytest.mark.slow
def test_a_full_flow_writes_only_rows_that_fit_their_kind(tmp_path: Path) -> None:
    """Every row of a flow with refusals, edits, retries and dead letters reads back as its model."""
    entries, statuses = asyncio.run(_flow(tmp_path, FakeErp()))
    assert statuses == {CaseStatus.failed, CaseStatus.resolved, CaseStatus.rejected}
    kinds = {e.kind for e in entries}
    assert kinds >= {
        "history.imported", "classifier.trained", "case.received", "case.classified",
        "policy.decision", "approval.requested", "case.status", "approval.refused",
        "approval.edited", "approval.approved", "approval.complete", "posting.queued",
        "erp.retry_scheduled", "erp.delivered", "erp.dead_lettered", "outbox.replayed",
        "resume.delivered", "case.corrected", "approval.rejected",
    }  # fmt: skip
    for entry in entries:
        event = entry.event()
        assert event.model_dump(mode="json", exclude_unset=True) == entry.detail, entry.kind
