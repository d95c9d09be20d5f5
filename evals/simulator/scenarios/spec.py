"""The shape every cause scenario shares, and the ways its cues are combined into a case."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from evals.simulator.draft import Draft
from evals.simulator.workflows import STALLED_STEPS

Cue = Callable[[Draft], None]


@dataclass(frozen=True)
class CauseScenario:
    """How one cause stalls workflows and which cues betray it, strongly or faintly."""

    cause: str
    workflows: dict[str, int]
    frame: Cue
    strong: tuple[Cue, ...]
    weak: tuple[Cue, ...]
    loose: Cue | None
    stalled_steps: tuple[str, ...] = ()
    hints: tuple[Cue, ...] = ()

    def pick_workflow(self, draft: Draft) -> str:
        """Draws a workflow this cause typically stalls, by weight."""
        names = list(self.workflows)
        return draft.rng.choices(names, weights=[self.workflows[n] for n in names])[0]

    def open(self, draft: Draft) -> None:
        """Sets the workflow and stalled step if unset, then adds the cause's framing refs."""
        if not draft.workflow:
            draft.workflow = self.pick_workflow(draft)
        if not draft.stalled_step:
            flavoured = self.stalled_steps and draft.words.chance(0.3)
            bank = self.stalled_steps if flavoured else STALLED_STEPS[draft.workflow]
            draft.stalled_step = draft.words.lowercase(draft.words.pick(bank), 0.1)
        self.frame(draft)

    def add_strong(self, draft: Draft, count: int) -> None:
        """Adds up to count distinct decisive cues."""
        self._add(draft, self.strong, count)

    def add_weak(self, draft: Draft, count: int) -> None:
        """Adds up to count distinct circumstantial cues."""
        self._add(draft, self.weak, count)

    def add_hints(self, draft: Draft, count: int) -> None:
        """Adds up to count cues that make this cause look plausible without proving it."""
        self._add(draft, self.hints or self.weak, count)

    def add_named(self, draft: Draft, names: tuple[str, ...], count: int) -> None:
        """Adds up to count of the named cues, for pairs where only some cues fit."""
        known = {cue.__name__: cue for cue in (*self.strong, *self.weak, *self.hints)}
        self._add(draft, tuple(known[name] for name in names), count)

    def _add(self, draft: Draft, cues: tuple[Cue, ...], count: int) -> None:
        """Runs a sample of the cues and records their names as evidence."""
        for cue in draft.rng.sample(cues, min(count, len(cues))):
            cue(draft)
            draft.evidence.append(f"{self.cause}:{cue.__name__}")

    def build_clear(self, draft: Draft) -> None:
        """Builds a case where this cause is well supported."""
        self.open(draft)
        self.add_strong(draft, draft.rng.choice((1, 2, 2, 3)))
        self.add_weak(draft, draft.rng.choice((0, 1, 1, 2)))
