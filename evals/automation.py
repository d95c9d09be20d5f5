"""What ran with no person: the automation share and the wrong-cause share of auto-run cases."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol


class Scored(Protocol):
    """The parts of an eval record these measures read."""

    expected_cause: str
    decided: str | None
    decisions: list[dict[str, Any]]


def auto_ran(record: Scored) -> bool:
    """Tells whether any of the case's actions was decided `auto` by the gate: no person saw it."""
    return any(d.get("outcome") == "auto" for d in record.decisions)


def auto_wrong(record: Scored) -> bool:
    """Tells whether actions ran automatically while the decided cause was not the true one."""
    return auto_ran(record) and record.decided != record.expected_cause


def automation_metrics(records: Sequence[Scored]) -> dict[str, Any]:
    """Returns the automation share, the wrong-auto share and the counts behind them."""
    auto = [r for r in records if auto_ran(r)]
    wrong = [r for r in auto if auto_wrong(r)]
    return {
        "auto_cases": len(auto),
        "auto_wrong_cases": len(wrong),
        "automation_share": len(auto) / len(records) if records else 0.0,
        # Nothing automated is nothing wrong; the automation share says whether that is useful.
        "wrong_auto_share": len(wrong) / len(auto) if auto else 0.0,
    }
