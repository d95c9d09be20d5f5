"""Assembles seeded evaluation lines, resolved history and loose messages."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from evals.simulator.ambiguity import CONFUSIONS, Confusion, build_confusion, build_unknown
from evals.simulator.draft import Draft
from evals.simulator.expected import expected_actions
from evals.simulator.loose import background_messages
from evals.simulator.noise import add_noise
from evals.simulator.outcomes import resolution
from evals.simulator.scenarios import SCENARIOS
from evals.simulator.wording import Wording
from evals.simulator.world import IdBook, make_amount, make_setting

# Roughly balanced, but the everyday causes come up more often than the rare ones.
CAUSE_WEIGHTS: dict[str, int] = {
    "carrier_cutoff_missed": 12,
    "carrier_delay": 12,
    "warehouse_congestion": 10,
    "inventory_discrepancy": 12,
    "supplier_delay": 12,
    "integration_failure": 10,
    "master_data_error": 8,
    "credit_hold": 7,
    "pricing_mismatch": 10,
    "compliance_hold": 7,
}


@dataclass(frozen=True)
class SimulatedData:
    """The three simulated bodies of data: evaluation lines, resolved history, loose messages."""

    eval_lines: list[dict]
    history: list[dict]
    messages: list[dict]


@dataclass(frozen=True)
class Plan:
    """What kind of case to build: a clear cause, a confusion or an unknown."""

    cause: str
    confusion: Confusion | None = None


@dataclass(frozen=True)
class Built:
    """A finished case with its label, the draft it came from and explanatory notes."""

    draft: Draft
    case: dict[str, object]
    cause: str
    notes: str


def plan_cases(rng: random.Random, count: int, ambiguous: float, unknown: float) -> list[Plan]:
    """Lays out the mix of clear, ambiguous and unknown cases, then shuffles it."""
    hard = round(count * ambiguous)
    vague = round(count * unknown)
    plans = [Plan(c.truth, c) for c in (rng.choice(CONFUSIONS) for _ in range(hard))]
    plans += [Plan("unknown") for _ in range(vague)]
    clear = max(count - len(plans), 0)
    total = sum(CAUSE_WEIGHTS.values())
    quotas = {cause: clear * weight // total for cause, weight in CAUSE_WEIGHTS.items()}
    # Hand the rounding remainder out in weight order so small runs still cover every cause.
    ranked = sorted(CAUSE_WEIGHTS, key=lambda c: (-CAUSE_WEIGHTS[c], c))
    for index in range(clear - sum(quotas.values())):
        quotas[ranked[index % len(ranked)]] += 1
    for cause in CAUSE_WEIGHTS:
        plans += [Plan(cause)] * quotas[cause]
    rng.shuffle(plans)
    return plans[:count]


def sla_due(draft: Draft) -> datetime | None:
    """Draws an SLA that is absent, already passed, or still ahead."""
    roll = draft.rng.random()
    detected = draft.setting.detected_at
    if roll < 0.3:
        return None
    if roll < 0.65:
        return detected - timedelta(minutes=draft.rng.randint(10, 2880))
    return detected + timedelta(minutes=draft.rng.randint(30, 4320))


def build_case(words: Wording, book: IdBook, case_id: str, plan: Plan, loose_odds: float) -> Built:
    """Builds one case according to its plan, with noise, money and an SLA."""
    draft = Draft(make_setting(words.rng, book, case_id), words)
    if plan.confusion is not None:
        notes = build_confusion(draft, plan.confusion)
    elif plan.cause == "unknown":
        notes = build_unknown(draft)
    else:
        scenario = SCENARIOS[plan.cause]
        scenario.build_clear(draft)
        notes = "clear; evidence: " + ", ".join(
            e.split(":")[1].replace("_", " ") for e in draft.evidence
        )
        if scenario.loose is not None and words.chance(loose_odds):
            scenario.loose(draft)
    add_noise(draft, plan.cause)
    draft.amount = make_amount(words.rng, draft.setting.currency)
    draft.sla_due_at = sla_due(draft)
    return Built(draft, draft.to_case(), plan.cause, notes)


def simulate(*, cases: int, history: int, messages: int, seed: int) -> SimulatedData:
    """Generates a reproducible dataset: the same arguments always give the same data."""
    rng = random.Random(seed)
    words, book = Wording(rng), IdBook(rng)
    eval_built = [
        build_case(words, book, f"SIM-{seed}-E{index:06d}", plan, 0.08)
        for index, plan in enumerate(plan_cases(rng, cases, 0.15, 0.07))
    ]
    history_built = [
        build_case(words, book, f"SIM-{seed}-H{index:06d}", plan, 0.4)
        for index, plan in enumerate(plan_cases(rng, history, 0.05, 0.01))
    ]
    eval_lines = [eval_line(b) for b in eval_built]
    history_lines = [history_line(b) for b in history_built]
    decisive = [
        m for b in eval_built if b.notes.startswith("ambiguous") for m in b.draft.loose[-1:]
    ]
    corroborating = [m for b in eval_built if b.notes.startswith("clear") for m in b.draft.loose]
    pool = [m for b in history_built for m in b.draft.loose]
    extra = background_messages(
        words,
        book,
        messages - len(decisive) - len(corroborating),
        pool,
        [(b.draft, b.case) for b in eval_built],
    )
    loose = decisive + corroborating[: max(messages - len(decisive), 0)] + extra
    loose.sort(key=lambda m: str(m["at"]))
    return SimulatedData(eval_lines=eval_lines, history=history_lines, messages=loose)


def eval_line(built: Built) -> dict:
    """Shapes a built case as an evaluation line with its expected label."""
    return {
        "case": built.case,
        "expected": {
            "cause": built.cause,
            "actions": expected_actions(built.cause, built.case),
            "notes": built.notes,
        },
    }


def history_line(built: Built) -> dict:
    """Shapes a built case as a resolved history record."""
    actions = expected_actions(built.cause, built.case)
    return {**built.case, "resolution": resolution(built.draft, built.cause, actions)}


def write_dataset(data: SimulatedData, out_dir: Path) -> dict[str, Path]:
    """Writes eval.jsonl, history.jsonl and messages.jsonl (one JSON object per line) into out_dir and returns their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {"eval": data.eval_lines, "history": data.history, "messages": data.messages}
    paths: dict[str, Path] = {}
    for name, rows in files.items():
        path = out_dir / f"{name}.jsonl"
        text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
        path.write_text(text, encoding="utf-8")
        paths[name] = path
    return paths
