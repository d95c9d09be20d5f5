"""Small factories for the LLM classifier tests: cases, context, verdicts and a fixed fallback."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from agent.classifiers.base import CauseScores, ClassifierInput
from core.models import Case
from core.results import MatchedMessage, SimilarCase
from core.taxonomy import Taxonomy, load_taxonomy
from tests.support.cases import make_case

T0 = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)
TAXONOMY: Taxonomy = load_taxonomy()
LOOSE_ID = "MSG-0123456789abcdef0123"


def make_llm_case(**over: Any) -> Case:
    """Returns a shipment-confirmation case with two events and two messages."""
    data: dict[str, Any] = {
        "case_id": "EXC-1",
        "workflow": "shipment_confirmation",
        "stalled_step": "awaiting ship confirmation from WMS",
        "detected_at": T0.isoformat(),
        "site": "DC-ATL",
        "refs": {"order_id": "SO-1", "shipment_id": "SH-1", "customer_id": "C-1"},
        "amount": {"value": 12450.0, "currency": "USD"},
        "events": [
            {
                "at": (T0 - timedelta(hours=2)).isoformat(),
                "system": "WMS",
                "type": "pack_complete",
                "detail": "12 cartons staged at door 14",
            },
            {
                "at": (T0 - timedelta(hours=1)).isoformat(),
                "system": "CARRIER",
                "type": "pickup_missed",
                "detail": "Driver departed 16:30, trailer full",
                "code": "T3",
            },
        ],
        "messages": [
            {
                "at": (T0 - timedelta(minutes=30)).isoformat(),
                "channel": "email",
                "direction": "inbound",
                "party": "carrier",
                "sender": "dispatch@carrier.example",
                "subject": "Re: SH-1 pickup",
                "body": "Our driver left at cutoff; next pickup 08:00.",
            },
            {
                "at": (T0 - timedelta(minutes=20)).isoformat(),
                "channel": "chat",
                "direction": "outbound",
                "party": "internal",
                "body": "Asked carrier for a rebooking.",
            },
        ],
    }
    return Case.model_validate(make_case(**{**data, **over}))


def make_item(**over: Any) -> ClassifierInput:
    """Returns a classifier input with one similar history case and one loose message."""
    similar = SimilarCase(
        case_id="HIST-7",
        similarity=0.82,
        cause="carrier_cutoff_missed",
        actions=["rebook_carrier"],
        outcome="rebooked next morning",
        summary="pickup missed, trailer full",
    )
    loose = MatchedMessage(
        message_id=LOOSE_ID,
        matched_by="refs",
        score=1.0,
        party="carrier",
        at=T0 - timedelta(minutes=10),
        subject="SH-1",
        body="Rebooked for tomorrow 08:00.",
    )
    return ClassifierInput(case=make_llm_case(**over), similar=[similar], messages=[loose])


def verdict(top: str = "carrier_cutoff_missed", p_top: float = 0.9, **over: Any) -> dict[str, Any]:
    """Returns a well-formed model answer putting p_top on one cause and the rest spread evenly."""
    others = [c for c in TAXONOMY.cause_ids if c != top]
    rest = (1.0 - p_top) / len(others)
    data: dict[str, Any] = {
        "probabilities": [{"cause": top, "probability": p_top}]
        + [{"cause": c, "probability": rest} for c in others],
        "top_cause": top,
        "rationale": "Goods were staged before the driver left with a full trailer.",
        "evidence": {
            "event_indices": [1],
            "message_indices": [0],
            "history_case_ids": ["HIST-7"],
            "loose_message_ids": [LOOSE_ID],
        },
    }
    data.update(over)
    return data


class FixedClassifier:
    """A local classifier stand-in that always returns the same distribution."""

    name = "local"

    def __init__(self, probabilities: dict[str, float] | None = None, **extra: Any) -> None:
        probs = probabilities or {"carrier_delay": 1.0}
        self.probabilities = {c: probs.get(c, 0.0) for c in TAXONOMY.cause_ids}
        self.extra = extra
        self.calls = 0

    async def score(self, item: ClassifierInput) -> CauseScores:
        """Returns the fixed scores."""
        self.calls += 1
        return CauseScores(
            probabilities=dict(self.probabilities),
            classifier=self.name,
            model="local-fixed",
            conformal_qhat=0.3,
            **self.extra,
        )
