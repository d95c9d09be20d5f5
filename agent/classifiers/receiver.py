"""Deliveries the receiver stopped: the carrier came, and the consignee refused or put it off.

A carrier delay is freight held or late after pickup. When the case says the consignee refused
the delivery, or asked for it to be held or postponed, the carrier did its part and the stall
is the receiver's: a commercial dispute, a site not ready, a customer's own timing. Such a
statement says the carrier-delay condition was checked and does not hold, unless the same line
says the delivery was late ("refused because it arrived two days late" is still the carrier's).
"""

from __future__ import annotations

import re

_RECEIVER = r"(?:consignee|customer|receiver|store|buyer|client)"
_FREIGHT = r"(?:delivery|shipment|freight|load|goods|pallets?|order|it)"
_STOPPED = re.compile(
    "|".join(
        (
            # "the consignee refused the delivery", "customer rejected the load"
            rf"\b{_RECEIVER}\b[^.\n]{{0,40}}?\b(?:refused|rejected|declined) (?:the )?{_FREIGHT}\b",
            # "delivery refused by the consignee", "load rejected at the dock"
            rf"\b{_FREIGHT} (?:was |got )?(?:refused|rejected) (?:by|at) (?:the )?"
            rf"(?:{_RECEIVER}|door|dock)\b",
            r"\brefused (?:at|on) (?:the )?(?:door|dock)\b",
            # "the customer asked us to hold the delivery", "store wants to postpone"
            rf"\b{_RECEIVER}\b[^.\n]{{0,30}}?\b(?:asked|requested|wants?|wanted) "
            r"(?:us |the carrier )?to (?:hold|postpone|delay|reschedule|push back|defer)\b",
            # "postponed at the customer's request", "customer-requested hold"
            rf"\b(?:at|on|per) (?:the )?{_RECEIVER}'?s? (?:own )?request\b",
            rf"\b{_RECEIVER}[- ](?:requested|driven|initiated) "
            r"(?:hold|postponement|reschedul\w*|delay)\b",
            # "the customer's site is not ready", "consignee unable to receive"
            rf"\b(?:{_RECEIVER}|receiving dock|site)\b[^.\n]{{0,30}}?\b(?:was |is |were )?"
            r"(?:not ready|cannot receive|could not receive|unable to receive)\b",
        )
    )
)
# A line that says the freight was late: the refusal may be the carrier's doing.
_LATE = re.compile(
    r"\b(?:late|delayed|delays|behind|overdue|missed (?:the )?(?:window|appointment|slot)"
    r"|past (?:the )?(?:window|eta|due)|after the window)\b"
)


def receiver_stopped(text: str) -> bool:
    """Tells whether a text says the receiver refused or put off a delivery that was not late."""
    for line in text.lower().splitlines():
        if _STOPPED.search(line) and not _LATE.search(line):
            return True
    return False
