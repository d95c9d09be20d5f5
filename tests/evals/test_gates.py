"""Gates parse `metric<op>number` lists, fail when their condition holds and reject bad input."""

from __future__ import annotations

import pytest

from core.errors import InvalidInput
from evals.gates import Gate, failed_gates, parse_gates

METRICS = {"macro_f1": 0.75, "ece": 0.04, "policy_violations": 0}


def test_parses_comma_separated_conditions_with_spaces() -> None:
    assert parse_gates(" macro_f1 < 0.8 , ece>=0.05") == [
        Gate("macro_f1", "<", 0.8),
        Gate("ece", ">=", 0.05),
    ]


def test_a_gate_fails_when_its_condition_holds() -> None:
    failures = failed_gates(parse_gates("macro_f1<0.8,ece>0.05"), METRICS)
    assert failures == ["macro_f1<0.8 (measured 0.75)"]


def test_gates_pass_when_no_condition_holds() -> None:
    assert failed_gates(parse_gates("macro_f1<0.7,ece>0.05,policy_violations>0"), METRICS) == []


def test_boundary_values_follow_the_operator() -> None:
    assert failed_gates(parse_gates("macro_f1<=0.75"), METRICS)
    assert not failed_gates(parse_gates("macro_f1<0.75"), METRICS)


@pytest.mark.parametrize(
    ("expression", "named"),
    [
        ("macro_f2<0.8", "unknown metric 'macro_f2'"),
        ("macro_f1=<0.8", "unknown operator '=<'"),
        ("macro_f1==0.8", "unknown operator '=='"),
        ("macro_f1<high", "'high' in gate 'macro_f1<high' is not a number"),
        ("macro_f1", "cannot read the gate 'macro_f1'"),
        (" , ", "empty"),
    ],
)
def test_bad_expressions_raise_a_clear_error(expression: str, named: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_gates(expression)
    assert named in caught.value.message
    assert caught.value.field == "fail_if"
