"""End to end: the shipped dataset through the real graph, its outputs, and the exit codes."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner, Result

from core.approvals import ApprovalRecord, ApprovalStatus, Vote
from core.principals import PrincipalKind
from evals.cli import _exit_on_failures, eval_app
from evals.dataset import SHIPPED_EVAL
from evals.gates import parse_gates
from evals.violations import action_violations, posting_problem
from tools.actions.base import ActionRequest
from tools.actions.fake import FakeActions

KEYS = {
    "n_cases", "accuracy", "macro_f1", "per_cause", "confusion", "ece", "brier", "aurc",
    "selective_accuracy_at_60", "selective_accuracy_at_80", "coverage_at_95", "conformal_alpha",
    "conformal_coverage", "conformal_mean_set_size", "action_precision", "action_recall",
    "action_exact_match", "policy_violations", "latency_ms_p50", "latency_ms_p95",
    "classifier", "model", "prompt_hash", "dataset_sha256", "usage", "timings",
    "param_cases_labelled", "param_values_proposed", "param_values_checked", "param_values_wrong",
    "param_wrong_share", "param_wrong_share_checked", "param_fill_rate", "param_other_document",
    "unknown_f1", "automation_share", "wrong_auto_share", "auto_cases", "auto_wrong_cases",
}  # fmt: skip


@pytest.fixture(scope="module")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Result, Path]:
    """Runs 30 shipped cases (with the shipped demo history) through the CLI once."""
    root = tmp_path_factory.mktemp("eval")
    dataset = root / "eval.jsonl"
    dataset.write_text("\n".join(SHIPPED_EVAL.read_text().splitlines()[:30]) + "\n")
    out = root / "run"
    args = ["run", "--dataset", str(dataset), "--out", str(out), "--concurrency", "3"]
    result = CliRunner().invoke(eval_app, [*args, "--fail-if", "policy_violations>0"])
    return result, out


@pytest.mark.slow
def test_the_run_succeeds_without_policy_violations(small_run: tuple[Result, Path]) -> None:
    result, out = small_run
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["policy_violations"] == 0
    assert metrics["n_cases"] == 30


@pytest.mark.slow
def test_metrics_json_has_exactly_the_issue_keys(small_run: tuple[Result, Path]) -> None:
    metrics = json.loads((small_run[1] / "metrics.json").read_text())
    assert set(metrics) == KEYS
    assert metrics["classifier"] == "local"
    assert metrics["model"].startswith("local-")
    assert metrics["usage"]["total_tokens"] == metrics["usage"]["cost_usd"] == 0
    assert set(metrics["per_cause"][metrics["confusion"]["labels"][0]]) == {
        "precision", "recall", "f1", "support",
    }  # fmt: skip


@pytest.mark.slow
def test_cases_jsonl_has_one_line_per_case_with_reviews(small_run: tuple[Result, Path]) -> None:
    lines = (small_run[1] / "cases.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["line"] for r in records] == list(range(1, 31))
    assert all(r["latency_ms"] > 0 and r["prediction_set"] for r in records)
    # The simulated approver resumed the interrupted cases, so execution paths ran too.
    assert any(r["reviews"] for r in records)
    assert any(rv["status"] == "approved" for r in records for rv in r["reviews"])
    assert not any(r["status"] in {"pending_approval", "routed"} for r in records)


@pytest.mark.slow
def test_the_reports_embed_the_figures(small_run: tuple[Result, Path]) -> None:
    out = small_run[1]
    page = (out / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 3
    for name in ("reliability.png", "confusion.png", "risk_coverage.png"):
        assert (out / name).read_bytes().startswith(b"\x89PNG")
        assert f"]({name})" in (out / "report.md").read_text()


def test_a_failed_gate_or_a_violation_exits_non_zero() -> None:
    metrics = {"macro_f1": 0.5, "policy_violations": 0}
    with pytest.raises(typer.Exit) as caught:
        _exit_on_failures(metrics, parse_gates("macro_f1<0.8"), [])
    assert caught.value.exit_code == 1
    with pytest.raises(typer.Exit):
        _exit_on_failures(metrics, [], ["C-1: issue_credit_memo posted: no approval record"])
    _exit_on_failures(metrics, parse_gates("macro_f1<0.4"), [])


def test_a_bad_gate_expression_stops_before_running(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        eval_app, ["run", "--dataset", str(SHIPPED_EVAL), "--fail-if", "f1<0.8"]
    )
    assert result.exit_code == 2
    assert "unknown metric 'f1'" in result.output


def _approval(status: ApprovalStatus, voters: list[str]) -> ApprovalRecord:
    now = datetime(2026, 11, 20, tzinfo=UTC)
    votes = [
        Vote(
            actor=v,
            actor_kind=PrincipalKind.person,
            actor_roles=["ops"],
            decision="approve",
            at=now,
        )
        for v in voters
    ]
    return ApprovalRecord(
        approval_id="AP-1", case_id="C-1", action="reallocate_order", params={},
        posts_to_erp=False, approver_role="ops", required_approvals=1, status=status,
        decision_id="PD-1", proposed_by="api_key:orchestrator", votes=votes, created_at=now,
    )  # fmt: skip


def _ran(actions: FakeActions, action: str, authorized_by: str) -> None:
    request = ActionRequest(
        case_id="C-1", action=action, target="wms", idempotency_key=f"k-{action}",
        authorized_by=authorized_by,
    )  # fmt: skip
    asyncio.run(actions.run(request))


def test_executions_without_an_auto_decision_or_approval_are_violations() -> None:
    actions = FakeActions()
    _ran(actions, "notify_customer", "policy:auto")
    _ran(actions, "create_cycle_count", "policy:auto")
    _ran(actions, "reallocate_order", "person:alice")
    auto = {("C-1", "notify_customer")}
    assert action_violations(actions, auto, {}) == [
        ("C-1", "create_cycle_count executed: ran as auto without an auto decision"),
        ("C-1", "reallocate_order executed: no approval record"),
    ]
    backed = {"AP-1": _approval(ApprovalStatus.approved, ["alice"])}
    assert len(action_violations(actions, auto, backed)) == 1


def test_an_approval_backs_an_execution_only_when_complete() -> None:
    assert posting_problem(_approval(ApprovalStatus.approved, ["alice"]), "C-1", "reallocate_order", needed=1) is None  # fmt: skip
    pending = _approval(ApprovalStatus.pending, [])
    assert (
        posting_problem(pending, "C-1", "reallocate_order", needed=1) == "approval AP-1 is pending"
    )
    one = _approval(ApprovalStatus.approved, ["alice"])
    assert "fewer than 2" in (posting_problem(one, "C-1", "reallocate_order", needed=2) or "")
    assert "is for C-1/reallocate_order" in (
        posting_problem(one, "C-1", "issue_credit_memo", needed=1) or ""
    )


@pytest.mark.parametrize(
    ("extra", "expected"),
    [([], 1), (["--classifier", "llm"], 4), (["--concurrency", "3"], 3)],
)
def test_cases_in_flight_default_to_one_per_worker_for_the_cpu_bound_classifier(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, extra: list[str], expected: int
) -> None:
    import evals.runner

    seen: list[int] = []

    async def stop_after_options(options: evals.runner.RunOptions) -> None:
        seen.append(options.cases_in_flight())
        raise typer.Exit(code=0)

    monkeypatch.setattr(evals.runner, "run_eval", stop_after_options)
    dataset = tmp_path / "eval.jsonl"
    dataset.write_text("")
    result = CliRunner().invoke(
        eval_app, ["run", "--dataset", str(dataset), "--workers", "1", *extra]
    )
    assert result.exit_code == 0, result.output
    assert seen == [expected]
