"""Chooses the per-action automatic-execution floors from eval runs, leave-one-set-out.

Floors only tighten the gate, so a run made without them tells exactly what a floor would have
done: an action decided `auto` stays auto when the case's confidence reaches the action's floor.
`python -m evals.floors SUITE_DIR` fits the two floors (partner- and customer-facing actions,
internal actions) on every set but one, pooled, reports the held-out set, then fits on all of them.
"""

from __future__ import annotations

import itertools
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

EXTERNAL = (
    "notify_customer",
    "escalate_to_carrier",
    "request_supplier_confirmation",
    "request_compliance_documents",
)
GRID = tuple(round(0.6 + 0.025 * i, 3) for i in range(16))  # 0.6 .. 0.975
MAX_WRONG = 0.05
Case = dict[str, Any]


def load_cases(run_dir: Path) -> list[Case]:
    """Reads one set's cases.jsonl."""
    lines = (run_dir / "cases.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def floors_for(external: float, internal: float) -> dict[str, float]:
    """Returns the floor of every action that can run with no person."""
    shared = dict.fromkeys(EXTERNAL, external)
    return {**shared, "route_to_team": internal, "create_cycle_count": internal}


def outcome(cases: Sequence[Case], floors: dict[str, float]) -> tuple[float, float]:
    """Returns (wrong-auto share, automation share) had the floors been in force."""
    auto = [
        c
        for c in cases
        if any(
            d["outcome"] == "auto" and c["confidence"] >= floors.get(d["action"], 0.0)
            for d in c["decisions"]
        )
    ]
    wrong = sum(c["decided"] != c["expected_cause"] for c in auto)
    return (wrong / len(auto) if auto else 0.0), len(auto) / len(cases) if cases else 0.0


def fit(sets: Sequence[Sequence[Case]]) -> tuple[float, float]:
    """Returns the floors that automate most while the pooled wrong-auto share stays in budget.

    The goal is 2%; today's classifier reaches it only by automating almost nothing, so the
    budget is MAX_WRONG pooled over the fit sets. Where no pair keeps to it, the pair with the
    lowest pooled share wins.
    """
    pooled = [c for s in sets for c in s]

    def score(pair: tuple[float, float]) -> tuple[float, float]:
        wrong, automation = outcome(pooled, floors_for(*pair))
        return (max(wrong, MAX_WRONG), -automation)

    pairs = [(e, i) for e, i in itertools.product(GRID, GRID) if e >= i]
    return min(pairs, key=score)


def main(suite_dir: Path) -> None:
    """Prints leave-one-set-out floors and figures, then the floors fitted on every set."""
    names = sorted(p.parent.name for p in suite_dir.glob("*/cases.jsonl"))
    data = {name: load_cases(suite_dir / name) for name in names}
    for held in names:
        pair = fit([data[n] for n in names if n != held])
        wrong, share = outcome(data[held], floors_for(*pair))
        print(
            f"{held}: floors external {pair[0]}, internal {pair[1]} -> held-out wrong auto "
            f"{wrong:.3f}, automation {share:.3f}"
        )
    pair = fit(list(data.values()))
    print(f"all sets: external {pair[0]}, internal {pair[1]}")
    for name in names:
        wrong, share = outcome(data[name], floors_for(*pair))
        print(f"  {name}: wrong auto {wrong:.3f}, automation {share:.3f} (in-sample)")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
