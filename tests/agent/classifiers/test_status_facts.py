"""Status attributes read as facts: errors that still stand, and filings that read clean."""

from __future__ import annotations

import pytest

from agent.classifiers.facts import attribute_facts


@pytest.mark.parametrize(
    ("value", "standing"),
    [
        pytest.param("401 Unauthorized: token expired", True, id="auth-error"),
        pytest.param("timeout", True, id="timeout"),
        pytest.param("timeout 3 days ago, retried OK", False, id="retried-ok"),
        pytest.param("HTTP 429 (rate limit) - recovered", False, id="recovered"),
        pytest.param("mapping error, fixed in release 4.2", False, id="fixed"),
        pytest.param("none", False, id="none"),
        pytest.param("", False, id="empty"),
    ],
)
def test_only_a_sync_error_that_still_stands_is_a_sync_error(value: str, standing: bool) -> None:
    """An error the value itself says is over is no evidence of an integration failure now."""
    facts = attribute_facts({"last_sync_error": value})
    assert ("sync_error" in facts) is standing
    recovered = bool(value) and value != "none" and not standing
    assert ("sync_recovered" in facts) is recovered, "an error that is over keeps its own feature"


@pytest.mark.parametrize(
    ("attributes", "fact"),
    [
        pytest.param({"customs_status": "accepted"}, "compliance_clear", id="accepted"),
        pytest.param({"export_filing_status": "Released"}, "compliance_clear", id="released"),
        pytest.param({"customs_status": "held for inspection"}, "compliance_flag", id="held"),
        pytest.param({"hazmat": True}, "compliance_flag", id="hazmat"),
    ],
)
def test_a_customs_status_reads_as_a_hold_or_as_clear(
    attributes: dict[str, object], fact: str
) -> None:
    """ "Accepted" is a clean filing: it once read as a hold because it was not a known clean word."""
    facts = attribute_facts(attributes)
    assert fact in facts
    other = ({"compliance_flag", "compliance_clear"} - {fact}).pop()
    assert other not in facts
