"""Standard status and reason codes mapped to the causes they point at, from the public standards.

The shipment-status reason codes are those of the X12 214 AT7 segment; the contract names
several of them (T3, AO, AI, A1, P1, C2, CA, BD). Codes whose meaning spans causes (for example
AJ "other carrier related", P1 "processing delay", BG "other") are left out, so they count for nothing rather than for
the wrong cause. History teaches one weight per cause for these facts, so a code that history
never showed still lands on the weight its cause earned.
"""

from __future__ import annotations

import re

_X12_REASONS: dict[str, tuple[str, ...]] = {
    "carrier_cutoff_missed": (
        "AW",  # past cut-off time
        "AX",  # insufficient pick-up time
        "AY",  # missed pick-up
        "D1",  # carrier dispatch error
        "D2",  # driver not available
        "T1",  # tractor with sleeper not available
        "T2",  # tractor not available
        "T3",  # trailer not available
        "T4",  # trailer not usable due to prior product
        "T5",  # trailer class not available
        "T6",  # trailer volume not available
    ),
    "carrier_delay": (
        "A1",  # missed delivery
        "AA",  # mis-sort
        "AF",  # accident
        "AI",  # mechanical breakdown
        "AL",  # previous stop
        "AO",  # weather or natural disaster
        "BE",  # road conditions
        "BO",  # railroad failed to meet schedule
        "BR",  # train derailment
        "BF",  # carrier keying error
        "BH",  # insufficient time to complete delivery
        "T7",  # insufficient delivery time
        "RC",  # reconsigned
    ),
    "credit_hold": (
        "C2",  # credit hold
        "B4",  # held for payment
        "C8",  # collect on delivery required
        "C9",  # cash not available from consignee
    ),
    "compliance_hold": (
        "CA",  # customs (import or export)
        "BD",  # border clearance
        "AP",  # awaiting export
        "AR",  # improper international paperwork
        "AS",  # hold due to customs documentation problems
        "AE",  # restricted articles unacceptable
        "BC",  # missing documents
        "F1",  # non-express clearance delay
    ),
    "inventory_discrepancy": (
        "S1",  # delivery shortage
        "AK",  # damaged, rewrapped in hub
    ),
}
CODE_CAUSES: dict[str, str] = {
    code: cause for cause, codes in _X12_REASONS.items() for code in codes
}
# An X12 AT7 segment written out in a log line: AT7*<status>*<reason>*...
_AT7 = re.compile(r"\bAT7\*([A-Z0-9]{0,2})\*([A-Z0-9]{2})\b")
_HTTP_ERROR = re.compile(r"^(?:HTTP[ _-]?)?5\d\d$")


def code_cause(code: str) -> str | None:
    """Returns the cause a standard code points at, or None for codes of mixed or no meaning."""
    text = code.strip().upper()
    if _HTTP_ERROR.match(text):
        return "integration_failure"
    return CODE_CAUSES.get(text)


def segment_codes(text: str) -> list[str]:
    """Returns the reason codes of the X12 AT7 segments written out in a text."""
    return [match.group(2) for match in _AT7.finditer(text.upper())]
