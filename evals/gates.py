"""Quality gates: `--fail-if "macro_f1<0.8,ece>0.05"` parsed, checked against a run's metrics."""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from core.errors import InvalidInput

# Longest operators first, so that `<=` is not read as `<` followed by `=0.8`.
OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "<": operator.lt,
    ">": operator.gt,
}
GATEABLE = (
    "n_cases",
    "accuracy",
    "macro_f1",
    "ece",
    "brier",
    "aurc",
    "selective_accuracy_at_60",
    "selective_accuracy_at_80",
    "coverage_at_95",
    "conformal_alpha",
    "conformal_coverage",
    "conformal_mean_set_size",
    "unknown_f1",
    "automation_share",
    "wrong_auto_share",
    "action_precision",
    "action_recall",
    "action_exact_match",
    "policy_violations",
    "latency_ms_p50",
    "latency_ms_p95",
)
_GATE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*([<>=!]+)\s*(\S+?)\s*$")


@dataclass(frozen=True)
class Gate:
    """One failure condition: the run fails when `metric op threshold` holds."""

    metric: str
    op: str
    threshold: float

    def __str__(self) -> str:
        return f"{self.metric}{self.op}{self.threshold:g}"

    def fails(self, metrics: Mapping[str, Any]) -> bool:
        """Tells whether the metrics meet this failure condition."""
        return OPERATORS[self.op](float(metrics[self.metric]), self.threshold)


def parse_gates(expression: str) -> list[Gate]:
    """Parses comma-separated conditions; raises InvalidInput naming a bad metric, operator or number."""
    gates = []
    for part in expression.split(","):
        if not part.strip():
            continue
        match = _GATE.match(part)
        if not match:
            raise InvalidInput(
                f"cannot read the gate {part.strip()!r}; write metric<op>number, e.g. macro_f1<0.8",
                field="fail_if",
            )
        metric, op, number = match.groups()
        if metric not in GATEABLE:
            raise InvalidInput(
                f"unknown metric {metric!r} in gate {part.strip()!r}; known: {', '.join(GATEABLE)}",
                field="fail_if",
            )
        if op not in OPERATORS:
            raise InvalidInput(
                f"unknown operator {op!r} in gate {part.strip()!r}; use one of {', '.join(OPERATORS)}",
                field="fail_if",
            )
        try:
            threshold = float(number)
        except ValueError:
            raise InvalidInput(
                f"{number!r} in gate {part.strip()!r} is not a number", field="fail_if"
            ) from None
        gates.append(Gate(metric, op, threshold))
    if not gates:
        raise InvalidInput("the gate expression is empty", field="fail_if")
    return gates


def failed_gates(gates: list[Gate], metrics: Mapping[str, Any]) -> list[str]:
    """Returns a line per failed gate, with the measured value."""
    return [
        f"{gate} (measured {float(metrics[gate.metric]):.4g})"
        for gate in gates
        if gate.fails(metrics)
    ]
