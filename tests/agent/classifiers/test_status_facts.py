"""Status attributes read as facts: errors that still stand, and filings that read clean."""

from __future__ import annotations

import pytest

from agent.classifiers.facts import Attributes, attribute_facts


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


@pytest.mark.parametrize(
    ("attributes", "agrees"),
    [
        pytest.param(
            {"erp_on_hand": 48, "wms_on_hand": 48, "cycle_count_result": 48}, True, id="all-48"
        ),
        pytest.param({"onhand_erp": 10, "counted_qty": 10}, True, id="counted"),
        pytest.param({"system_qty": 12, "physical_count_qty": 12}, True, id="physical"),
        pytest.param(
            {"erp_on_hand": 48, "wms_on_hand": 40, "cycle_count_result": 48}, False, id="wms-off"
        ),
        pytest.param({"erp_on_hand": 48, "cycle_count": 45}, False, id="count-short"),
        pytest.param({"on_hand": 10, "retry_count": 10}, False, id="a-retry-count"),
        pytest.param({"handling_units": 4, "cycle_count": 4}, False, id="handling-is-not-hand"),
        pytest.param({"erp_on_hand": 5, "count_variance": 0}, False, id="a-difference"),
        pytest.param({"cycle_count_result": 48}, False, id="no-book-figure"),
    ],
)
def test_a_physical_count_equal_to_every_book_figure_reads_as_agreeing(
    attributes: dict[str, object], agrees: bool
) -> None:
    """Somebody counted and the shelf holds what the systems say: stock and book agree."""
    assert ("count_agrees" in attribute_facts(attributes)) is agrees


@pytest.mark.parametrize(
    ("attributes", "missing"),
    [
        pytest.param({"item_gross_weight_kg": 0.0}, True, id="weight-zero"),
        pytest.param({"uom_conversion_cs_ea": None}, True, id="conversion-null"),
        pytest.param({"gtin": ""}, True, id="barcode-empty"),
        pytest.param({"item_length": "missing"}, True, id="dimension-missing"),
        pytest.param({"min_qty": 0, "max_qty": 0}, True, id="planning-bounds-zero"),
        pytest.param({"fwd_min": 0}, True, id="forward-pick-min"),
        pytest.param({"item_weight": 12.5}, False, id="weight-set"),
        pytest.param({"wait_min": 0}, False, id="minutes"),
        pytest.param({"weight_variance": 0}, False, id="a-difference"),
        pytest.param({"max_weight_kg": 500}, False, id="location-limit"),
        pytest.param({"packing_list_received": False}, False, id="a-flag"),
    ],
)
def test_an_empty_item_master_field_reads_as_missing_reference_data(
    attributes: Attributes, missing: bool
) -> None:
    """A zero weight, a null conversion or zero min/max is master data missing, whatever the text."""
    assert ("master_field_missing" in attribute_facts(attributes)) is missing
