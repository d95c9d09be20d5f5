"""The LLM classifier: asks a chat model for a cause distribution, then distrusts it carefully."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from pydantic import ValidationError

from agent.classifiers.base import CauseScores, Classifier, ClassifierInput
from agent.classifiers.llm_calibration import CalibrationMap
from agent.classifiers.llm_prompt import (
    SCHEMA_NAME,
    CauseVerdict,
    Citations,
    render_classify,
    verdict_schema,
)
from core.results import Evidence
from core.taxonomy import Taxonomy
from prompts import Prompt
from tools.llm.base import ChatModel, LlmFailure, LlmMalformedReply, LlmReply
from tools.llm.pricing import PriceTable

SUM_TOLERANCE = 0.02
RATIONALE_CHARS = 600
MAX_ERROR_FLAGS = 5


@dataclass(frozen=True)
class LlmOptions:
    """How far the model's own numbers are trusted."""

    blend_weight: float = 0.3
    uncited_cap: float = 0.5
    max_text_chars: int = 2_000


class LlmClassifier:
    """Scores a case with a chat model; falls back to the local classifier when the model fails."""

    name = "llm"

    def __init__(
        self,
        chat: ChatModel,
        taxonomy: Taxonomy,
        prompt: Prompt,
        fallback: Classifier,
        *,
        prices: PriceTable,
        calibration: CalibrationMap | None = None,
        options: LlmOptions | None = None,
    ) -> None:
        self.chat = chat
        self.taxonomy = taxonomy
        self.prompt = prompt
        self.fallback = fallback
        self.prices = prices
        self.calibration = calibration
        self.options = options or LlmOptions()
        self.schema = verdict_schema(taxonomy)

    async def aclose(self) -> None:
        """Closes the chat model's connections (call once, at shutdown)."""
        await self.chat.aclose()

    def stated_only(self) -> LlmClassifier:
        """Returns a twin that reports the model's normalised stated numbers, for fitting a map."""
        return LlmClassifier(
            self.chat,
            self.taxonomy,
            self.prompt,
            self.fallback,
            prices=self.prices,
            calibration=None,
            options=replace(self.options, blend_weight=0.0, uncited_cap=1.0),
        )

    async def score(self, item: ClassifierInput) -> CauseScores:
        """Returns calibrated, citation-checked probabilities, or the local scores on failure."""
        rendered = render_classify(self.prompt, self.taxonomy, item, self.options.max_text_chars)
        try:
            reply = await self.chat.complete_json(
                system=rendered.system,
                user=rendered.user,
                schema=self.schema,
                schema_name=SCHEMA_NAME,
            )
            verdict = parse_verdict(reply)
            probabilities, flags = self._stated_distribution(verdict, reply)
        except LlmFailure as exc:
            return await self._fall_back(item, exc)
        evidence, dropped = validate_citations(verdict.evidence, item)
        usage = self._usage(reply, dropped)
        flags += _reply_flags(reply, dropped, rendered.truncated)
        if "cost_usd" not in usage:
            flags.append("unpriced")
        probabilities, qhat = await self._calibrate(item, probabilities, flags)
        if not _cites_anything(evidence):
            probabilities = cap_confidence(probabilities, self.options.uncited_cap)
            flags.append("no_valid_citation")
        return CauseScores(
            probabilities=probabilities,
            evidence=evidence,
            classifier=self.name,
            model=reply.model,
            rationale=verdict.rationale.strip()[:RATIONALE_CHARS] or None,
            prompt_hash=self.prompt.sha256,
            flags=flags,
            usage=usage,
            conformal_qhat=qhat,
        )

    def _stated_distribution(
        self, verdict: CauseVerdict, reply: LlmReply
    ) -> tuple[dict[str, float], list[str]]:
        """Returns the model's distribution over the taxonomy, normalised, with what was fixed."""
        flags: list[str] = []
        stated = dict.fromkeys(self.taxonomy.cause_ids, 0.0)
        for entry in verdict.probabilities:
            if entry.cause not in stated:
                flags.append("unknown_cause_dropped")
                continue
            # Negative or non-finite numbers are model noise, not evidence.
            value = entry.probability
            stated[entry.cause] += value if 0.0 <= value <= 1.0 else 0.0
        total = sum(stated.values())
        if total <= 0.0:
            raise LlmMalformedReply(
                "the LLM gave no probability to any cause of the taxonomy",
                reason="no_known_cause",
                attempts=reply.attempts,
                attempt_errors=reply.attempt_errors,
            )
        if abs(total - 1.0) > SUM_TOLERANCE:
            flags.append("probabilities_renormalised")
        probabilities = {c: p / total for c, p in stated.items()}
        if verdict.top_cause != max(probabilities, key=lambda c: probabilities[c]):
            flags.append("top_cause_mismatch")
        return probabilities, sorted(set(flags))

    async def _calibrate(
        self, item: ClassifierInput, probabilities: dict[str, float], flags: list[str]
    ) -> tuple[dict[str, float], float]:
        """Returns the calibrated (and blended) distribution and the conformal qhat to use."""
        if self.calibration is not None:
            probabilities = self.calibration.apply(probabilities)
            flags.append("calibrated:temperature")
            if self.calibration.prompt_hash not in (None, self.prompt.sha256):
                flags.append("calibration_prompt_mismatch")
            qhat = self.calibration.qhat if self.calibration.qhat is not None else 1.0
        else:
            # Without a fitted map the stated numbers mean little, so every cause stays in the
            # conformal set and nothing runs without a person.
            flags.append("uncalibrated")
            qhat = 1.0
        weight = self.options.blend_weight
        if weight > 0:
            local = await self.fallback.score(item)
            if "untrained" not in local.flags:
                probabilities = {
                    c: (1 - weight) * p + weight * local.probabilities.get(c, 0.0)
                    for c, p in probabilities.items()
                }
                flags.append("blended_with_local")
        return probabilities, qhat

    def _usage(self, reply: LlmReply, dropped: int) -> dict[str, float]:
        usage: dict[str, float] = {k: float(v) for k, v in reply.usage.items()}
        usage["llm_attempts"] = float(reply.attempts)
        usage["citations_dropped"] = float(dropped)
        cost = self.prices.cost(reply.model, reply.usage)
        if cost is not None:
            usage["cost_usd"] = cost
        return usage

    async def _fall_back(self, item: ClassifierInput, exc: LlmFailure) -> CauseScores:
        """Returns the local classifier's scores, saying why the LLM was not used."""
        scores = await self.fallback.score(item)
        flags = [*scores.flags, "llm_fallback", f"llm_{exc.reason}"]
        flags += [f"llm_attempt_error: {e}" for e in exc.attempt_errors[:MAX_ERROR_FLAGS]]
        return scores.model_copy(
            update={
                "classifier": "local",
                "fallback_reason": f"{exc.reason}: {exc.message}",
                "prompt_hash": self.prompt.sha256,
                "flags": flags,
                "usage": {**scores.usage, "llm_attempts": float(exc.attempts)},
            }
        )


def parse_verdict(reply: LlmReply) -> CauseVerdict:
    """Returns the reply as a CauseVerdict, or raises LlmMalformedReply naming what is wrong."""
    try:
        return CauseVerdict.model_validate(reply.content)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "reply"
        raise LlmMalformedReply(
            f"the LLM reply does not match the schema at {where}: {first['msg']}",
            reason="schema_mismatch",
            attempts=reply.attempts,
            attempt_errors=reply.attempt_errors,
        ) from exc


def validate_citations(cited: Citations, item: ClassifierInput) -> tuple[Evidence, int]:
    """Returns the citations that point at real items, and how many were dropped."""
    case = item.case
    kept: dict[str, list[Any]] = {
        "event_indices": _existing(cited.event_indices, set(range(len(case.events)))),
        "message_indices": _existing(cited.message_indices, set(range(len(case.messages)))),
        "history_case_ids": _existing(cited.history_case_ids, {s.case_id for s in item.similar}),
        "loose_message_ids": _existing(
            cited.loose_message_ids, {m.message_id for m in item.messages}
        ),
    }
    given = sum(len(set(getattr(cited, name))) for name in kept)
    dropped = given - sum(len(values) for values in kept.values())
    return Evidence(**kept), dropped


def _existing(values: list[Any], allowed: set[Any]) -> list[Any]:
    seen: list[Any] = []
    for value in values:
        if value in allowed and value not in seen:
            seen.append(value)
    return seen


def _cites_anything(evidence: Evidence) -> bool:
    return bool(
        evidence.event_indices
        or evidence.message_indices
        or evidence.history_case_ids
        or evidence.loose_message_ids
    )


def cap_confidence(probabilities: dict[str, float], cap: float) -> dict[str, float]:
    """Returns the distribution mixed with uniform just enough that no cause exceeds the cap."""
    uniform = 1.0 / len(probabilities)
    top = max(probabilities.values())
    if top <= cap or cap <= uniform:
        return dict(probabilities)
    keep = (cap - uniform) / (top - uniform)
    return {c: keep * p + (1 - keep) * uniform for c, p in probabilities.items()}


def _reply_flags(reply: LlmReply, dropped: int, truncated: int) -> list[str]:
    flags = ["structured_output" if reply.structured else "json_mode"]
    if reply.attempts > 1:
        flags.append("llm_retried")
    flags += [f"llm_attempt_error: {e}" for e in reply.attempt_errors[:MAX_ERROR_FLAGS]]
    if reply.cached:
        flags.append("replayed")
    if dropped:
        flags.append("citations_dropped")
    if truncated:
        flags.append("texts_truncated")
    return flags
