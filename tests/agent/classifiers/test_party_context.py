"""Tests that party-only messages reach the classifiers as context apart from evidence."""

from __future__ import annotations

from datetime import UTC, datetime

from agent.classifiers.base import ClassifierInput
from agent.classifiers.features import case_fragment
from agent.classifiers.llm_prompt import MAX_TEXT_CHARS, _Clipper, case_data
from core.results import MatchedMessage
from tests.support.llm_cases import make_llm_case

AT = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def matched(message_id: str, by: str, body: str) -> MatchedMessage:
    """Returns a retrieved loose message matched one way."""
    return MatchedMessage(
        message_id=message_id, matched_by=by, score=0.5, party="supplier",  # type: ignore[arg-type]
        at=AT, subject=None, body=body,
    )  # fmt: skip


def test_party_messages_are_moved_out_of_the_evidence() -> None:
    """ClassifierInput keeps party-only matches apart, so no classifier reads them as evidence."""
    refs = matched("MSG-REFS", "refs", "customs hold on the shipment")
    party = matched("MSG-PARTY", "party", "zzpartyonly price list for all customers")
    item = ClassifierInput(case=make_llm_case(), messages=[refs, party])
    assert [m.message_id for m in item.messages] == ["MSG-REFS"]
    assert [m.message_id for m in item.party_context] == ["MSG-PARTY"]
    assert "zzpartyonly" not in case_fragment(item.case, [refs, party]).text


def test_the_llm_sees_party_context_apart_from_loose_evidence() -> None:
    """The prompt data lists party context under its own key, never among citable messages."""
    party = matched("MSG-PARTY", "party", "general supplier newsletter")
    data = case_data(
        ClassifierInput(case=make_llm_case(), messages=[party]), _Clipper(MAX_TEXT_CHARS)
    )
    assert data["loose_messages"] == []
    assert [m["message_id"] for m in data["party_context"]] == ["MSG-PARTY"]


def test_a_message_about_another_document_of_the_same_kind_is_not_evidence() -> None:
    """A message naming another order than the case's is dropped, however it was matched."""
    case = make_llm_case()
    ours = matched("MSG-OURS", "refs", "zzours delay on the order").model_copy(
        update={"document_refs": {"order_id": "SO-1"}}
    )
    other = matched("MSG-OTHER", "refs", "zzother backordered").model_copy(
        update={"document_refs": {"order_id": "SO-2", "shipment_id": "SH-1"}}
    )
    similar = matched("MSG-SIM", "similarity", "zzsimilar backordered").model_copy(
        update={"document_refs": {"shipment_id": "SH-9"}}
    )
    unrelated_kind = matched("MSG-PO", "similarity", "zzpo note").model_copy(
        update={"document_refs": {"po_id": "PO-7"}}
    )
    item = ClassifierInput(case=case, messages=[ours, other, similar, unrelated_kind])
    assert [m.message_id for m in item.messages] == ["MSG-OURS", "MSG-PO"]
    assert item.party_context == []
    text = case_fragment(case, [ours, other, similar, unrelated_kind]).text
    assert "zzours" in text
    assert "zzpo" in text
    assert "zzother" not in text
    assert "zzsimilar" not in text
