"""Undetermined: statements in a case that nobody has established what caused it.

"Can't call it", "root cause unclear", "no idea why the ASN never came": someone who looked at
the case says the evidence does not settle a cause. That is what `unknown` means in the
taxonomy, and it is the one thing the classifier's wording features cannot see, because such a
sentence names no cause. The phrases are about the cause or what happened, never about a date
or a quantity: "not sure when it ships" is supplier-delay evidence, not doubt about the cause.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache

# The fact a case fragment carries when one of its texts holds such a statement.
UNDETERMINED = "undetermined"

_WHAT_HAPPENED = (
    r"(?:why|what (?:happened|went wrong|caused|is going on|'s going on|the (?:cause|problem|issue) is)"
    r"|what(?:'s| is) (?:holding|blocking|wrong|causing)|what (?:bucket|category)"
    r"|which (?:one|side|it is|it was|cause|from here|of (?:them|the (?:two|three)))"
    r"|whose (?:fault|side)|where (?:it|the fault|the problem) (?:is|lies))"
)
_CAUSE = r"(?:root[- ]cause|cause|reason|explanation)"
_PHRASES = (
    rf"(?:can'?t|cannot|could ?n[o']t|unable to) (?:call it|tell|say|pin (?:it|down)|determine|work out|figure out|explain)(?: (?:yet|for sure|it))? {_WHAT_HAPPENED}",
    # "Can't call it", not "couldn't call it in" (a driver who could not phone in).
    r"(?:can'?t|cannot|could ?n[o']t) call (?:it|this one)\b(?! in\b)",
    rf"(?:not sure|no idea|(?:do|did)(?: not|n'?t) know|unclear|not clear|no clue) {_WHAT_HAPPENED}",
    rf"{_CAUSE}s? (?:is |are |remains? |still |so far )*(?:unclear|unknown|undetermined|unexplained|a mystery|not (?:yet )?(?:clear|known|established|found|identified))",
    rf"no (?:clear |obvious |known |single )?{_CAUSE} (?:found|identified|yet|so far|established)",
    # "Nobody can say." ends the thought; "nobody can say when it ships" is about a date.
    rf"(?:nobody|no one|no-one|none of us) (?:knows|can say|can tell|could say|could tell)"
    rf"(?: (?:yet|for sure))?(?: *[.;!]| *$| {_WHAT_HAPPENED})",
    rf"{_CAUSE}s?:? (?:is |still |remains? )*(?:tbd|tbc|to be determined|to be confirmed)\b",
    r"\binconclusive\b",
    r"\bunexplained\b",
    r"nothing (?:decides|settles|points to (?:one|a single|any))",
    r"no (?:evidence|proof) (?:either way|one way or the other)",
    r"(?:facts|evidence|records|data) (?:do not |don't |does not |doesn't )?(?:supports?|settles?|proves?) neither",
    r"could be (?:either|anything|any (?:of|one of)|one of (?:several|a few))",
    # Doubt between alternatives: "not sure if the truck came early or we weren't done".
    r"(?:not sure|unsure|no idea|unclear) (?:if|whether) [^.?!;]{3,120}?\bor\b",
    rf"(?:too early|hard|impossible) to (?:say|tell) {_WHAT_HAPPENED}",
    # de, es, fr, nl: the same statements in the partner languages the cues cover.
    r"ursache (?:ist |bleibt |noch )*(?:unklar|unbekannt|ungekl[aä]rt)",
    r"(?:unklar|keine ahnung),? (?:warum|wieso|was passiert)",
    r"causa (?:es |sigue |todav[ií]a )*(?:desconocida|poco clara|sin determinar)",
    r"no (?:sabemos|se sabe|est[aá] claro) (?:por qu[eé]|qu[eé] pas[oó]|la causa)",
    r"cause (?:est |reste |toujours )*(?:inconnue|ind[ée]termin[ée]e|pas claire)",
    r"(?:on ne sait pas|pas clair|aucune id[ée]e) (?:pourquoi|ce qui s'est pass[ée])",
    r"oorzaak (?:is |blijft |nog )*(?:onbekend|onduidelijk)",
    r"(?:onduidelijk|geen idee|weten niet) (?:waarom|wat er)",
)


@cache
def _compiled() -> re.Pattern[str]:
    # Matched on lower-cased lines: with re.IGNORECASE the scan took 2.5 times as long.
    return re.compile(r"\b(?:" + "|".join(_PHRASES) + ")")


@lru_cache(maxsize=8192)
def _line_statements(line: str) -> tuple[str, ...]:
    lowered = line.lower().replace("\u2019", "'")
    return tuple(match.group(0) for match in _compiled().finditer(lowered))


def undetermined_statements(text: str) -> list[str]:
    """Returns each phrase in the text that says the cause is not established, lower-cased.

    No phrase spans a line break, so a text is scanned line by line, and each line once: the
    classifier reads the whole case and the grounding then its events and messages, which are
    lines of it.
    """
    return [found for line in text.split("\n") for found in _line_statements(line)]
