"""Seeds the embedded demo: history, messages, a demo key, demo reviewers and live cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from rich.console import Console

from app.wiring import Runtime
from core.errors import AuthenticationFailed
from core.models import Case
from core.principals import Principal, PrincipalKind
from core.store import context as context_store
from core.store import identity
from evals.dataset import DEMO_HISTORY, DEMO_MESSAGES, load_history, load_messages
from evals.simulator import simulate

DEMO_KEY = "trg_demo_orchestrator_key"
DEMO_PASSWORD = "demo-password"
DEMO_REVIEWERS: dict[str, list[str]] = {
    "alice": ["ops_supervisor", "inventory_controller"],
    "bob": ["finance_approver", "buyer"],
    "carol": ["finance_approver", "integration_engineer", "master_data_steward", "ops_supervisor"],
    "dave": ["inventory_controller", "buyer", "ops_supervisor"],
}
DEMO_SEED = 2026


def demo_banner(base: str) -> list[str]:
    """Returns the lines that tell a new user where things are and what to paste."""
    lines = [
        f"API docs:      {base}/docs",
        f"Reviewer UI:   {base}/ui  (password: {DEMO_PASSWORD})",
    ]
    lines += [f"  {name:<6} {', '.join(roles)}" for name, roles in DEMO_REVIEWERS.items()]
    lines += [
        f"API key:       {DEMO_KEY}",
        f"Try:           curl -H 'Authorization: Bearer {DEMO_KEY}' {base}/v1/cases",
        f"Approvals:     curl -u alice:{DEMO_PASSWORD} '{base}/v1/approvals?status=pending'",
    ]
    return lines


def _shift_to_now(raw: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Moves a simulated case's timestamps so that it was detected a little while ago."""
    detected = datetime.fromisoformat(raw["detected_at"].replace("Z", "+00:00"))
    delta = now - timedelta(minutes=40) - detected

    def shift(stamp: str | None) -> str | None:
        if stamp is None:
            return None
        moved = datetime.fromisoformat(stamp.replace("Z", "+00:00")) + delta
        return moved.isoformat().replace("+00:00", "Z")

    raw = {**raw, "detected_at": shift(raw["detected_at"])}
    raw["sla_due_at"] = (
        shift(now.isoformat()) if raw.get("sla_due_at") is None else shift(raw["sla_due_at"])
    )
    if raw["sla_due_at"] and datetime.fromisoformat(raw["sla_due_at"].replace("Z", "+00:00")) < now:
        raw["sla_due_at"] = (now + timedelta(hours=3)).isoformat().replace("+00:00", "Z")
    raw["events"] = [{**e, "at": shift(e["at"])} for e in raw["events"]]
    raw["messages"] = [{**m, "at": shift(m["at"])} for m in raw["messages"]]
    return raw


async def seed_demo(runtime: Runtime, console: Console, *, live_cases: int = 8) -> None:
    """Seeds history, messages, the demo key and reviewers once, then posts live cases."""
    async with runtime.db.transaction() as conn:
        seeded = await context_store.history_count(conn) > 0
        for name, roles in DEMO_REVIEWERS.items():
            await identity.add_user(conn, name, DEMO_PASSWORD, roles)
        try:
            await identity.principal_for_key(conn, DEMO_KEY)
        except AuthenticationFailed:
            await identity.create_key(conn, "demo-orchestrator", DEMO_KEY)
    if not seeded:
        history = load_history(DEMO_HISTORY, runtime.deps.taxonomy)
        with console.status(
            f"Importing {len(history):,} resolved cases and training the local classifier…"
        ):
            await runtime.learner.add_messages(load_messages(DEMO_MESSAGES))
            await runtime.learner.add_history(history)
    # Live cases come from another seed than the shipped history, so none is a near copy.
    data = simulate(cases=live_cases * 3, history=0, messages=0, seed=DEMO_SEED + 1)
    orchestrator = Principal(name="demo-orchestrator", kind=PrincipalKind.api_key)
    now = datetime.now(UTC)
    posted = 0
    for line in data.eval_lines:
        if posted >= live_cases:
            break
        raw = _shift_to_now(line["case"], now)
        raw["case_id"] = raw["case_id"].replace(f"SIM-{DEMO_SEED + 1}-E", "DEMO-")
        _stored, created = await runtime.service.submit(Case.model_validate(raw), orchestrator)
        posted += int(created)
    console.print(f"Posted {posted} live stalled cases.")
