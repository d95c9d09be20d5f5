"""Eval datasets: bad lines are reported by number and nothing runs, unless they may be skipped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import evals.shard
from core.taxonomy import load_taxonomy
from evals.cli import eval_app
from evals.dataset import (
    DEMO_HISTORY,
    DEMO_MESSAGES,
    SHIPPED_EVAL,
    DatasetError,
    file_sha256,
    load_eval,
)
from evals.suite import DEFAULT_SETS, set_path

TAXONOMY = load_taxonomy()


def _shipped_lines(n: int) -> list[str]:
    return SHIPPED_EVAL.read_text().splitlines()[:n]


def _bad_file(tmp_path: Path) -> Path:
    good = _shipped_lines(3)
    missing_workflow = json.loads(good[1])
    del missing_workflow["case"]["workflow"]
    bad_cause = json.loads(good[2])
    bad_cause["expected"]["cause"] = "gremlins"
    bad_cause["expected"]["actions"] = ["summon_wizard"]
    path = tmp_path / "eval.jsonl"
    lines = [good[0], json.dumps(missing_workflow), json.dumps(bad_cause), "{not json"]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_the_shipped_files_load_and_are_contract_valid() -> None:
    dataset = load_eval(SHIPPED_EVAL, TAXONOMY)
    assert len(dataset.lines) >= 250
    assert dataset.sha256 == file_sha256(SHIPPED_EVAL)
    assert DEMO_HISTORY.exists()
    assert DEMO_MESSAGES.exists()


def test_bad_lines_are_reported_with_their_numbers_and_fields(tmp_path: Path) -> None:
    with pytest.raises(DatasetError) as caught:
        load_eval(_bad_file(tmp_path), TAXONOMY)
    errors = [(e.line, e.field) for e in caught.value.errors]
    assert errors == [
        (2, "case.workflow"),
        (3, "expected.cause"),
        (3, "expected.actions"),
        (4, "(json)"),
    ]
    assert "line 3: expected.cause: unknown cause 'gremlins'" in caught.value.message
    assert "nothing was run" in caught.value.message


def test_skip_invalid_keeps_the_good_lines_and_counts_the_bad_ones(tmp_path: Path) -> None:
    dataset = load_eval(_bad_file(tmp_path), TAXONOMY, skip_invalid=True)
    assert [line for line, _ in dataset.lines] == [1]
    assert dataset.skipped_lines == 3


def test_duplicate_case_ids_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "dup.jsonl"
    line = _shipped_lines(1)[0]
    path.write_text(f"{line}\n{line}\n")
    with pytest.raises(DatasetError, match=r"line 2: case\.case_id"):
        load_eval(path, TAXONOMY)


def test_the_cli_reports_the_bad_line_and_runs_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def never(*_: object, **__: object) -> None:
        raise AssertionError("the runtime must not be opened for an invalid dataset")

    monkeypatch.setattr(evals.shard, "open_runtime", never)
    out = tmp_path / "run"
    result = CliRunner().invoke(
        eval_app, ["run", "--dataset", str(_bad_file(tmp_path)), "--out", str(out)]
    )
    assert result.exit_code == 2
    assert "line 2: case.workflow" in result.output
    assert not out.exists()


@pytest.mark.parametrize("name", DEFAULT_SETS)
def test_every_set_the_suite_runs_loads_whole(name: str) -> None:
    """No shipped set relies on skipping: every line is a valid case with a known label."""
    dataset = load_eval(set_path(name), TAXONOMY)
    assert not dataset.skipped
    assert len(dataset.lines) >= 60
    causes = {line.expected.cause for _, line in dataset.lines}
    assert len(causes) >= 4
