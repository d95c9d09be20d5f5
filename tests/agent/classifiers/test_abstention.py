"""Abstention: a top cause backed by wording alone hands half its case's known mass to unknown."""

from __future__ import annotations

import math

import numpy as np

from agent.classifiers.abstention import has_domain_evidence, unsupported_to_unknown
from agent.classifiers.features import case_fragment
from tests.support.local_cases import event, make_local_case

CLASSES = ["carrier_delay", "credit_hold"]


def test_cues_codes_and_decisive_facts_count_as_domain_evidence() -> None:
    assert has_domain_evidence({"cue=carrier_delay": 0.7}, "carrier_delay")
    assert has_domain_evidence({"code_cause=credit_hold": 1.0}, "credit_hold")
    assert has_domain_evidence({"credit_blocked": 1.0}, "credit_hold")
    assert not has_domain_evidence({"cue=carrier_delay": 0.7, "sys=TMS": 1.0}, "credit_hold")


def test_a_case_whose_top_cause_rests_on_wording_alone_goes_to_unknown() -> None:
    probs = np.array([[0.7, 0.2, 0.1], [0.7, 0.2, 0.1]])
    facts = [{"cue=carrier_delay": 0.7}, {"cue=credit_hold": 0.7}]
    out = unsupported_to_unknown(probs, CLASSES, facts)
    assert np.allclose(out[0], probs[0])
    assert np.allclose(out[1], [0.35, 0.1, 0.55])
    assert int(np.argmax(out[1])) == 2
    assert math.isclose(float(out[1].sum()), 1.0)


def test_an_unseen_standard_code_is_domain_evidence_through_the_case_fragment() -> None:
    case = make_local_case(events=[event("CARRIER", "status", "see segment", "AY")])
    assert has_domain_evidence(case_fragment(case).facts, "carrier_cutoff_missed")
