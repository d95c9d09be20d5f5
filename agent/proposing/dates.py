"""Reads dates and pickup times out of free text, refusing every reading that could mean two days."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
_DATE = re.compile(
    r"\b(?P<iso>\d{4}-\d{2}-\d{2})\b"
    r"|\b(?P<a>\d{1,2})/(?P<b>\d{1,2})(?:/(?P<y>\d{2}|\d{4}))?\b"
    rf"|\b(?P<d1>\d{{1,2}})(?:st|nd|rd|th)?\s+{_MONTH.replace('(jan', '(?P<m1>jan')}(?:\s+(?P<y1>\d{{4}}))?"
    rf"|\b{_MONTH.replace('(jan', '(?P<m2>jan')}\s+(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(?P<y2>\d{{4}}))?",
    re.IGNORECASE,
)
_OFFER = re.compile(
    r"\b(?:next\s+(?:available\s+)?pick\s?-?up|(?:re-?scheduled|earliest|new)\s+pick\s?-?up"
    r"|pick\s?-?up\s+(?:re-?booked|scheduled|booked|moved)|can\s+(?:do|make|come)"
    r"|will\s+(?:come|collect|pick\s+up)|re-?book(?:ed)?\s+(?:for|to))\b",
    re.IGNORECASE,
)
_CLOCK = re.compile(
    r"\b(\d{1,2})(?:[:.](\d{2}))?\s*(am|pm)\b|\b(\d{1,2})[:.](\d{2})\b", re.IGNORECASE
)
# A zone written after a clock time ("10:30 CT", "08:00 CET"): the instant is in that zone.
_ZONE_NAMES = {
    "UTC": ("UTC", "GMT", "Z"),
    "America/New_York": ("ET", "EST", "EDT"),
    "America/Chicago": ("CT", "CST", "CDT"),
    "America/Denver": ("MT", "MST", "MDT"),
    "America/Los_Angeles": ("PT", "PST", "PDT"),
    "Europe/Paris": ("CET", "CEST"),
    "Europe/London": ("BST",),
    "Asia/Tokyo": ("JST",),
}
_ZONES = {name: zone for zone, names in _ZONE_NAMES.items() for name in names}
# Written in capitals, as zones are: a lower-case "et" is French for "and".
_ZONE_AFTER = re.compile(
    r"\s*(?:\(\s*)?(?:(?P<name>" + "|".join(_ZONES) + r")\b|(?P<offset>[+-]\d{2}:?\d{2})\b)"
)
_RELATIVE = re.compile(r"\b(tomorrow|tmrw|tmr|today|tonight)\b", re.IGNORECASE)
_WEEKDAY = re.compile(r"\b(mon|tue|wed|thu|fri|sat|sun)[a-z]*\b", re.IGNORECASE)
_WINDOW = 60
# A day and month without a year is read as the nearest such day not long before the text.
_YEAR_LOOKBACK = timedelta(days=60)


def _with_year(month: int, day: int, year: str | None, written: date) -> date | None:
    try:
        if year:
            return date(int(year) + (2000 if len(year) == 2 else 0), month, day)
        candidate = date(written.year, month, day)
        if candidate < written - _YEAR_LOOKBACK:
            candidate = date(written.year + 1, month, day)
        return candidate
    except ValueError:
        return None


def _numeric(a: int, b: int, year: str | None, written: date) -> date | None:
    if a <= 12 and b <= 12 and a != b:
        return None  # 10/11 is 11 October or 10 November: never guess
    month, day = (a, b) if b > 12 or a == b else (b, a)
    return _with_year(month, day, year, written)


def _reading(match: re.Match[str], written: date) -> date | None:
    if match["iso"]:
        try:
            return date.fromisoformat(match["iso"])
        except ValueError:
            return None
    if match["a"]:
        return _numeric(int(match["a"]), int(match["b"]), match["y"], written)
    if match["m1"]:
        return _with_year(
            _MONTHS.index(match["m1"][:3].lower()) + 1, int(match["d1"]), match["y1"], written
        )
    return _with_year(
        _MONTHS.index(match["m2"][:3].lower()) + 1, int(match["d2"]), match["y2"], written
    )


# Words just before a date that say it is the one being replaced: "use Dec 10, not Dec 3",
# "the original DC date was Dec 6", "instead of 11/20".
_REPLACED = re.compile(
    r"\b(?:not|instead\s+of|rather\s+than|original(?:ly)?|previous(?:ly)?|formerly|old|"
    r"no\s+longer|superseded|replaces?)\b[^.;:!?\n]{0,30}$",
    re.IGNORECASE,
)


def last_date(text: str, written: datetime) -> tuple[date, str] | None:
    """Returns the last date the text names and its span, or None when that date is ambiguous."""
    matches = [m for m in _DATE.finditer(text) if not _REPLACED.search(text[: m.start()])]
    if not matches:
        return None
    # "moved from 2026-10-13 to 11/04": the last date is the new one; an earlier one never stands in.
    day = _reading(matches[-1], written.date())
    return (day, matches[-1].group(0)) if day else None


def _zone(after: str) -> tzinfo | None:
    """Returns the zone written right after a clock time, or None when there is none."""
    match = _ZONE_AFTER.match(after)
    if match is None:
        return None
    if match["name"]:
        return ZoneInfo(_ZONES[match["name"]])
    sign, digits = match["offset"][0], match["offset"][1:].replace(":", "")
    delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return timezone(-delta if sign == "-" else delta)


def _clock(window: str) -> time | None:
    match = _CLOCK.search(window)
    if match is None:
        return None
    hour = int(match.group(1) or match.group(4))
    minute = int(match.group(2) or match.group(5) or 0)
    suffix = (match.group(3) or "").lower()
    hour = hour % 12 + (12 if suffix == "pm" else 0) if suffix else hour
    if hour >= 24 or minute >= 60:
        return None
    return time(hour, minute, tzinfo=_zone(window[match.end() :]))


def _offered_day(window: str, written: datetime) -> date | None:
    if (relative := _RELATIVE.search(window)) is not None:
        ahead = 0 if relative.group(1).lower() in ("today", "tonight") else 1
        return written.date() + timedelta(days=ahead)
    dated = [m for m in _DATE.finditer(window) if not m["a"]]
    if dated:
        return _reading(dated[0], written.date())
    if (weekday := _WEEKDAY.search(window)) is not None:
        wanted = ("mon", "tue", "wed", "thu", "fri", "sat", "sun").index(weekday.group(1).lower())
        return written.date() + timedelta(days=(wanted - written.weekday()) % 7)
    return None


def pickup_offer(text: str, written: datetime) -> tuple[datetime, str] | None:
    """Returns the pickup time a carrier offers in the text and its span, never a past departure."""
    for offer in _OFFER.finditer(text):
        window = re.split(r"[.;!?\n](?:\s|$)", text[offer.start() : offer.end() + _WINDOW])[0]
        clock = _clock(window[offer.end() - offer.start() :])
        if clock is None:
            continue
        # The day is the writer's, read where the clock's zone says (the message time otherwise).
        zone = clock.tzinfo or written.tzinfo
        local = written.astimezone(zone)
        day = _offered_day(window, local)
        moment = datetime.combine(day or local.date(), clock.replace(tzinfo=None), tzinfo=zone)
        if day is None and moment <= written:
            moment += timedelta(days=1)  # "next pickup 08:00" written at 16:45 means tomorrow
        return moment.astimezone(written.tzinfo), window.strip()
    return None
