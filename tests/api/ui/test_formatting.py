"""The UI's value formatting: money in minor units and the reviewer's locale, zones, percentages."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from api.ui.formatting import Formatter, label, reviewer_locale, reviewer_zone, sentences

NBSP = "\u00a0"
EN, DE = reviewer_locale("en-US"), reviewer_locale("de-DE,de;q=0.9,en;q=0.5")


@pytest.mark.parametrize(
    ("locale", "value", "currency", "expected"),
    [
        (EN, 12450.0, "USD", f"USD{NBSP}12,450.00"),
        (DE, 12450.0, "USD", f"12.450,00{NBSP}USD"),
        (EN, 1800.5, "EUR", f"EUR{NBSP}1,800.50"),
        (DE, 1800.5, "EUR", f"1.800,50{NBSP}EUR"),
        (EN, 1234567.0, "JPY", f"JPY{NBSP}1,234,567"),  # the yen has no minor unit
        (DE, 1234567.4, "JPY", f"1.234.567{NBSP}JPY"),
        (EN, 5.125, "BHD", f"BHD{NBSP}5.125"),  # three minor digits
        (EN, 0.1 + 0.2, "usd", f"USD{NBSP}0.30"),
    ],
)
def test_money_uses_the_currency_minor_units_and_the_locale(
    locale: object, value: float, currency: str, expected: str
) -> None:
    """Amounts carry the ISO code, the currency's decimals and the locale's separators."""
    assert Formatter(locale).money(value, currency) == expected  # type: ignore[arg-type]


def test_the_locale_comes_from_accept_language_with_quality_and_fallback() -> None:
    """The best-weighted known language wins; nothing usable falls back to en_US."""
    assert str(reviewer_locale("fr-CH;q=0.4, de-DE;q=0.9")) == "de_DE"
    assert str(reviewer_locale("xx-YY, ja;q=0.5")) == "ja"
    assert str(reviewer_locale("en-GB")) == "en_GB"
    for header in (None, "", "*", "<script>", "de;q=0", "q=1;;,"):
        assert str(reviewer_locale(header)) == "en_US"


def test_times_show_in_the_reviewers_zone_with_utc_on_hover() -> None:
    """A `<time>` holds the ISO instant, the UTC time as its title and the local time as text."""
    moment = datetime(2026, 11, 20, 17, 5, 42, 123456, tzinfo=UTC)
    tokyo = Formatter(EN, reviewer_zone("Asia/Tokyo")).moment(moment)
    assert tokyo == (
        '<time datetime="2026-11-20T17:05:42Z" title="2026-11-20 17:05 UTC">'
        "Nov 21, 2026, 2:05\u202fAM JST</time>"
    )
    berlin = Formatter(DE, reviewer_zone("Europe/Berlin")).when(moment)
    assert berlin == "20.11.2026, 18:05 CET"
    assert Formatter(EN).when(moment) == "Nov 20, 2026, 5:05\u202fPM UTC"


@pytest.mark.parametrize(
    "name", [None, "", "Mars/Olympus", "../../etc/passwd", "/etc/localtime", "x" * 80]
)
def test_an_unknown_or_malformed_zone_means_utc(name: str | None) -> None:
    """The cookie is the browser's word only: a zone the server cannot trust shows UTC."""
    assert reviewer_zone(name) is UTC


def test_confidence_numbers_and_lists_leave_no_artefacts() -> None:
    """Shares are whole percentages, floats are short, lists are joined and None is a dash."""
    en, de = Formatter(EN), Formatter(DE)
    assert en.percent(0.8749) == "87%"
    assert de.percent(0.8749) == f"87{NBSP}%"
    assert en.value(0.7937595846157788, "confidence") == "79%"
    assert en.value(10.123456789) == "10.12"
    assert de.value(1234.5) == "1.234,5"
    assert en.value(["SKU-1", 2, None, 0.333333]) == "SKU-1, 2, –, 0.33"
    assert en.value({"kind": "refs", "keys": ["skus"]}) == "kind: refs; keys: skus"
    assert (en.value(None), en.value(True), en.value([])) == ("–", "yes", "–")


def test_labels_read_as_words() -> None:
    """Field names become labels with the trade's acronyms in capitals."""
    assert label("erp_on_hand") == "ERP on hand"
    assert label("skus") == "SKUs"
    assert label("invoice_unit_price") == "Invoice unit price"
    assert label("approval_id") == "Approval ID"


def test_lists_of_phrases_are_told_from_lists_of_codes() -> None:
    """Reasons read one per line; SKUs and rule ids stay on one line, comma-separated."""
    assert sentences(["ERP postings need a person's approval", "amount 12,450.00 exceeds"])
    assert not sentences(["SKU-1", "SKU-2"])
    assert not sentences("a phrase")
