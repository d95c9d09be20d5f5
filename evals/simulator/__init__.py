"""A seeded simulator of stalled-workflow cases, resolved history and loose partner messages."""

from evals.simulator.generate import SimulatedData, simulate, write_dataset

__all__ = ["SimulatedData", "simulate", "write_dataset"]
