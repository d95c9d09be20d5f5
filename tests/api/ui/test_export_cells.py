"""CSV cells: numbers stay numbers, times are UTC, text that a spreadsheet would run is defused."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta, timezone

from api.ui.export import cell, to_csv


def test_numbers_stay_plain_even_when_negative() -> None:
    """A negative number is a number, not a formula; floats lose float noise."""
    assert cell(-3600) == -3600
    assert cell(0.1 + 0.2) == 0.3
    assert cell(1800.0) == 1800
    assert cell(None) == ""
    assert cell(True) == "true"


def test_times_are_iso_8601_in_utc() -> None:
    """An aware time in any zone is written in UTC with a Z."""
    moment = datetime(2026, 11, 20, 19, 5, tzinfo=timezone(timedelta(hours=2)))
    assert cell(moment) == "2026-11-20T17:05:00Z"
    assert cell(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2026-01-02T03:04:05Z"


def test_text_that_starts_like_a_formula_gets_an_apostrophe() -> None:
    """= + - @ tab and carriage return lead a formula; other text is left alone."""
    for text in ("=1+1", "+SUM(A1)", "-2+3", "@cmd", "\t=1", "\r=1"):
        assert cell(text) == "'" + text
    assert cell("PO-1 = fine") == "PO-1 = fine"
    written = to_csv(["a", "b"], [['=HYPERLINK("http://x.example","y")', -1]])
    assert list(csv.reader(io.StringIO(written))) == [
        ["a", "b"],
        ['\'=HYPERLINK("http://x.example","y")', "-1"],
    ]
