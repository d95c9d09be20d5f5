"""The LLM classifier: distrusts stated numbers, checks citations, calibrates, falls back."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from agent.classifiers.llm import LlmClassifier, LlmOptions, cap_confidence
from agent.classifiers.llm_calibration import (
    CalibrationMap,
    CalibrationRecord,
    calibration_path,
    expected_calibration_error,
    fit_calibration,
)
from agent.classifiers.llm_prompt import render_classify
from agent.diagnosis import diagnose
from app.llm_factory import build_llm_classifier
from core.settings import Settings
from core.taxonomy import Taxonomy
from prompts import PROMPT_DIR, load_prompt
from tests.support.llm_cases import LOOSE_ID, TAXONOMY, FixedClassifier, make_item, verdict
from tests.support.openai_stub import (
    OpenAiStub,
    completion,
    error,
    rate_limited,
    server_error,
)
from tools.llm import (
    CircuitBreaker,
    FakeChatModel,
    OpenAiChatModel,
    ReplayMiss,
    load_prices,
)

PROMPT = load_prompt("classify")
PRICES = load_prices()


def make_classifier(chat: Any, fallback: Any = None, **over: Any) -> LlmClassifier:
    options = over.pop("options", LlmOptions(blend_weight=0.0))
    return LlmClassifier(
        chat,
        over.pop("taxonomy", TAXONOMY),
        PROMPT,
        fallback or FixedClassifier(),
        prices=PRICES,
        options=options,
        **over,
    )


async def score_with(reply: Any, **over: Any) -> Any:
    chat = FakeChatModel([reply], model="gpt-4o-mini")
    return await make_classifier(chat, **over).score(make_item())


# ---- the distribution ----------------------------------------------------------------------


async def test_a_good_reply_becomes_a_cause_distribution_with_provenance():
    scores = await score_with(verdict())
    assert scores.classifier == "llm"
    assert scores.model == "gpt-4o-mini"
    assert scores.prompt_hash == PROMPT.sha256
    assert set(scores.probabilities) == set(TAXONOMY.cause_ids)
    assert sum(scores.probabilities.values()) == pytest.approx(1.0)
    assert max(scores.probabilities, key=scores.probabilities.get) == "carrier_cutoff_missed"
    assert scores.evidence.event_indices == [1]
    assert scores.evidence.message_indices == [0]
    assert scores.evidence.history_case_ids == ["HIST-7"]
    assert scores.evidence.loose_message_ids == [LOOSE_ID]
    assert scores.usage["prompt_tokens"] == 100
    assert scores.usage["cost_usd"] == pytest.approx((100 * 0.00015 + 20 * 0.0006) / 1000)
    assert scores.usage["llm_attempts"] == 1
    assert "structured_output" in scores.flags
    assert scores.rationale.startswith("Goods were staged")


async def test_probabilities_not_summing_to_one_are_normalised_and_flagged():
    reply = verdict()
    for entry in reply["probabilities"]:
        entry["probability"] *= 3
    scores = await score_with(reply)
    assert sum(scores.probabilities.values()) == pytest.approx(1.0)
    assert "probabilities_renormalised" in scores.flags


async def test_causes_outside_the_taxonomy_are_dropped_and_flagged():
    reply = verdict()
    reply["probabilities"].append({"cause": "approve_credit_memo", "probability": 0.5})
    scores = await score_with(reply)
    assert "approve_credit_memo" not in scores.probabilities
    assert "unknown_cause_dropped" in scores.flags


async def test_a_stated_top_cause_that_is_not_the_argmax_is_flagged():
    scores = await score_with(verdict(top_cause="credit_hold"))
    assert max(scores.probabilities, key=scores.probabilities.get) == "carrier_cutoff_missed"
    assert "top_cause_mismatch" in scores.flags


# ---- citations ------------------------------------------------------------------------------


async def test_citations_to_missing_items_are_dropped_and_counted():
    evidence = {
        "event_indices": [1, 7, -1, 1],
        "message_indices": [5],
        "history_case_ids": ["HIST-7", "HIST-404"],
        "loose_message_ids": ["MSG-nope"],
    }
    scores = await score_with(verdict(evidence=evidence))
    assert scores.evidence.event_indices == [1]
    assert scores.evidence.message_indices == []
    assert scores.evidence.history_case_ids == ["HIST-7"]
    assert scores.usage["citations_dropped"] == 5
    assert "citations_dropped" in scores.flags
    assert "no_valid_citation" not in scores.flags


async def test_no_valid_citation_caps_confidence_and_flags():
    evidence = {
        "event_indices": [9],
        "message_indices": [],
        "history_case_ids": ["HIST-404"],
        "loose_message_ids": [],
    }
    scores = await score_with(verdict(p_top=0.97, evidence=evidence))
    assert max(scores.probabilities.values()) == pytest.approx(0.5)
    assert max(scores.probabilities, key=scores.probabilities.get) == "carrier_cutoff_missed"
    assert sum(scores.probabilities.values()) == pytest.approx(1.0)
    assert "no_valid_citation" in scores.flags


def test_cap_keeps_the_ranking_and_leaves_modest_distributions_alone():
    capped = cap_confidence({"a": 0.8, "b": 0.15, "c": 0.05}, 0.5)
    assert capped["a"] == pytest.approx(0.5)
    assert capped["a"] > capped["b"] > capped["c"]
    assert cap_confidence({"a": 0.4, "b": 0.6}, 0.7) == {"a": 0.4, "b": 0.6}


# ---- calibration ----------------------------------------------------------------------------


def overconfident_records(n: int, seed: int) -> list[CalibrationRecord]:
    """Returns labels drawn from softmax(z) while the 'model' states softmax(3z): over-confident."""
    rng = np.random.default_rng(seed)
    causes = TAXONOMY.known_causes[:5]
    records = []
    for _ in range(n):
        z = rng.normal(0.0, 1.2, size=len(causes))
        truth = np.exp(z) / np.exp(z).sum()
        stated = np.exp(3 * z) / np.exp(3 * z).sum()
        label = causes[int(rng.choice(len(causes), p=truth))]
        records.append(
            CalibrationRecord(probabilities=dict(zip(causes, stated, strict=True)), label=label)
        )
    return records


def test_temperature_calibration_lowers_ece_on_an_overconfident_model():
    fitted = fit_calibration(overconfident_records(1500, seed=1), model="m")
    held_out = overconfident_records(1500, seed=2)
    labels = [r.label for r in held_out]
    before = expected_calibration_error([r.probabilities for r in held_out], labels)
    after = expected_calibration_error([fitted.apply(r.probabilities) for r in held_out], labels)
    assert fitted.temperature == pytest.approx(3.0, rel=0.25)
    assert before > 0.1
    assert after < before / 2
    assert fitted.ece_after < fitted.ece_before
    assert 0 < fitted.qhat <= 1


async def test_a_calibration_map_is_applied_and_its_qhat_used():
    calibration = CalibrationMap(model="gpt-4o-mini", temperature=2.0, qhat=0.6)
    raw = await score_with(verdict())
    calibrated = await score_with(verdict(), calibration=calibration)
    assert max(calibrated.probabilities.values()) < max(raw.probabilities.values())
    assert "calibrated:temperature" in calibrated.flags
    assert calibrated.conformal_qhat == 0.6


async def test_a_map_fitted_on_another_prompt_is_flagged():
    calibration = CalibrationMap(model="m", temperature=2.0, qhat=0.6, prompt_hash="old")
    scores = await score_with(verdict(), calibration=calibration)
    assert "calibration_prompt_mismatch" in scores.flags


async def test_the_stated_only_twin_reports_the_models_own_numbers_for_fitting():
    calibration = CalibrationMap(model="m", temperature=2.0, qhat=0.6)
    chat = FakeChatModel(
        [
            verdict(
                p_top=0.9,
                evidence={
                    "event_indices": [],
                    "message_indices": [],
                    "history_case_ids": [],
                    "loose_message_ids": [],
                },
            )
        ]
    )
    classifier = make_classifier(chat, calibration=calibration, options=LlmOptions())
    scores = await classifier.stated_only().score(make_item())
    assert scores.probabilities["carrier_cutoff_missed"] == pytest.approx(0.9)


async def test_without_a_map_the_result_is_flagged_and_the_conformal_set_holds_every_cause():
    scores = await score_with(verdict())
    assert "uncalibrated" in scores.flags
    decision = diagnose(scores, TAXONOMY, threshold=0.5)
    assert set(decision.prediction_set) == set(TAXONOMY.cause_ids)


async def test_blending_with_a_trained_local_classifier_moves_mass_towards_it():
    local = FixedClassifier({"carrier_delay": 1.0})
    scores = await score_with(verdict(), fallback=local, options=LlmOptions(blend_weight=0.5))
    assert scores.probabilities["carrier_delay"] >= 0.5
    assert "blended_with_local" in scores.flags


async def test_an_untrained_local_classifier_is_not_blended_in():
    local = FixedClassifier({"unknown": 1.0}, flags=["untrained"])
    scores = await score_with(verdict(), fallback=local, options=LlmOptions(blend_weight=0.5))
    assert "blended_with_local" not in scores.flags
    assert scores.probabilities["unknown"] < 0.1


def test_the_factory_loads_the_stored_calibration_map(tmp_path: Path):
    settings = Settings(data_dir=tmp_path, llm_model="gpt-4o-mini")
    CalibrationMap(model="gpt-4o-mini", temperature=1.7, qhat=0.4).save(
        calibration_path(tmp_path, "gpt-4o-mini")
    )
    chat = FakeChatModel([verdict()])
    classifier = build_llm_classifier(settings, FixedClassifier(), tmp_path, chat=chat)
    assert classifier.calibration is not None
    assert classifier.calibration.temperature == 1.7


# ---- failures fall back to the local classifier ---------------------------------------------


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ({"probabilities": "high"}, "schema_mismatch"),
        (verdict(probabilities=[{"cause": "nonsense", "probability": 1.0}]), "no_known_cause"),
    ],
)
async def test_unusable_replies_fall_back_to_the_local_classifier(content: Any, reason: str):
    local = FixedClassifier({"carrier_delay": 1.0})
    scores = await score_with(content, fallback=local)
    assert scores.classifier == "local"
    assert scores.fallback_reason.startswith(f"{reason}: ")
    assert scores.probabilities["carrier_delay"] == 1.0
    assert f"llm_{reason}" in scores.flags


# ---- the prompt -----------------------------------------------------------------------------


def test_causes_and_actions_come_from_configuration_not_the_template():
    template = (PROMPT_DIR / "classify.j2").read_text()
    for cause in TAXONOMY.cause_ids:
        assert cause not in template
    for action in TAXONOMY.actions:
        assert action.id not in template
    custom = Taxonomy.model_validate(
        {
            "causes": [
                {"id": "dock_flooded", "meaning": "Water in the dock."},
                {"id": "unknown", "meaning": "No idea."},
            ],
            "actions": [{"id": "call_plumber", "target": "phone", "posts_to_erp": False}],
        }
    )
    rendered = render_classify(PROMPT, custom, make_item())
    assert "dock_flooded: Water in the dock." in rendered.system
    assert "call_plumber" in rendered.system
    assert "carrier_delay" not in rendered.system


def test_events_and_messages_are_numbered_and_long_texts_truncated():
    item = make_item(stalled_step="x" * 5000)
    rendered = render_classify(PROMPT, TAXONOMY, item, max_text_chars=100)
    assert '"index": 1' in rendered.user
    assert "HIST-7" in rendered.user
    assert "[... 4900 more characters]" in rendered.user
    assert rendered.truncated == 1


# ---- behaviours through the real client and a local server ----------------------------------


async def no_sleep(_: float) -> None:
    return None


StubClassifierMaker = Callable[..., tuple[LlmClassifier, FixedClassifier]]


@pytest.fixture
async def stub_classifier(stub: OpenAiStub) -> AsyncIterator[StubClassifierMaker]:
    """Yields a maker of classifiers that talk to the stub; closes their clients afterwards."""
    made: list[LlmClassifier] = []

    def make(**over: Any) -> tuple[LlmClassifier, FixedClassifier]:
        options: dict[str, Any] = {
            "model": "gpt-4o-mini",
            "base_url": stub.base_url,
            "api_key": "sk-test",
            "timeout_s": 2.0,
            "max_attempts": 3,
            "backoff_initial_s": 0.01,
            "sleep": no_sleep,
        }
        options.update(over)
        local = FixedClassifier({"carrier_delay": 1.0})
        made.append(make_classifier(OpenAiChatModel(**options), local))
        return made[-1], local

    yield make
    for classifier in made:
        await classifier.aclose()


async def test_429_is_retried_and_the_result_shows_it(
    stub: OpenAiStub, stub_classifier: StubClassifierMaker
):
    stub.enqueue(rate_limited("1"), completion(verdict()))
    classifier, _ = stub_classifier()
    scores = await classifier.score(make_item())
    assert scores.classifier == "llm"
    assert scores.fallback_reason is None
    assert scores.usage["llm_attempts"] == 2
    assert "llm_retried" in scores.flags
    assert "llm_attempt_error: HTTP 429 (retry after 1s)" in scores.flags


async def test_500_is_retried_and_the_result_shows_it(
    stub: OpenAiStub, stub_classifier: StubClassifierMaker
):
    stub.enqueue(server_error(500), completion(verdict()))
    classifier, _ = stub_classifier()
    scores = await classifier.score(make_item())
    assert scores.classifier == "llm"
    assert scores.usage["llm_attempts"] == 2
    assert "llm_attempt_error: HTTP 500" in scores.flags


async def test_malformed_json_falls_back_to_local(
    stub: OpenAiStub, stub_classifier: StubClassifierMaker
):
    stub.enqueue(completion('{"probabilities": [{"cause": "carr'))
    classifier, local = stub_classifier()
    scores = await classifier.score(make_item())
    assert scores.classifier == "local"
    assert scores.fallback_reason.startswith("malformed_json: ")
    assert "llm_fallback" in scores.flags
    assert scores.probabilities == local.probabilities
    assert scores.prompt_hash == PROMPT.sha256


async def test_timeout_falls_back_to_local_after_every_attempt(
    stub: OpenAiStub, stub_classifier: StubClassifierMaker
):
    stub.default = completion(verdict(), delay_s=2.0)
    classifier, _ = stub_classifier(timeout_s=0.2, max_attempts=2)
    scores = await classifier.score(make_item())
    assert scores.classifier == "local"
    assert scores.fallback_reason.startswith("timeout: ")
    assert scores.usage["llm_attempts"] == 2
    assert "llm_timeout" in scores.flags


async def test_structured_output_refusal_uses_json_mode_and_says_so(
    stub: OpenAiStub, stub_classifier: StubClassifierMaker
):
    stub.refuse_structured_outputs = True
    stub.default = completion(verdict())
    classifier, _ = stub_classifier()
    scores = await classifier.score(make_item())
    assert scores.classifier == "llm"
    assert "json_mode" in scores.flags
    assert scores.usage["llm_attempts"] == 2
    assert any(f.startswith("llm_attempt_error: structured outputs refused") for f in scores.flags)


async def test_rejected_key_is_not_retried_and_falls_back(
    stub: OpenAiStub, stub_classifier: StubClassifierMaker
):
    stub.enqueue(error(401, "Incorrect API key provided"))
    classifier, _ = stub_classifier()
    scores = await classifier.score(make_item())
    assert scores.classifier == "local"
    assert scores.fallback_reason.startswith("http_401: ")
    assert len(stub.chat_requests()) == 1


async def test_an_open_breaker_falls_back_without_calling_the_endpoint(
    stub: OpenAiStub, stub_classifier: StubClassifierMaker
):
    stub.default = server_error(503)
    breaker = CircuitBreaker(failure_threshold=1, cool_down_s=60)
    classifier, _ = stub_classifier(max_attempts=1, breaker=breaker)
    first = await classifier.score(make_item())
    second = await classifier.score(make_item())
    assert first.fallback_reason.startswith("server_error: ")
    assert second.fallback_reason.startswith("circuit_open: ")
    assert second.classifier == "local"
    assert len(stub.chat_requests()) == 1


async def test_settings_build_a_working_classifier_against_any_base_url(
    stub: OpenAiStub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    for name in ("OPENAI_API_KEY", "TRIAGE_OPENAI_API_KEY", "TRIAGE_LLM_CACHE_DIR"):
        monkeypatch.delenv(name, raising=False)
    stub.enqueue(completion(verdict(), model="llama3.1:8b"))
    settings = Settings(data_dir=tmp_path, openai_base_url=stub.base_url, llm_model="llama3.1:8b")
    assert settings.active_classifier == "llm"
    classifier = build_llm_classifier(settings, FixedClassifier(), tmp_path)
    scores = await classifier.score(make_item())
    await classifier.aclose()
    decision = diagnose(scores, TAXONOMY, threshold=0.6)
    assert decision.classifier == "llm"
    assert decision.prompt_hash == PROMPT.sha256
    assert "unpriced" in scores.flags
    assert stub.chat_requests()[0].headers["authorization"] == "Bearer not-needed"


async def test_a_recorded_run_replays_identically_and_a_miss_never_reaches_the_network(
    stub: OpenAiStub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    recordings = tmp_path / "recordings"
    stub.enqueue(rate_limited("0"), completion(verdict(), model="gpt-4o-mini-2024-07-18"))
    settings = Settings(data_dir=tmp_path, openai_base_url=stub.base_url, llm_cache_dir=recordings)
    recorder = build_llm_classifier(settings, FixedClassifier(), tmp_path)
    recorded = await recorder.score(make_item())
    await recorder.aclose()
    seen = len(stub.chat_requests())
    replayer = build_llm_classifier(settings, FixedClassifier(), tmp_path, replay_dir=recordings)
    replayed = await replayer.score(make_item())
    assert replayed.probabilities == recorded.probabilities
    assert replayed.evidence == recorded.evidence
    assert replayed.usage["cost_usd"] == recorded.usage["cost_usd"]
    assert "replayed" in replayed.flags
    with pytest.raises(ReplayMiss):
        await replayer.score(make_item(case_id="EXC-2", stalled_step="something else"))
    assert len(stub.chat_requests()) == seen == 2
