"""Parameter scoring in the eval harness: typed comparison, precision, fill, other-document values."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from core.models import Case
from core.parameters.provenance import ParamSource
from core.results import MatchedMessage, ProposedAction, TriageResult
from core.settings import Settings
from core.taxonomy import load_taxonomy
from evals.metrics import param_scores
from evals.params import ParamCheck, check_params, other_document_params, same_value
from tests.support.evals import make_record

TAXONOMY = load_taxonomy(Settings().taxonomy_file)


@pytest.mark.parametrize(
    ("kind", "expected", "proposed", "same"),
    [
        ("date", "2026-12-14", "2026-12-14", True),
        ("date", "2026-12-14", "2026-12-15", False),
        ("datetime", "2026-03-10T07:00:00-05:00", "2026-03-10T12:00:00Z", True),
        ("datetime", "2026-03-10T07:00:00-05:00", "2026-03-10T07:00:00Z", False),
        ("number", 1200.0, 1200.004, True),
        ("number", 1200.0, 1212.0, False),
        ("integer", -18, "-18", True),
        ("integer", -18, 18, False),
        ("id", "SO-4410982", "so-4410982", True),
        ("id", "SO-4410982", "SO-4410983", False),
        ("currency", "EUR", "eur", True),
        ("string", "IDoc SHPCON", "SHPCON", True),
        ("string", "EDI 810", "IDOC_IN", False),
        ("string_list", ["USMCA certificate of origin"], ["certificate_of_origin"], True),
        ("string_list", ["commercial invoice", "packing list"], ["commercial_invoice"], False),
    ],
)
def test_values_compare_by_their_declared_type(
    kind: str, expected: Any, proposed: Any, same: bool
) -> None:
    assert same_value(kind, expected, proposed) is same


def _case(**over: Any) -> Case:
    body: dict[str, Any] = {
        "case_id": "C-1",
        "workflow": "supplier_confirmation",
        "stalled_step": "no ack",
        "detected_at": "2026-11-20T10:00:00Z",
        "site": "DC-1",
        "refs": {"po_id": "PO-4471", "supplier_id": "S-1"},
        "events": [
            {
                "at": "2026-11-20T09:00:00Z",
                "system": "SUPPLIER",
                "type": "note",
                "detail": "Resending the 856 for PO-85783; ship 2026-12-09",
            },
            {
                "at": "2026-11-20T09:30:00Z",
                "system": "SUPPLIER",
                "type": "note",
                "detail": "PO-4471 ships 2026-12-04",
            },
        ],
    }
    body.update(over)
    return Case.model_validate(body)


def _result(
    *proposals: ProposedAction, matched: list[MatchedMessage] | None = None
) -> TriageResult:
    return TriageResult(
        case_id="C-1", status="resolved", proposals=list(proposals), matched_messages=matched or []
    )


def _eta(value: str | None, source: ParamSource) -> ProposedAction:
    return ProposedAction(
        action="update_po_eta",
        params={"po_id": "PO-4471", "supplier_id": "S-1", "new_eta": value},
        posts_to_erp=True,
        provenance={"po_id": ParamSource(kind="refs", keys=["po_id"]), "new_eta": source},
    )


def test_labelled_values_are_checked_and_every_proposed_value_counted() -> None:
    result = _result(_eta("2026-12-05", ParamSource(kind="event", index=1)))
    expected = {"update_po_eta": {"new_eta": "2026-12-04", "po_id": "po-4471"}}
    checks, proposed = check_params(expected, result, TAXONOMY)
    assert proposed == 3
    verdicts = {c.param: c.verdict for c in checks}
    assert verdicts == {"new_eta": "wrong", "po_id": "right"}


def test_an_empty_labelled_value_is_missing_not_wrong() -> None:
    result = _result(_eta(None, ParamSource(kind="event", index=1)))
    checks, proposed = check_params({"update_po_eta": {"new_eta": "2026-12-04"}}, result, TAXONOMY)
    assert [c.verdict for c in checks] == ["missing"]
    assert proposed == 2


def test_values_read_from_another_documents_text_are_flagged() -> None:
    case = _case()
    other = _result(_eta("2026-12-09", ParamSource(kind="event", index=0)))
    own = _result(_eta("2026-12-04", ParamSource(kind="event", index=1)))
    assert other_document_params(case, other) == ["update_po_eta.new_eta"]
    assert other_document_params(case, own) == []


def test_a_loose_message_matched_only_by_party_is_another_document() -> None:
    at = datetime(2026, 11, 20, tzinfo=UTC)
    party = MatchedMessage(
        message_id="MSG-1",
        matched_by="party",
        score=0.4,
        party="supplier",
        at=at,
        subject=None,
        body="ships 2026-12-11",
        document_refs={"po_id": "PO-9"},
    )
    result = _result(
        _eta("2026-12-11", ParamSource(kind="message", message_id="MSG-1")), matched=[party]
    )
    assert other_document_params(_case(), result) == ["update_po_eta.new_eta"]
    same = party.model_copy(update={"matched_by": "refs", "document_refs": {"po_id": "PO-4471"}})
    result = _result(
        _eta("2026-12-11", ParamSource(kind="message", message_id="MSG-1")), matched=[same]
    )
    assert other_document_params(_case(), result) == []


def test_param_scores_divide_wrong_values_by_proposed_ones_and_fill_by_labelled_ones() -> None:
    def check(verdict: str) -> ParamCheck:
        return ParamCheck(action="a", param="p", expected=1, proposed=2, verdict=verdict)

    records = [
        make_record(
            labelled_params=True,
            params_proposed=10,
            param_checks=[check("right"), check("wrong"), check("missing")],
        ),
        make_record(labelled_params=False, params_proposed=50, other_document_params=["a.p"]),
    ]
    scores = param_scores(records)
    assert scores["param_values_proposed"] == 10
    assert scores["param_wrong_share"] == pytest.approx(0.1)
    assert scores["param_wrong_share_checked"] == pytest.approx(0.5)
    assert scores["param_fill_rate"] == pytest.approx(2 / 3)
    assert scores["param_other_document"] == 1


def test_the_sentence_holding_the_span_decides_about_another_document() -> None:
    """A message about two orders: a date read from the other order's sentence is flagged."""
    detail = "PO-4471 moves to 2026-12-16. The other order PO-4380 still ships 2026-12-04."
    case = _case(
        events=[
            {"at": "2026-11-20T09:00:00Z", "system": "SUPPLIER", "type": "note", "detail": detail}
        ]
    )
    other = _result(_eta("2026-12-04", ParamSource(kind="event", index=0, span="2026-12-04")))
    own = _result(_eta("2026-12-16", ParamSource(kind="event", index=0, span="2026-12-16")))
    assert other_document_params(case, other) == ["update_po_eta.new_eta"]
    assert other_document_params(case, own) == []
