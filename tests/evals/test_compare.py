"""Compare reports per-metric deltas and the cases whose prediction flipped between two runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from evals.compare import DifferentDatasets, compare, print_comparison
from tests.support.evals import make_record, write_run


def _two_runs(tmp_path: Path) -> tuple[Path, Path]:
    a = write_run(
        tmp_path / "a",
        {"n_cases": 3, "accuracy": 2 / 3, "ece": 0.10, "model": "m1", "per_cause": {}},
        [
            make_record(case_id="C-1"),
            make_record(case_id="C-2", predicted="supplier_delay", correct=False),
            make_record(case_id="C-3"),
        ],
    )
    b = write_run(
        tmp_path / "b",
        {"n_cases": 3, "accuracy": 2 / 3, "ece": 0.04, "model": "m2", "per_cause": {}},
        [
            make_record(case_id="C-1"),
            make_record(case_id="C-2"),
            make_record(case_id="C-4", predicted="supplier_delay", correct=False),
        ],
    )
    return a, b


def test_deltas_are_b_minus_a_for_every_shared_number(tmp_path: Path) -> None:
    comparison = compare(*_two_runs(tmp_path))
    deltas = {d.metric: d.delta for d in comparison.deltas}
    assert deltas == {"n_cases": 0.0, "accuracy": 0.0, "ece": pytest.approx(-0.06)}
    assert comparison.provenance["model"] == ("m1", "m2")


def test_flipped_cases_are_those_predicted_differently(tmp_path: Path) -> None:
    comparison = compare(*_two_runs(tmp_path))
    assert [(f.case_id, f.a, f.b, f.change) for f in comparison.flipped] == [
        ("C-2", "supplier_delay", "carrier_delay", "fixed")
    ]
    assert comparison.only_a == ["C-3"]
    assert comparison.only_b == ["C-4"]


def test_the_printout_names_metrics_and_flipped_cases(tmp_path: Path) -> None:
    console = Console(record=True, width=120)
    print_comparison(compare(*_two_runs(tmp_path)), console)
    text = console.export_text()
    assert "-0.0600" in text
    assert "C-2" in text
    assert "fixed" in text
    assert "model differs" in text


def _runs_of_two_datasets(tmp_path: Path) -> tuple[Path, Path]:
    """Two runs of different datasets where id C-1 names two different cases."""
    a = write_run(
        tmp_path / "a",
        {"n_cases": 2, "dataset_sha256": "a" * 64, "per_cause": {}},
        [
            make_record(
                case_id="C-1", case_digest="d-x", predicted="supplier_delay", correct=False
            ),
            make_record(case_id="C-2", case_digest="d-y"),
        ],
    )
    b = write_run(
        tmp_path / "b",
        {"n_cases": 2, "dataset_sha256": "b" * 64, "per_cause": {}},
        [
            make_record(case_id="C-1", case_digest="d-z"),
            make_record(case_id="X-9", case_digest="d-x"),
        ],
    )
    return a, b


def test_runs_of_different_datasets_are_refused_unless_forced(tmp_path: Path) -> None:
    """Matching by id across datasets reports meaningless flips, so it needs --force."""
    with pytest.raises(DifferentDatasets, match="--force"):
        compare(*_runs_of_two_datasets(tmp_path))


def test_forced_comparison_matches_cases_by_content(tmp_path: Path) -> None:
    """Forced, the same case under two ids is one case; the same id on two cases is two."""
    comparison = compare(*_runs_of_two_datasets(tmp_path), force=True)
    assert [(f.case_id, f.a, f.b) for f in comparison.flipped] == [
        ("C-1", "supplier_delay", "carrier_delay")
    ]
    assert comparison.only_a == ["C-2"]
    assert comparison.only_b == ["C-1"]
