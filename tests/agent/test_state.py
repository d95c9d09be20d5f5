"""The state's case is parsed once per run and never mixed up between runs."""

from __future__ import annotations

import copy

from agent.state import TriageState, case_of
from tests.support.cases import make_case


def test_the_same_case_dict_is_parsed_once() -> None:
    state: TriageState = {"case": make_case()}
    assert case_of(state) is case_of({**state})


def test_an_equal_but_distinct_dict_is_parsed_again() -> None:
    raw = make_case(case_id="EXC-1")
    first = case_of({"case": raw})
    again = case_of({"case": copy.deepcopy(raw)})
    assert again is not first
    assert again == first


def test_a_different_case_gets_its_own_model() -> None:
    one = case_of({"case": make_case(case_id="EXC-1")})
    other = case_of({"case": make_case(case_id="EXC-2")})
    assert (one.case_id, other.case_id) == ("EXC-1", "EXC-2")
