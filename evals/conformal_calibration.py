"""Split-conformal calibration on a labelled file, applied by wrapping the classifier in use."""

from __future__ import annotations

import asyncio
from typing import Any

from agent.classifiers.base import CauseScores, Classifier, ClassifierInput
from agent.classifiers.conformal import conformal_qhat
from agent.deps import AgentDeps
from agent.nodes.classify import make_classify
from agent.nodes.retrieve import make_retrieve
from core.models import EvalLine


class RecalibratedClassifier:
    """Delegates scoring to a classifier and replaces its conformal qhat with a calibrated one."""

    def __init__(self, inner: Classifier, qhat: float) -> None:
        self.inner = inner
        self.name = inner.name
        self.qhat = qhat

    async def score(self, item: ClassifierInput) -> CauseScores:
        """Returns the inner classifier's scores with the calibrated qhat."""
        scores = await self.inner.score(item)
        return scores.model_copy(update={"conformal_qhat": self.qhat})


async def classify_lines(
    deps: AgentDeps, lines: list[EvalLine], concurrency: int = 1
) -> list[dict[str, Any]]:
    """Returns the classification the production retrieve and classify nodes give each case."""
    retrieve, classify = make_retrieve(deps), make_classify(deps)
    gate = asyncio.Semaphore(max(1, concurrency))

    async def one(line: EvalLine) -> dict[str, Any]:
        async with gate:
            state: dict[str, Any] = {"case": line.case.model_dump(mode="json")}
            state.update(await retrieve(state))  # type: ignore[arg-type]
            return (await classify(state))["classification"]  # type: ignore[arg-type]

    return list(await asyncio.gather(*(one(line) for line in lines)))


async def true_cause_probabilities(deps: AgentDeps, lines: list[EvalLine]) -> list[float]:
    """Returns the probability the production nodes give each case's true cause."""
    classifications = await classify_lines(deps, lines)
    return [
        float(c["probabilities"].get(line.expected.cause, 0.0))
        for c, line in zip(classifications, lines, strict=True)
    ]


async def calibrate(deps: AgentDeps, lines: list[EvalLine], alpha: float) -> float:
    """Computes qhat on the calibration cases and installs it on the classifier in use."""
    qhat = conformal_qhat(await true_cause_probabilities(deps, lines), alpha)
    current = deps.classifiers.current
    inner = current.inner if isinstance(current, RecalibratedClassifier) else current
    deps.classifiers.replace(RecalibratedClassifier(inner, qhat))
    return qhat
