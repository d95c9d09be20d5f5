"""The confirmation an ERP posting asks for before a reviewer's approval counts.

The question repeats the action, the amount at stake and what the posting targets. The confirm
form carries a digest of the parameters the reviewer saw; an approval whose parameters changed
since is not taken, and the reviewer is asked again.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from sqlalchemy.ext.asyncio import AsyncConnection

from api.ui.eligibility import Permissions, permissions, progress_text
from api.ui.formatting import Formatter
from core.approvals import ApprovalRecord
from core.principals import Principal
from core.store import approvals as approval_store
from core.store import cases as case_store
from core.store.cases import StoredCase
from core.taxonomy import ActionSpec, Taxonomy
from policies.amounts import own_amount


def params_digest(record: ApprovalRecord) -> str:
    """Returns a short digest of the action and parameters a reviewer confirms."""
    payload = json.dumps([record.action, record.params], sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:24]


def confirm_url(record: ApprovalRecord, return_to: str | None = None) -> str:
    """Returns the address of an approval's confirmation page."""
    query = f"?{urlencode({'return_to': return_to})}" if return_to else ""
    return f"/ui/approvals/{quote(record.approval_id, safe='')}/confirm{query}"


def _target(spec: ActionSpec | None, params: dict[str, Any], stored: StoredCase) -> str:
    """Returns what the posting acts on: its required ids, else any ids or lists, else the case."""
    specs = spec.params if spec else {}

    def filled(*types: str, required: bool = False) -> list[str]:
        return [
            ", ".join(map(str, value)) if isinstance(value, list) else str(value)
            for name, value in params.items()
            if name in specs
            and specs[name].type in types
            and (specs[name].required or not required)
            and value not in (None, "", [])
        ]

    for candidates in (filled("id", required=True), filled("id"), filled("string_list", "string")):
        if candidates:
            return ", ".join(candidates)
    return f"case {stored.case.case_id}"


def _amount(
    spec: ActionSpec | None, params: dict[str, Any], stored: StoredCase, fmt: Formatter
) -> str:
    """Returns the posting's own amount in its currency, else the case amount, as the page writes it."""
    case_amount = stored.case.amount
    own = own_amount(spec, params)
    if own is not None and math.isfinite(own):
        code = params.get(spec.posting_currency) if spec and spec.posting_currency else None
        currency = (
            code
            if isinstance(code, str) and code
            else (case_amount.currency if case_amount else None)
        )
        return fmt.money(own, currency)
    if case_amount is None:
        return "no amount given"
    return fmt.money(case_amount.value, case_amount.currency)


def posting_question(
    record: ApprovalRecord, stored: StoredCase, spec: ActionSpec | None, fmt: Formatter
) -> str:
    """Returns the question, e.g. `Post update_po_eta to ERP for PO-123, USD 12,450.00?`."""
    system = spec.target if spec else "ERP"
    target = _target(spec, record.params, stored)
    return f"Post {record.action} to {system} for {target}, {_amount(spec, record.params, stored, fmt)}?"


@dataclass(frozen=True)
class ConfirmView:
    """Everything the confirmation page shows."""

    record: ApprovalRecord
    stored: StoredCase
    question: str
    digest: str
    progress: str
    may: Permissions
    return_to: str


async def load_confirm_view(
    conn: AsyncConnection,
    approval_id: str,
    me: Principal,
    taxonomy: Taxonomy,
    fmt: Formatter,
    return_to: str,
) -> ConfirmView:
    """Reads an approval and its case into the confirmation page's view."""
    record = await approval_store.get_approval(conn, approval_id)
    stored = await case_store.get_case(conn, record.case_id)
    spec = taxonomy.action_index.get(record.action)
    return ConfirmView(
        record=record,
        stored=stored,
        question=posting_question(record, stored, spec, fmt),
        digest=params_digest(record),
        progress=progress_text(record),
        may=permissions(record, me),
        return_to=return_to or f"/ui/cases/{quote(record.case_id, safe='')}",
    )
