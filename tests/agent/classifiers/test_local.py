"""The local classifier: full calibrated distributions, evidence, conformal qhat, persistence."""

from __future__ import annotations

import math
import pickle
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from sklearn.model_selection import StratifiedKFold

from agent.classifiers.base import ClassifierInput
from agent.classifiers.conformal import prediction_set
from agent.classifiers.cues import CUES, count_cues
from agent.classifiers.ensemble import SigmoidEnsemble, calibrated_ensemble, fit_ensemble
from agent.classifiers.features import (
    FeatureSpace,
    FrozenFeatures,
    attribute_facts,
    case_fragment,
)
from agent.classifiers.local import (
    FORMAT_VERSION,
    LocalClassifier,
    LocalModel,
    load_local_model,
    train_local_model,
)
from core.errors import ConfigurationError
from core.models import Case, ResolvedCase
from tests.support.local_cases import (
    cutoff_case,
    event,
    history,
    history_with_unknowns,
    make_local_case,
    matched,
    message,
    similar,
    taxonomy,
)


@cache
def trained() -> LocalModel:
    """Returns one model trained on the hand-written history, shared because training takes ~1 s."""
    return train_local_model(history(), taxonomy(), alpha=0.1, seed=0)


async def test_probabilities_cover_every_taxonomy_cause_and_sum_to_one() -> None:
    scores = await LocalClassifier(trained()).score(ClassifierInput(case=cutoff_case()))
    assert list(scores.probabilities) == taxonomy().cause_ids
    assert math.isclose(sum(scores.probabilities.values()), 1.0, abs_tol=1e-9)
    assert all(0.0 <= p <= 1.0 for p in scores.probabilities.values())


async def test_causes_without_training_data_get_zero_probability() -> None:
    scores = await LocalClassifier(trained()).score(ClassifierInput(case=cutoff_case()))
    assert scores.probabilities["compliance_hold"] == 0.0
    assert scores.probabilities["unknown"] == 0.0


async def test_clear_cutoff_case_written_differently_is_classified_as_cutoff() -> None:
    scores = await LocalClassifier(trained()).score(ClassifierInput(case=cutoff_case()))
    top = max(scores.probabilities, key=lambda c: scores.probabilities[c])
    assert top == "carrier_cutoff_missed"
    assert scores.classifier == "local"
    assert (scores.model or "").startswith("local-logreg-")


async def test_credit_block_attribute_and_wording_give_credit_hold() -> None:
    case = make_local_case(
        workflow="order_release",
        stalled_step="order not released to warehouse",
        events=[event("FINANCE", "hold_applied", "Account exceeded credit limit", None)],
        attributes={"credit_status": "blocked"},
    )
    scores = await LocalClassifier(trained()).score(ClassifierInput(case=case))
    assert max(scores.probabilities, key=lambda c: scores.probabilities[c]) == "credit_hold"


async def test_evidence_cites_the_decisive_event_first_and_skips_unrelated_message() -> None:
    scores = await LocalClassifier(trained()).score(ClassifierInput(case=cutoff_case()))
    assert scores.evidence.event_indices[0] == 2
    assert len(scores.evidence.event_indices) <= 3
    assert 0 not in scores.evidence.message_indices


async def test_evidence_cites_similar_cases_and_loose_messages_of_the_predicted_cause() -> None:
    item = ClassifierInput(
        case=cutoff_case(),
        similar=[similar("H-1", "credit_hold"), similar("H-2", "carrier_cutoff_missed")],
        messages=[
            matched("MSG-a", "Driver left at cutoff, trailer was full"),
            matched("MSG-b", "Please find our updated price list", party="supplier"),
        ],
    )
    scores = await LocalClassifier(trained()).score(item)
    assert scores.evidence.history_case_ids == ["H-2"]
    assert scores.evidence.loose_message_ids[0] == "MSG-a"
    assert "MSG-b" not in scores.evidence.loose_message_ids


async def test_scores_carry_the_models_conformal_qhat() -> None:
    model = trained()
    scores = await LocalClassifier(model).score(ClassifierInput(case=cutoff_case()))
    assert scores.conformal_qhat == model.qhat
    assert 0.0 <= model.qhat <= 1.0
    assert prediction_set(scores.probabilities, model.qhat)[0] == "carrier_cutoff_missed"


async def test_similar_case_vote_shifts_probabilities_and_keeps_them_normalised() -> None:
    item = ClassifierInput(case=cutoff_case(), similar=[similar("H-9", "credit_hold", 0.9)])
    plain = await LocalClassifier(trained()).score(item)
    blended = await LocalClassifier(trained(), knn_weight=0.3).score(item)
    assert blended.probabilities["credit_hold"] > plain.probabilities["credit_hold"]
    assert math.isclose(sum(blended.probabilities.values()), 1.0, abs_tol=1e-9)


def test_fast_scoring_matches_the_calibrated_sklearn_ensemble() -> None:
    cases = history()
    space = FeatureSpace()
    rows = space.fit_transform([case_fragment(c) for c in cases])
    y = np.asarray([c.resolution.cause for c in cases])
    splitter = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
    estimator = calibrated_ensemble("sigmoid", splitter, 1.0, 0)
    fit_ensemble(estimator, rows, y)
    fast = SigmoidEnsemble.from_estimator(estimator)
    np.testing.assert_allclose(fast.predict_proba(rows[:10]), estimator.predict_proba(rows[:10]))


def test_a_sigmoid_model_holds_no_sklearn_objects() -> None:
    """The served model is plain arrays: frozen features and the fast ensemble, no estimator."""
    model = trained()
    assert isinstance(model.features, FrozenFeatures)
    assert model.fast is not None
    assert model.estimator is None
    assert b"sklearn" not in pickle.dumps(model)


def test_an_isotonic_model_keeps_its_estimator_and_scores_the_same_after_loading(
    tmp_path: Path,
) -> None:
    model = train_local_model(history(), taxonomy(), method="isotonic")
    assert model.fast is None
    assert model.estimator is not None
    model.save(tmp_path / "local.pkl")
    loaded = load_local_model(tmp_path / "local.pkl")
    assert loaded.probabilities(cutoff_case()) == model.probabilities(cutoff_case())


def test_a_saved_model_scores_the_history_as_the_trained_one(tmp_path: Path) -> None:
    model = trained()
    model.save(tmp_path / "local.pkl")
    loaded = load_local_model(tmp_path / "local.pkl")
    for case in history():
        mine, theirs = loaded.probabilities(case), model.probabilities(case)
        assert list(mine) == list(theirs)
        np.testing.assert_allclose(list(mine.values()), list(theirs.values()), rtol=1e-6)


def test_a_model_file_of_an_older_format_is_refused_for_retraining(tmp_path: Path) -> None:
    path = tmp_path / "local.pkl"
    trained().save(path)
    payload = pickle.loads(path.read_bytes())
    payload["format"] = FORMAT_VERSION - 1
    path.write_bytes(pickle.dumps(payload))
    with pytest.raises(ConfigurationError, match="retrain"):
        load_local_model(path)


def test_save_and_load_round_trip_gives_identical_predictions(tmp_path: Path) -> None:
    model = trained()
    path = tmp_path / "models" / "local.pkl"
    model.save(path)
    loaded = load_local_model(path)
    assert loaded.probabilities(cutoff_case()) == model.probabilities(cutoff_case())
    assert loaded.qhat == model.qhat
    assert [p.name for p in path.parent.iterdir()] == ["local.pkl"]


def test_loading_a_corrupt_file_raises_configuration_error(tmp_path: Path) -> None:
    path = tmp_path / "local.pkl"
    path.write_bytes(b"not a pickle")
    with pytest.raises(ConfigurationError):
        load_local_model(path)


def test_history_with_a_single_cause_raises_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="2 or more causes"):
        train_local_model(history(("credit_hold",)), taxonomy())


def test_history_with_too_few_cases_raises_configuration_error() -> None:
    few = [c for c in history() if c.case_id.endswith(("-0", "-1"))]
    with pytest.raises(ConfigurationError, match="at least"):
        train_local_model(few, taxonomy())


def test_cases_labelled_outside_the_taxonomy_are_skipped() -> None:
    stray = history(("credit_hold",))[0].model_dump()
    stray["case_id"] = "H-stray"
    stray["resolution"]["cause"] = "alien_invasion"
    model = train_local_model([*history(), ResolvedCase.model_validate(stray)], taxonomy())
    assert model.info["skipped_cases"] == 1
    assert "alien_invasion" not in model.classes


def test_attribute_facts_capture_differences_regardless_of_wording() -> None:
    facts = attribute_facts(
        {
            "erp_on_hand": 16,
            "wms_on_hand": 4,
            "credit_status": "on hold",
            "po_price": 43.0,
            "invoice_price": 46.0,
            "po_ack_received": False,
            "order_uom": "CS",
            "wms_uom": "EA",
            "last_sync_error": "HTTP 503",
        }
    )
    assert facts["onhand_differs"] == 1.0
    assert facts["onhand_gap"] == pytest.approx(0.75)
    assert facts["credit_blocked"] == 1.0
    assert facts["price_differs"] == 1.0
    assert facts["po_ack_missing"] == 1.0
    assert facts["uom_differs"] == 1.0
    assert facts["sync_error"] == 1.0


def test_cue_lexicon_maps_synonyms_to_their_cause() -> None:
    assert count_cues("Driver no-show, freight still on the dock") == {"carrier_cutoff_missed": 2}
    assert count_cues("We are short-staffed and the backlog keeps growing") == {
        "warehouse_congestion": 2
    }
    assert set(count_cues("Missing certificate of origin, held by customs")) == {"compliance_hold"}


def test_cue_patterns_are_lower_case_because_text_is_lowered_before_matching() -> None:
    assert all(p == p.lower() for patterns in CUES.values() for p in patterns)


def test_retrieved_loose_message_text_enters_the_case_features() -> None:
    case = make_local_case(events=[], messages=[message("status?", "customer")])
    alone = case_fragment(case)
    with_loose = case_fragment(case, [matched("MSG-1", "Our driver left early, trailer full")])
    assert "cue=carrier_cutoff_missed" not in alone.facts
    assert with_loose.facts["cue=carrier_cutoff_missed"] > 0
    assert with_loose.facts["loose_by_refs"] == 1.0


@cache
def trained_with_unknowns() -> LocalModel:
    """Returns a model whose history holds genuinely unknown cases, so it learns to abstain."""
    return train_local_model(history_with_unknowns(), taxonomy(), alpha=0.1, seed=0)


def test_price_facts_decide_a_case_written_in_words_the_history_never_used() -> None:
    case = make_local_case(
        workflow="invoice_match",
        stalled_step="vendor bill parked",
        events=[event("ERP", "doc_parked", "Vendor bill disagrees with the buy order", None)],
        attributes={"contract_unit_price": 10.0, "invoice_unit_price": 12.4},
    )
    probs = trained().probabilities(case)
    assert max(probs, key=lambda c: probs[c]) == "pricing_mismatch"


def test_attribute_facts_read_keys_spelled_another_way() -> None:
    facts = attribute_facts(
        {
            "OnHand_ERP": 40,
            "onhand_wms": 12,
            "credit_limit": 5000,
            "credit_exposure": 7200,
            "backlog_orders": 900,
            "backlog_normal": 300,
        }
    )
    assert facts["onhand_differs"] == 1.0
    assert facts["credit_blocked"] == 1.0
    assert facts["backlog_high"] == 1.0


async def test_vague_case_puts_real_probability_on_unknown_and_clear_case_does_not() -> None:
    model = trained_with_unknowns()
    vague = make_local_case(
        workflow="order_release",
        stalled_step="order waiting",
        events=[event("ERP", "status_update", "Status refreshed", None)],
        messages=[message("can someone look at this, no idea why it is stuck", "internal")],
    )
    vague_p = model.probabilities(vague)
    clear_p = model.probabilities(cutoff_case())
    assert model.abstention is not None
    assert vague_p["unknown"] > 0.3
    assert vague_p["unknown"] > 3 * clear_p["unknown"]
    assert max(clear_p, key=lambda c: clear_p[c]) == "carrier_cutoff_missed"
    assert math.isclose(sum(vague_p.values()), 1.0, abs_tol=1e-9)


async def test_abstaining_model_scores_through_the_classifier_with_a_wider_set_when_unsure() -> (
    None
):
    model = trained_with_unknowns()
    vague = make_local_case(events=[], messages=[message("could be anything tbh", "internal")])
    scores = await LocalClassifier(model).score(ClassifierInput(case=vague))
    clear = await LocalClassifier(model).score(ClassifierInput(case=cutoff_case()))
    vague_set = prediction_set(scores.probabilities, model.qhat)
    assert len(vague_set) >= len(prediction_set(clear.probabilities, model.qhat))
    assert "unknown" in vague_set


def test_attribute_facts_flag_a_labour_plan_short_of_people() -> None:
    short = attribute_facts({"labor_headcount_planned": 40, "labor_headcount_actual": 22})
    assert short["labour_differs"] == 1.0
    assert short["labour_short"] == 1.0
    over = attribute_facts({"labour_plan_hours": 300, "labour_actual_hours": 340})
    assert over["labour_differs"] == 1.0
    assert "labour_short" not in over
    even = attribute_facts({"headcount_plan": 30, "headcount_actual": 30})
    assert "labour_short" not in even


def test_counts_of_failed_interface_messages_are_a_sync_error() -> None:
    assert attribute_facts({"dead_letter_count": 1})["sync_error"] == 1.0
    assert attribute_facts({"edi_error_count": "3"})["sync_error"] == 1.0
    assert "sync_error" not in attribute_facts({"dead_letter_count": 0})
    assert "sync_error" not in attribute_facts({"pick_error_count": 3})


@pytest.mark.parametrize(
    "attributes",
    [
        {"contract_rate": 3.75, "invoice_rate": 4.10},
        {"order_fx_rate": 18.9, "invoice_fx_rate": 20.1},
        {"tax_expected": 0.0, "tax_invoiced": 4522.0},
        {"billed_price": 448.5, "credited_price": 412.0},
    ],
)
def test_one_charge_stated_differently_by_two_documents_is_a_price_difference(
    attributes: dict[str, float],
) -> None:
    assert attribute_facts(attributes)["price_differs"] == 1.0


def test_different_charges_are_never_compared() -> None:
    facts = attribute_facts({"tax_rate": 0.2, "fx_rate": 1.1, "freight_cost": 90.0})
    assert not {"price_differs", "price_agrees"} & set(facts)
    assert attribute_facts({"contract_rate": 3.75, "invoice_rate": 3.75})["price_agrees"] == 1.0


def test_a_ship_notice_short_of_the_po_quantity_is_a_short_shipment() -> None:
    assert attribute_facts({"po_qty": 1000, "asn_qty": 600})["qty_receipt_differs"] == 1.0
    assert attribute_facts({"po_qty": 1000, "qty_shipped": 1000})["qty_receipt_agrees"] == 1.0
    # An outbound order shipped short is the DC's pick, not the supplier's shipment.
    assert "qty_receipt_differs" not in attribute_facts({"order_qty": 10, "qty_shipped": 8})


async def test_a_statement_that_the_cause_is_undetermined_raises_unknown_by_its_odds() -> None:
    """History holds no such statement to learn from; the model applies its likelihood ratio."""
    model = trained_with_unknowns()

    def case_saying(note: str) -> Case:
        return make_local_case(
            events=[event("TMS", "status_update", "No ship confirmation yet", None)],
            messages=[message(f"Checked with the dock and the carrier. {note}", "internal")],
        )

    plain = model.probabilities(case_saying("Will look again."))["unknown"]
    doubtful = model.probabilities(case_saying("Can't call it."))["unknown"]
    plain_odds, doubtful_odds = plain / (1 - plain), doubtful / (1 - doubtful)
    assert doubtful_odds > 5 * plain_odds
