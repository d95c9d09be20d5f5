"""How the UI writes values for a reviewer: money, numbers, percentages and times in their locale.

The locale comes from the browser's Accept-Language header (en_US when it names none that Babel
knows). The time zone comes from the `triage_tz` cookie, which static/timezone.js sets from the
browser's Intl time zone; without it, or with a zone the server does not know, times are in UTC.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time
from babel.numbers import format_currency, format_decimal, format_percent
from markupsafe import Markup

DEFAULT_LOCALE = "en_US"
TZ_COOKIE = "triage_tz"
_ZONE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+){0,2}$")
_LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")
# Words a label writes in capitals, so that `erp_on_hand` reads "ERP on hand".
_ACRONYMS = {"erp", "wms", "tms", "crm", "po", "sku", "id", "uom", "asn", "edi", "sla", "dc", "eta"}
_PLURAL_ACRONYMS = {"skus": "SKUs", "pos": "POs", "ids": "IDs"}
_SHARE_KEYS = {"confidence", "probability", "top_probability"}
MISSING = "–"


def reviewer_locale(accept_language: str | None) -> Locale:
    """Returns the first locale of an Accept-Language header that Babel knows, else en_US."""
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if _LANGUAGE_TAG.match(tag) and quality > 0:
            weighted.append((-quality, position, tag.replace("-", "_")))
    for _, _, tag in sorted(weighted):
        try:
            return Locale.parse(tag)
        except (UnknownLocaleError, ValueError):
            continue
    return Locale.parse(DEFAULT_LOCALE)


def reviewer_zone(name: str | None) -> tzinfo:
    """Returns the named IANA time zone, or UTC when the name is missing, malformed or unknown."""
    if not name or len(name) > 64 or not _ZONE_NAME.match(name):
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def _zone_key(zone: tzinfo) -> str:
    return zone.key if isinstance(zone, ZoneInfo) else "UTC"


@dataclass(frozen=True)
class Formatter:
    """Writes values in one reviewer's locale and time zone."""

    locale: Locale = field(default_factory=lambda: Locale.parse(DEFAULT_LOCALE))
    zone: tzinfo = UTC

    @property
    def zone_name(self) -> str:
        """Returns the IANA name of the zone times are shown in."""
        return _zone_key(self.zone)

    def money(self, value: float | None, currency: str | None = None) -> str:
        """Returns an amount with its ISO code, in the currency's minor units: `USD 12,450.00`."""
        if value is None:
            return MISSING
        if not currency:
            return format_decimal(value, format="#,##0.00", locale=self.locale)
        pattern = self.locale.currency_formats["standard"].pattern.split(";")[0]
        # The ISO code, not a symbol: `$` is several currencies; a space keeps code and digits apart.
        pattern = re.sub(
            r"\s*¤\s*", lambda m: "¤¤\u00a0" if m.start() == 0 else "\u00a0¤¤", pattern
        )
        try:
            text = format_currency(value, currency.upper(), format=pattern, locale=self.locale)
        except (ValueError, KeyError):
            text = f"{currency} {format_decimal(value, format='#,##0.00', locale=self.locale)}"
        return text.strip()

    def number(self, value: float | None) -> str:
        """Returns a number with the locale's separators and at most two decimals."""
        if value is None:
            return MISSING
        return format_decimal(value, format="#,##0.##", locale=self.locale)

    def percent(self, share: float | None) -> str:
        """Returns a 0-1 share as a whole percentage, e.g. `87%`."""
        if share is None:
            return MISSING
        return format_percent(share, locale=self.locale)

    def when(self, moment: datetime | None) -> str:
        """Returns a time in the reviewer's zone with the zone's abbreviation."""
        if moment is None:
            return MISSING
        local = moment.astimezone(self.zone)
        day = format_date(local, "medium", locale=self.locale)
        clock = format_time(local, "short", locale=self.locale)
        combined = str(self.locale.datetime_formats["medium"]).replace("{1}", day)
        return f"{combined.replace('{0}', clock)} {local.tzname() or self.zone_name}"

    def moment(self, moment: datetime | None) -> Markup:
        """Returns a `<time>` element in the reviewer's zone that shows the UTC time on hover."""
        if moment is None:
            return Markup(MISSING)
        utc = moment.astimezone(UTC).replace(microsecond=0)
        stamp = utc.isoformat().replace("+00:00", "Z")
        return Markup('<time datetime="{}" title="{}">{}</time>').format(
            stamp, utc.strftime("%Y-%m-%d %H:%M UTC"), self.when(moment)
        )

    def value(self, value: Any, key: str | None = None) -> str:
        """Returns a scalar or a list as words: no `null`, no JSON brackets, no long floats."""
        if value is None or value == "":
            return MISSING
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, float) and key in _SHARE_KEYS and 0 <= value <= 1:
            return self.percent(value)
        if isinstance(value, int | float):
            return self.number(value)
        if isinstance(value, datetime):
            return self.when(value)
        if isinstance(value, list | tuple | set):
            return ", ".join(self.value(item) for item in value) or MISSING
        if isinstance(value, dict):
            return "; ".join(f"{k}: {self.value(v, k)}" for k, v in value.items()) or MISSING
        return str(value)


def label(key: str) -> str:
    """Returns a field name as a label, e.g. `erp_on_hand` as `ERP on hand`."""
    words = [
        _PLURAL_ACRONYMS.get(w, w.upper() if w in _ACRONYMS else w) for w in key.split("_") if w
    ]
    text = " ".join(words)
    return text[:1].upper() + text[1:] if text else key


def nested(value: Any) -> bool:
    """Tells whether a value holds fields of its own and so renders as a definition list."""
    if isinstance(value, dict):
        return bool(value)
    return isinstance(value, list) and any(isinstance(v, dict) for v in value)


def sentences(value: Any) -> bool:
    """Tells whether a value is a list of phrases, which read better one per line than joined."""
    return isinstance(value, list) and any(isinstance(v, str) and " " in v for v in value)
