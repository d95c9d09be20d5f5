"""A case's optional callback_url: validated, and invisible to the digest when absent."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from core.models import Case, canonical_digest

BODY: dict[str, Any] = {
    "case_id": "EXC-1",
    "workflow": "shipment_confirmation",
    "stalled_step": "awaiting ship confirmation",
    "detected_at": "2026-11-20T17:05:00Z",
    "site": "DC-ATL",
}


def test_a_case_without_a_callback_url_digests_as_before_the_field_existed() -> None:
    """Cases stored before callbacks existed are still the same case when sent again."""
    case = Case.model_validate(BODY)
    before = {k: v for k, v in case.model_dump(mode="json").items() if k != "callback_url"}
    assert case.digest() == canonical_digest(before)


def test_a_callback_url_is_part_of_the_case() -> None:
    """The same id with another callback URL is another body (a 409 at intake)."""
    one = Case.model_validate({**BODY, "callback_url": "https://wms.example/hooks"})
    two = Case.model_validate({**BODY, "callback_url": "https://other.example/hooks"})
    assert one.digest() != two.digest() != Case.model_validate(BODY).digest()


@pytest.mark.parametrize("url", ["ftp://wms.example/x", "not a url", "https://" + "a" * 2050])
def test_a_callback_url_must_be_http_and_fit_its_column(url: str) -> None:
    """Only http(s) URLs of at most 2,048 characters are accepted."""
    with pytest.raises(ValidationError):
        Case.model_validate({**BODY, "callback_url": url})
