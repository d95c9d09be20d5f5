"""The classify node: the current classifier scores the evidence, the diagnosis applies the policy."""

from __future__ import annotations

from dataclasses import replace

from agent.classifiers.base import CauseScores, ClassifierInput
from agent.deps import ClassifierSlot
from agent.nodes.classify import make_classify
from core.store.db import Database
from tests.support.nodes import ScriptedClassifier, make_deps, state_of, stored_case


async def test_the_classifier_sees_the_case_and_its_evidence_and_a_sure_cause_is_kept(
    db: Database,
) -> None:
    classifier = ScriptedClassifier({"inventory_discrepancy": 0.95, "unknown": 0.05})
    deps = make_deps(db, classifiers=ClassifierSlot(classifier))
    case = await stored_case(db)
    similar = {
        "case_id": "H-1",
        "similarity": 0.9,
        "cause": "inventory_discrepancy",
        "actions": ["create_cycle_count"],
        "outcome": "fixed",
        "summary": "short pick",
    }
    update = await make_classify(deps)(state_of(case, similar=[similar], messages=[]))
    (seen,) = classifier.seen
    assert seen.case.case_id == case.case_id
    assert [s.case_id for s in seen.similar] == ["H-1"]
    classification = update["classification"]
    assert classification["cause"] == "inventory_discrepancy"
    assert classification["classifier"] == "scripted"
    assert classification["routed_reason"] is None


async def test_a_hesitant_classifier_is_routed_to_a_person(db: Database) -> None:
    classifier = ScriptedClassifier({"inventory_discrepancy": 0.4, "carrier_delay": 0.35})
    deps = make_deps(db, classifiers=ClassifierSlot(classifier))
    update = await make_classify(deps)(state_of(await stored_case(db)))
    assert update["classification"]["routed_reason"] is not None


async def test_a_replaced_classifier_answers_the_next_case(db: Database) -> None:
    deps = make_deps(db)
    deps.classifiers.replace(ScriptedClassifier({"credit_hold": 0.97, "unknown": 0.03}))
    update = await make_classify(deps)(state_of(await stored_case(db)))
    assert update["classification"]["cause"] == "credit_hold"


async def test_the_decided_cause_carries_what_the_case_itself_holds_for_it(db: Database) -> None:
    """An inventory case backs inventory_discrepancy (on-hand facts, count cues), not credit_hold."""
    case = await stored_case(db)
    backed = make_deps(
        db, classifiers=ClassifierSlot(ScriptedClassifier({"inventory_discrepancy": 0.95}))
    )
    update = await make_classify(backed)(state_of(case))
    assert "fact:onhand_differs" in update["classification"]["own_evidence"]
    assert "cue:event" in update["classification"]["own_evidence"]
    unbacked = make_deps(db, classifiers=ClassifierSlot(ScriptedClassifier({"credit_hold": 0.95})))
    update = await make_classify(unbacked)(state_of(case))
    assert update["classification"]["cause"] == "credit_hold"
    assert update["classification"]["own_evidence"] == []


async def test_the_decided_cause_carries_what_the_case_says_against_it(db: Database) -> None:
    """A case whose own note says the credit check passed holds counter evidence of a credit hold."""
    case = await stored_case(
        db,
        case_id="EXC-CLEARED-1",
        attributes={"credit_status": "ok"},
        stalled_step="order on hold: credit check passed, still not released",
    )
    deps = make_deps(db, classifiers=ClassifierSlot(ScriptedClassifier({"credit_hold": 0.95})))
    update = await make_classify(deps)(state_of(case))
    assert update["classification"]["counter_evidence"] == [
        "cleared:case",
        "fact:credit_in_order",
    ]
    other = make_deps(
        db, classifiers=ClassifierSlot(ScriptedClassifier({"inventory_discrepancy": 0.95}))
    )
    update = await make_classify(other)(state_of(case))
    assert update["classification"]["counter_evidence"] == []


async def test_a_cause_the_case_says_is_absent_gives_way_to_the_next(db: Database) -> None:
    """Counter evidence lowers the cause it counters, whichever classifier scored the case.

    The cause that then leads carries the ruled-out one as counter evidence of its own, so that
    what a text rules out can hold an action back but never make another run.
    """
    case = await stored_case(
        db,
        case_id="EXC-CLEARED-2",
        attributes={"credit_status": "ok"},
        stalled_step="order on hold: credit check passed, still not released",
    )
    scripted = ScriptedClassifier(
        {"credit_hold": 0.5, "inventory_discrepancy": 0.45, "unknown": 0.05}
    )
    deps = make_deps(db, classifiers=ClassifierSlot(scripted))
    classification = (await make_classify(deps)(state_of(case)))["classification"]
    assert classification["cause"] == "inventory_discrepancy"
    assert classification["probabilities"]["credit_hold"] < 0.2
    # The runner-up leads only because the first was ruled out: a person checks before it runs.
    assert classification["counter_evidence"] == ["ruled_out:credit_hold"]
    plain = await stored_case(db, case_id="EXC-PLAIN-2")
    classification = (await make_classify(deps)(state_of(plain)))["classification"]
    assert classification["probabilities"]["credit_hold"] == 0.5


async def test_the_policy_floor_under_the_conformal_qhat_widens_the_set(db: Database) -> None:
    """The shipped policy's floor puts a runner-up at 0.1 in the set: a person decides."""
    sure = CauseScores(
        probabilities={"inventory_discrepancy": 0.88, "integration_failure": 0.1, "unknown": 0.02},
        classifier="scripted",
        conformal_qhat=0.5,
    )
    deps = make_deps(db, classifiers=ClassifierSlot(FixedScores(sure)))
    assert deps.policy.conformal_qhat_floor >= 0.9
    update = await make_classify(deps)(state_of(await stored_case(db)))
    assert update["classification"]["prediction_set"] == [
        "inventory_discrepancy",
        "integration_failure",
    ]
    lenient = deps.policy.model_copy(update={"conformal_qhat_floor": 0.0})
    update = await make_classify(replace(deps, policy=lenient))(state_of(await stored_case(db)))
    assert update["classification"]["prediction_set"] == ["inventory_discrepancy"]


class FixedScores:
    """Answers every case with the same scores, conformal qhat included."""

    name = "fixed"

    def __init__(self, scores: CauseScores) -> None:
        self.scores = scores

    async def score(self, item: ClassifierInput) -> CauseScores:
        """Returns the fixed scores."""
        return self.scores
