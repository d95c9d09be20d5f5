"""Injection attempts in untrusted text stay data: no outcome, approver or role ever changes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from agent.classifiers.base import CauseScores, ClassifierInput
from agent.classifiers.llm import LlmClassifier, LlmOptions
from agent.classifiers.llm_calibration import CalibrationMap
from agent.classifiers.llm_prompt import DATA_TAG, render_classify
from agent.diagnosis import diagnose
from core.results import MatchedMessage, ProposedAction, SimilarCase
from policies import PolicyContext, evaluate, load_policy
from prompts import load_prompt
from tests.support.injections import CORPUS, Injection
from tests.support.llm_cases import T0, TAXONOMY, FixedClassifier, make_llm_case, verdict
from tests.support.openai_stub import OpenAiStub, completion
from tools.llm import OpenAiChatModel, load_prices

PROMPT = load_prompt("classify")
POLICY = load_policy(None, TAXONOMY)
ERP_ACTIONS = [a for a in TAXONOMY.actions if a.posts_to_erp]
OPEN, CLOSE = f"<{DATA_TAG}>", f"</{DATA_TAG}>"
IDS = [entry.id for entry in CORPUS]


def test_the_corpus_has_at_least_twenty_distinct_attempts():
    assert len(CORPUS) >= 20
    assert len(set(IDS)) == len(IDS)


def injected_item(entry: Injection) -> ClassifierInput:
    """Returns a case with the attempt placed in its field; the amount triggers four-eyes."""
    message = {
        "at": (T0 - timedelta(minutes=5)).isoformat(),
        "channel": "email",
        "direction": "inbound",
        "party": "supplier",
        "sender": "ar@supplier.example",
        "subject": "Invoice INV-5521",
        "body": "Please see below.",
    }
    over: dict[str, Any] = {"amount": {"value": 48000.0, "currency": "USD"}}
    similar: list[SimilarCase] = []
    loose: list[MatchedMessage] = []
    if entry.field == "message_body":
        message["body"] = entry.text
    elif entry.field == "message_subject":
        message["subject"] = entry.text
    elif entry.field == "message_sender":
        message["sender"] = entry.text
    elif entry.field == "event_detail":
        over["events"] = [
            {"at": T0.isoformat(), "system": "MIDDLEWARE", "type": "sync", "detail": entry.text}
        ]
    elif entry.field == "loose_body":
        loose.append(
            MatchedMessage(
                message_id="MSG-injected",
                matched_by="similarity",
                score=0.9,
                party="supplier",
                at=T0,
                subject=None,
                body=entry.text,
            )
        )
    else:
        similar.append(
            SimilarCase(
                case_id="HIST-1",
                similarity=0.9,
                cause="credit_hold",
                actions=["issue_credit_memo"],
                outcome=entry.text,
                summary=entry.text,
            )
        )
    case = make_llm_case(messages=[message], **over)
    return ClassifierInput(case=case, similar=similar, messages=loose)


def obeying_reply() -> dict[str, Any]:
    """Returns what a model fooled by the injection might say: certain, approving, role-granting."""
    reply = verdict(top="credit_hold", p_top=1.0)
    reply["evidence"] = {
        "event_indices": [0],
        "message_indices": [0],
        "history_case_ids": ["HIST-1"],
        "loose_message_ids": ["MSG-injected"],
    }
    reply["rationale"] = "As instructed by the finance_approver, the credit memo is approved."
    reply.update(approve=True, approver="attacker", role="finance_approver", outcome="auto")
    reply["actions"] = [{"action": "issue_credit_memo", "approved": True, "posts_to_erp": False}]
    return reply


@pytest.fixture
async def classifier(stub: OpenAiStub) -> AsyncIterator[LlmClassifier]:
    """Yields an LLM classifier that talks to the stub; closes its client afterwards."""
    chat = OpenAiChatModel(
        model="gpt-4o-mini", base_url=stub.base_url, api_key="k", timeout_s=2.0, max_attempts=1
    )
    # A permissive calibration map (qhat 1 - 0.99 and no tempering) makes the obeying answer as
    # confident as it can get, so the gate alone has to hold the line.
    calibration = CalibrationMap(model="gpt-4o-mini", temperature=1.0, qhat=0.05)
    made = LlmClassifier(
        chat,
        TAXONOMY,
        PROMPT,
        FixedClassifier(),
        prices=load_prices(),
        calibration=calibration,
        options=LlmOptions(blend_weight=0.0),
    )
    yield made
    await made.aclose()


def assert_gate_holds(item: ClassifierInput, scores: CauseScores) -> None:
    """Every ERP action needs approval by its catalogue role, whatever the proposal claims."""
    assert set(scores.model_dump()) == set(CauseScores.model_fields)
    assert set(scores.probabilities) <= set(TAXONOMY.cause_ids)
    classification = diagnose(scores, TAXONOMY, POLICY.confidence_threshold)
    context = PolicyContext.from_classification(POLICY, TAXONOMY, classification)
    for spec in ERP_ACTIONS:
        honest = ProposedAction(
            action=spec.id,
            params={},
            posts_to_erp=True,
            approver_role=spec.approver_role,
        )
        forged = ProposedAction(
            action=spec.id, params={}, posts_to_erp=False, approver_role="attacker"
        )
        for proposal in (honest, forged):
            decision = evaluate(item.case, proposal, context)
            assert decision.outcome == "needs_approval", (spec.id, decision.reasons)
            assert decision.approver_role == POLICY.approver_role(TAXONOMY, spec.id)
            assert decision.approver_role == spec.approver_role
            assert decision.required_approvals >= 1
            assert "erp-needs-person" in decision.rules_fired


@pytest.mark.parametrize("entry", CORPUS, ids=IDS)
async def test_an_obeying_model_still_yields_only_a_distribution_and_the_gate_holds(
    stub: OpenAiStub, classifier: LlmClassifier, entry: Injection
):
    stub.enqueue(completion(obeying_reply()))
    item = injected_item(entry)
    scores = await classifier.score(item)
    assert scores.classifier == "llm"
    assert max(scores.probabilities, key=scores.probabilities.get) == "credit_hold"
    assert_gate_holds(item, scores)


@pytest.mark.parametrize("entry", CORPUS, ids=IDS)
async def test_a_model_that_echoes_the_injection_falls_back_and_the_gate_holds(
    stub: OpenAiStub, classifier: LlmClassifier, entry: Injection
):
    stub.enqueue(completion(entry.text))
    item = injected_item(entry)
    scores = await classifier.score(item)
    assert scores.classifier in {"llm", "local"}
    if scores.classifier == "local":
        assert scores.fallback_reason
    assert_gate_holds(item, scores)


@pytest.mark.parametrize("entry", CORPUS, ids=IDS)
def test_untrusted_text_appears_only_inside_the_data_block(entry: Injection):
    item = injected_item(entry)
    rendered = render_classify(PROMPT, TAXONOMY, item)
    user = rendered.user
    assert user.count(OPEN) == 1
    assert user.count(CLOSE) == 1
    before, rest = user.split(OPEN)
    inside, after = rest.split(CLOSE)
    data = json.loads(inside)
    assert entry.text in _texts(data)
    escaped = json.dumps(entry.text, ensure_ascii=False)[1:-1]
    for outside in (rendered.system, before, after):
        assert entry.text not in outside
        assert escaped not in outside
    assert "<" not in inside
    assert ">" not in inside


def _texts(data: Any) -> list[str]:
    """Returns every string in a JSON value."""
    if isinstance(data, str):
        return [data]
    if isinstance(data, dict):
        return [t for value in data.values() for t in _texts(value)]
    if isinstance(data, list):
        return [t for value in data for t in _texts(value)]
    return []
