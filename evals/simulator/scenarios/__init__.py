"""One scenario per cause of the default taxonomy, keyed by cause id."""

from __future__ import annotations

from evals.simulator.scenarios import (
    carrier_cutoff,
    carrier_delay,
    compliance_hold,
    credit_hold,
    integration_failure,
    inventory_discrepancy,
    master_data_error,
    pricing_mismatch,
    supplier_delay,
    warehouse_congestion,
)
from evals.simulator.scenarios.spec import CauseScenario, Cue

SCENARIOS: dict[str, CauseScenario] = {
    module.SCENARIO.cause: module.SCENARIO
    for module in (
        carrier_cutoff,
        carrier_delay,
        warehouse_congestion,
        inventory_discrepancy,
        supplier_delay,
        integration_failure,
        master_data_error,
        credit_hold,
        pricing_mismatch,
        compliance_hold,
    )
}

__all__ = ["SCENARIOS", "CauseScenario", "Cue"]
