"""Cleared conditions: statements that a cause's condition was checked and is fine, or lifted.

"Credit check passed", "customs hold released" or "no count variance" name a cause's condition
only to say it does not hold; counting them as cues for that cause reads the case backwards.
"""

from __future__ import annotations

import re

from agent.classifiers.cues_foreign import (
    FOREIGN_CLEARED_PHRASES,
    FOREIGN_CLEARED_WORDS,
    FOREIGN_NEGATIONS,
)

# A condition that was checked and found fine, or that has been lifted, is not evidence of the
# cause it names: "credit check passed", "customs hold released", "released from credit hold",
# "no count variance". A cue is dropped when one of these words follows it in its clause (at
# most two words between, none a negation), when a releasing word leads up to it, or when it
# lies inside a phrase that states the check came out clean.
_CLEARED_WORDS = (
    r"released",
    r"lifted",
    r"removed",
    r"cleared",
    r"resolved",
    r"fixed",
    r"reconciled",
    r"ok",
    r"okay",
    r"in order",
    r"back to normal",
    r"no longer (?:an issue|a problem|blocking)",
)
_NEGATIONS = (r"not", r"no", r"never", r"n't", r"yet", r"pending", r"awaiting", r"still")
_CLEARED_PHRASES = (
    r"no (?:count |stock |inventory |price |pricing |quantity |qty )?"
    r"(?:variance|discrepanc(?:y|ies)|differences?|mismatch(?:es)?)",
    r"(?:counts?|stock|quantit(?:y|ies)|qty|prices?|invoice|amounts?|totals?) "
    r"(?:(?:all |now )?match(?:es|ed)|agree[sd]?|(?:is |are )?(?:correct|in line))\b",
    r"within (?:the )?(?:credit )?(?:limit|terms|tolerance)",
    r"credit (?:check|review) (?:ok|approved|passed|cleared|complete[d]?|fine)",
    r"(?:checks?|review|inspection|screening|validation) (?:has |have |was |were )?passed",
    r"passed (?:the )?(?:credit |customs |compliance |export )?"
    r"(?:check|review|inspection|screening)",
    # A count that found what the system expected: "counted 60, expected 60".
    r"counted (?P<counted>\d+),? (?:vs\.? |versus |against )?(?:expected|system|book|on[- ]hand)"
    r"(?: qty| quantity)?:? (?P=counted)\b",
    r"(?:expected|system|book) (?P<booked>\d+),? counted (?P=booked)\b",
    # A cause ruled out by name: "it's not a count problem", "this isn't a carrier issue", "short
    # picks are not inventory errors", "not a supplier delay".
    r"(?:is|'s|was|are|were)(?: not|n't) (?:a |an |the )?(?:[\w/'-]+ ){0,2}?"
    r"(?:problem|issue|fault|errors?|delay|discrepanc(?:y|ies))\b",
    r"not (?:a |an )(?:[\w/'-]+ ){0,2}?(?:problem|issue|errors?|delay|discrepancy)\b",
    r"(?:asn|advance ship(?:ping)? notice|855|856|po acknowledg(?:e)?ment|acknowledg(?:e)?ment) "
    r"(?:was |has been )?received (?:ok|okay|on time|in full|as planned|as ordered|complete)\b",
    # Goods classed as outside the dangerous-goods rules: "SDS says non-hazardous", "not DG".
    r"(?:non|not)[- ](?:hazardous|hazmat|dangerous(?: goods)?|dg|regulated)\b",
    # An entry released with no examination ordered: "CBP 1C, no exam".
    r"no (?:customs |cbp |physical |intensive |x-ray )?exam(?:ination)?\b(?! date| yet| scheduled)",
)
# Words that lead up to the condition they lift: "released from credit hold", "cleared customs".
_CLEARED_BEFORE = re.compile(
    r"(?:(?:released|removed|lifted|freed) (?:from|of) |cleared (?:by |through |from )?"
    r"|no longer (?:on |in |under |at |held (?:at |by |in ))?)(?:the |a |an |our |its )?\Z"
)
# Words are apart by spaces, or by the colon of a record ("customs: entry released") or the
# underscore of an event type ("customs_cleared").
_CLEARED_AFTER = re.compile(
    r"[ \t_:]*(?:(?:(?!(?:{neg})\b)[\w/#'-]+?)[ \t_:]+){{0,2}}?"
    r"(?:(?:has|have|had) been |was |were |is |are |now |got |been |all )*"
    r"(?:{words})\b".format(
        neg="|".join(_NEGATIONS + FOREIGN_NEGATIONS),
        words="|".join(_CLEARED_WORDS + FOREIGN_CLEARED_WORDS),
    )
)
_CLEARED_SPANS = re.compile(r"\b(?:" + "|".join(_CLEARED_PHRASES + FOREIGN_CLEARED_PHRASES) + ")")


def cleared_spans(line: str) -> list[tuple[int, int]]:
    """Returns the spans of a lower-cased line that state a condition is fine or lifted."""
    return [m.span() for m in _CLEARED_SPANS.finditer(line)]


# How far past a cue its clause is read for a releasing word. Two words, a few auxiliaries and
# the releasing phrase fit well inside; the bound keeps a cue's check constant-time on a line of
# any length ("is is is ..." would otherwise feed the auxiliaries' repeat to the line's end).
_AFTER_REACH = 96
_WORD_TAIL = re.compile(r"[\w/#'-]{0,32}")


def _clause_end(line: str, end: int) -> int:
    """Returns where a cue's clause is read up to: _AFTER_REACH on, then to the end of that word."""
    stop = end + _AFTER_REACH
    if stop >= len(line):
        return len(line)
    tail = _WORD_TAIL.match(line, stop)
    return tail.end() if tail else stop


def is_cleared(line: str, start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    """Tells whether the cue at line[start:end] names a condition the line says is fine or lifted."""
    if any(a < end and start < b for a, b in spans):
        return True
    if _CLEARED_BEFORE.search(line, max(0, start - 40), start) is not None:
        return True
    return _CLEARED_AFTER.match(line, end, _clause_end(line, end)) is not None


# What a clean-check phrase is about, by the words inside it: "no count variance" and "counted
# 60, expected 60" are about stock, "prices match" about the invoice, "credit check passed"
# about credit. A phrase may name more than one ("quantities agree").
_PHRASE_TOPICS = (
    ("inventory_discrepancy", re.compile(r"count|stock|inventory|variance|discrepanc|on[- ]hand")),
    ("pricing_mismatch", re.compile(r"price|pricing|invoice|amount|total")),
    ("credit_hold", re.compile(r"credit")),
    (
        "compliance_hold",
        re.compile(r"customs|export|compliance|hazard|hazmat|dangerous|\bdg\b|regulated|\bexam"),
    ),
    ("supplier_delay", re.compile(r"asn|ship(?:ping)? notice|855|856|acknowledg|supplier|vendor")),
    ("carrier_delay", re.compile(r"carrier|truck|transport|transit")),
    ("warehouse_congestion", re.compile(r"warehouse|labou?r|staffing|capacity")),
    ("integration_failure", re.compile(r"system|interface|\bedi\b|integration|sync")),
    ("master_data_error", re.compile(r"master data|\bdata\b")),
)


def cleared_topics(line: str) -> set[str]:
    """Returns the causes whose condition a lower-cased line says was checked and found fine."""
    found: set[str] = set()
    for start, end in cleared_spans(line):
        phrase = line[start:end]
        found |= {cause for cause, words in _PHRASE_TOPICS if words.search(phrase)}
    return found
