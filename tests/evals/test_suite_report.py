"""The automation measures, the confidence bins and the suite report of `triage eval suite`."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from cli.main import app
from evals.automation import automation_metrics
from evals.report import compute_metrics
from evals.report_sections import cases_html, confidence_bins
from evals.suite import SetRun, clashing_folders, report_folder, write_suite
from tests.support.evals import make_record

HELD = {"action": "notify_customer", "outcome": "needs_approval", "rules_fired": ["auto-floor"]}


def _records() -> list:
    return [
        make_record(case_id="C-1", confidence=0.95),
        make_record(
            case_id="C-2",
            confidence=0.7,
            expected_cause="supplier_delay",
            correct=False,
        ),
        make_record(case_id="C-3", confidence=0.4, decisions=[HELD], decided="unknown"),
        make_record(
            case_id="C-4",
            confidence=0.55,
            expected_cause="unknown",
            predicted="carrier_delay",
            decided="unknown",
            correct=False,
            decisions=[HELD],
        ),
    ]


def test_wrong_auto_share_counts_auto_run_cases_with_the_wrong_decided_cause() -> None:
    """Three of four cases ran with no person and one of those had the wrong cause."""
    found = automation_metrics([*_records()[:3], _records()[3]])
    assert found["auto_cases"] == 2
    assert found["auto_wrong_cases"] == 1
    assert found["automation_share"] == 0.5
    assert found["wrong_auto_share"] == 0.5


def test_nothing_automated_is_no_wrong_auto_and_no_automation() -> None:
    """A run where people decided everything has share 0 for both."""
    found = automation_metrics([make_record(decisions=[HELD])])
    assert found == {
        "auto_cases": 0,
        "auto_wrong_cases": 0,
        "automation_share": 0.0,
        "wrong_auto_share": 0.0,
    }


def test_metrics_carry_unknown_f1_and_automation() -> None:
    """compute_metrics reports F1 on unknown and the automation figures."""
    metrics = compute_metrics(_records(), ["carrier_delay", "supplier_delay", "unknown"], 0.1, {})
    assert metrics["unknown_f1"] == 0.0  # the one unknown case was predicted carrier_delay
    assert metrics["wrong_auto_share"] == 0.5
    assert metrics["automation_share"] == 0.5


def test_confidence_bins_count_cases_right_auto_and_auto_wrong() -> None:
    """Each case lands in one bin; the 0.7 bin holds the auto-run wrong case."""
    bins = {(b.lower, b.upper): b for b in confidence_bins(_records())}
    assert sum(b.cases for b in bins.values()) == 4
    assert bins[(0.6, 0.7)].auto_wrong == 1
    assert bins[(0.9, 0.95)].correct == 1
    assert bins[(0.0, 0.5)].cases == 1


def test_case_sections_list_the_auto_wrong_and_misclassified_cases() -> None:
    """The HTML names the auto-run-but-wrong case and every misclassified one."""
    page = cases_html(_records())
    auto_part, wrong_part = page.split("Misclassified cases")
    assert "Auto-executed with the wrong cause (1)" in auto_part
    assert "C-2" in auto_part
    assert "C-4" not in auto_part
    assert "(2)" in wrong_part
    assert "C-2" in wrong_part
    assert "C-4" in wrong_part


def test_suite_report_has_a_row_per_set(tmp_path: Path) -> None:
    """The suite writes one table row per set with its figures, and links each set's report."""
    metrics = compute_metrics(_records(), ["carrier_delay", "supplier_delay", "unknown"], 0.1, {})
    runs = [SetRun("alpha", metrics, _records(), []), SetRun("beta", metrics, _records()[:1], [])]
    page = write_suite(tmp_path, runs)
    text = (tmp_path / "report.md").read_text()
    assert "| alpha | 4 |" in text
    assert "| beta | 4 |" in text
    assert 'href="alpha/report.html"' in page.read_text()
    assert (tmp_path / "suite.json").exists()


def test_sets_given_as_eval_jsonl_paths_report_under_their_folders_names() -> None:
    """Two `<folder>/eval.jsonl` sets in one suite must not write over each other's report."""
    assert report_folder("independent-chat") == "independent-chat"
    assert report_folder("/data/heldout-calls/eval.jsonl") == "heldout-calls"
    assert report_folder("/data/cases-2026.jsonl") == "cases-2026"
    assert clashing_folders(["/a/x/eval.jsonl", "/b/y/eval.jsonl"]) == []
    assert clashing_folders(["/a/x/eval.jsonl", "/b/x/eval.jsonl", "z"]) == ["x"]


def test_the_suite_command_refuses_sets_that_share_a_report_folder(tmp_path: Path) -> None:
    """A clear error naming the option and the folder, before anything runs."""
    result = CliRunner().invoke(
        app,
        ["eval", "suite", "--set", "/a/x/eval.jsonl", "--set", "/b/x/eval.jsonl"],
        env={"TRIAGE_DATA_DIR": str(tmp_path)},
    )
    assert result.exit_code == 2, result.output
    assert "--set" in result.output
    assert "same folder: x" in result.output
