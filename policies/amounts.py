"""The amount an ERP posting puts at stake: the action's own, in the case currency, or the case's."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from core.errors import PolicyRefusal
from core.models import Case
from core.taxonomy import ActionSpec
from policies.config import PolicyConfig


def _magnitude(raw: Any) -> float:
    """Returns |raw| for a number or numeric text; anything else counts as unbounded."""
    if isinstance(raw, bool):
        return math.inf
    if isinstance(raw, str):
        try:
            raw = float(raw.replace(",", "").strip())
        except ValueError:
            return math.inf
    if not isinstance(raw, int | float):
        return math.inf
    value = abs(float(raw))
    return value if math.isfinite(value) else math.inf


def own_amount(spec: ActionSpec | None, params: Mapping[str, Any]) -> float | None:
    """Returns the action's own amount in its own currency, or None when it carries none."""
    if spec is None or not spec.posting_amount:
        return None
    factors = [params.get(name) for name in spec.posting_amount]
    if any(factor is None for factor in factors):
        return None  # e.g. an adjustment without a unit cost has no value of its own
    return math.prod(_magnitude(factor) for factor in factors)


def convert(value: float, source: str, target: str, rates: Mapping[str, float]) -> float:
    """Converts an amount between currencies, or raises PolicyRefusal when a rate is missing."""
    if source == target or value in (0.0, math.inf):
        return value
    missing = [code for code in (source, target) if code not in rates]
    if missing:
        raise PolicyRefusal(
            f"cannot convert {source} to {target}: no rate for {', '.join(missing)} in the policy",
            rule="currency-conversion",
        )
    return value * rates[source] / rates[target]


def posting_amount(
    spec: ActionSpec | None,
    params: Mapping[str, Any],
    *,
    case_amount: float,
    case_currency: str | None,
    config: PolicyConfig,
) -> float:
    """Returns the action's own amount converted to the case currency, else the case amount."""
    own = own_amount(spec, params)
    if own is None:
        return case_amount
    code = params.get(spec.posting_currency) if spec and spec.posting_currency else None
    if not isinstance(code, str) or not code or case_currency is None:
        # No currency written means the case currency; an unknown case currency leaves the amount
        # as written, and the gate's stored approval count still binds.
        return own
    return convert(own, code, case_currency, config.rates)


def amount_at_stake(
    case: Case, action: str, params: Mapping[str, Any], config: PolicyConfig
) -> float:
    """Returns the amount the four-eyes rule applies to for one action on a case."""
    return posting_amount(
        config.catalogue.get(action),
        params,
        case_amount=case.amount.value if case.amount else 0.0,
        case_currency=case.amount.currency if case.amount else None,
        config=config,
    )
