"""Tests that loose messages are evidence only through a shared document ref, else party context."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from core.models import LooseMessage, Refs
from core.store import context as context_store
from core.store.db import Database

AT = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def loose(body: str, **refs: Any) -> LooseMessage:
    """Returns a supplier message about the given refs."""
    return LooseMessage.model_validate(
        {
            "at": AT.isoformat(),
            "channel": "email",
            "direction": "inbound",
            "party": "supplier",
            "body": body,
            "refs": refs,
        }
    )


async def test_only_a_shared_document_ref_makes_a_message_evidence(db: Database) -> None:
    """A message about another PO of the same supplier is party context, never a refs match."""
    same_po = loose("PO-1 ships 2026-12-01", po_id="PO-1", supplier_id="SUP-1")
    other_po = loose("PO-2 sent 2026-11-09", po_id="PO-2", supplier_id="SUP-1")
    unrelated = loose("hello", po_id="PO-3", supplier_id="SUP-9")
    items = [(m.message_id(), m) for m in (same_po, other_po, unrelated)]
    case_refs = Refs(po_id="PO-1", supplier_id="SUP-1")
    async with db.transaction() as conn:
        await context_store.upsert_messages(conn, items)
        by_refs = await context_store.messages_by_refs(conn, case_refs)
        by_party = await context_store.messages_by_party(
            conn, case_refs, exclude=[mid for mid, _ in by_refs]
        )
    assert [m.body for _, m in by_refs] == [same_po.body]
    assert [m.body for _, m in by_party] == [other_po.body]


async def test_a_case_with_only_party_refs_has_no_refs_matches(db: Database) -> None:
    """A shared supplier id alone never returns a message as a document match."""
    message = loose("general price list", supplier_id="SUP-1")
    async with db.transaction() as conn:
        await context_store.upsert_messages(conn, [(message.message_id(), message)])
        assert await context_store.messages_by_refs(conn, Refs(supplier_id="SUP-1")) == []
        party = await context_store.messages_by_party(conn, Refs(supplier_id="SUP-1"))
    assert [m.body for _, m in party] == [message.body]
