"""The wake-up interface: something that tells the worker outbox work was committed elsewhere."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class WakeSource(Protocol):
    """Calls the worker's wake-up when another process commits outbox work, ahead of its poll."""

    async def listen(self, wake: Callable[[], None]) -> None:
        """Calls `wake` whenever work may be due, until cancelled; never returns on its own."""
        ...
