"""The classifier used before any history exists: it finds no cause, so people decide."""

from __future__ import annotations

from agent.classifiers.base import CauseScores, ClassifierInput
from core.taxonomy import Taxonomy


class UntrainedClassifier:
    """Puts all probability on the unknown cause until a model has been trained."""

    name = "local"

    def __init__(self, taxonomy: Taxonomy) -> None:
        self.taxonomy = taxonomy

    async def score(self, item: ClassifierInput) -> CauseScores:
        """Returns certainty of `unknown`, flagged so reviewers see why."""
        probabilities = dict.fromkeys(self.taxonomy.cause_ids, 0.0)
        probabilities[self.taxonomy.unknown_cause] = 1.0
        return CauseScores(
            probabilities=probabilities,
            classifier=self.name,
            model="untrained",
            rationale="no resolved history has been imported yet",
            flags=["untrained"],
        )
