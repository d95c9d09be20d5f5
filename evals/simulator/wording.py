"""Text variation: picking phrasings, formatting numbers and times, and roughening prose."""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from datetime import datetime

# Shorthand that operators actually type; applied to whole words only.
ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    "warehouse": ("whse", "WH", "DC"),
    "shipment": ("shpmt", "shipmt", "load"),
    "tomorrow": ("tmrw", "tmr", "tomorow"),
    "please": ("pls", "plz"),
    "because": ("b/c", "bc", "cuz"),
    "with": ("w/",),
    "without": ("w/o",),
    "quantity": ("qty",),
    "approximately": ("approx", "~"),
    "purchase order": ("PO",),
    "customer": ("cust", "cx"),
    "supplier": ("supp", "vendor"),
    "received": ("rcvd", "recv'd"),
    "delivery": ("dlvry", "del"),
    "appointment": ("appt",),
    "information": ("info",),
    "message": ("msg",),
    "minutes": ("min", "mins"),
    "hours": ("hrs", "hr"),
    "trailer": ("trlr",),
    "inventory": ("inv", "stock"),
    "confirmed": ("conf'd", "confirmed"),
    "for your information": ("FYI", "fyi"),
    "as soon as possible": ("ASAP", "asap"),
    "regarding": ("re", "re:"),
}

_WORD = re.compile(r"[A-Za-z]{5,}")


class Wording:
    """Chooses phrasings and formats values with a seeded random source."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def pick(self, options: Sequence[str]) -> str:
        """Returns one option."""
        return self.rng.choice(options)

    def chance(self, probability: float) -> bool:
        """Returns True with the given probability."""
        return self.rng.random() < probability

    def fill(self, options: Sequence[str], values: dict[str, object]) -> str:
        """Picks one template and fills it with the given values."""
        return self.pick(options).format(**values)

    def clock(self, moment: datetime) -> str:
        """Formats a time of day in one of the ways people write it."""
        hour, minute = moment.hour, moment.minute
        twelve = hour % 12 or 12
        suffix = "am" if hour < 12 else "pm"
        styles = (
            f"{hour:02d}:{minute:02d}",
            f"{hour:02d}:{minute:02d}",
            f"{twelve}:{minute:02d}{suffix}",
            f"{twelve}:{minute:02d} {suffix.upper()}",
            f"{hour:02d}{minute:02d}",
            f"{twelve}{suffix}" if minute == 0 else f"{twelve}.{minute:02d}{suffix}",
        )
        return self.pick(styles)

    def day(self, moment: datetime) -> str:
        """Formats a calendar day in one of the ways people write it."""
        month = moment.strftime("%b")
        styles = (
            f"{moment.month}/{moment.day}",
            f"{moment.month:02d}/{moment.day:02d}",
            f"{month} {moment.day}",
            f"{moment.day} {month}",
            moment.strftime("%Y-%m-%d"),
            moment.strftime("%A"),
            f"{moment.strftime('%a')} {moment.day} {month}",
        )
        return self.pick(styles)

    def number(self, value: float) -> str:
        """Formats a count or amount with or without thousands separators."""
        if float(value).is_integer():
            whole = int(value)
            return self.pick((f"{whole:,}", str(whole)))
        return self.pick((f"{value:,.2f}", f"{value:.2f}"))

    def lowercase(self, text: str, probability: float) -> str:
        """Lower-cases the text sometimes, as hurried writers do."""
        return text.lower() if self.chance(probability) else text

    def abbreviate(self, text: str, probability: float) -> str:
        """Replaces some whole words and phrases with common shorthand."""
        for phrase, shorts in ABBREVIATIONS.items():
            pattern = re.compile(rf"\b{re.escape(phrase)}\b", re.IGNORECASE)
            if pattern.search(text) and self.chance(probability):
                short = self.pick(shorts)
                text = pattern.sub(short.replace("\\", "\\\\"), text, count=1)
        return text

    def misspell(self, text: str, probability: float) -> str:
        """Introduces one realistic typo (swapped, doubled or dropped letter) sometimes."""
        words = list(_WORD.finditer(text))
        if not words or not self.chance(probability):
            return text
        match = self.rng.choice(words)
        word = match.group(0)
        spot = self.rng.randrange(1, len(word) - 2)
        kind = self.rng.randrange(3)
        if kind == 0:
            broken = word[:spot] + word[spot + 1] + word[spot] + word[spot + 2 :]
        elif kind == 1:
            broken = word[:spot] + word[spot] + word[spot:]
        else:
            broken = word[:spot] + word[spot + 1 :]
        return text[: match.start()] + broken + text[match.end() :]

    def shuffle_tail(self, sentences: list[str]) -> list[str]:
        """Keeps the lead sentence first and shuffles the rest, as people order facts freely."""
        if len(sentences) < 3:
            return list(sentences)
        tail = sentences[1:]
        self.rng.shuffle(tail)
        return [sentences[0], *tail]
