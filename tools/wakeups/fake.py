"""A wake source for tests: rings the worker on demand, or fails as told."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class FakeWakeups:
    """Calls every listening worker's wake-up when `ring` is called; `fail_with` makes listen raise."""

    def __init__(self, *, fail_with: Exception | None = None) -> None:
        self.fail_with = fail_with
        self.listening = asyncio.Event()
        self._wakes: list[Callable[[], None]] = []

    async def listen(self, wake: Callable[[], None]) -> None:
        """Registers the wake-up until cancelled, or raises the scripted failure at once."""
        if self.fail_with is not None:
            raise self.fail_with
        self._wakes.append(wake)
        self.listening.set()
        try:
            await asyncio.Event().wait()  # only cancellation ends a listener
        finally:
            self._wakes.remove(wake)
            self.listening.clear()

    def ring(self) -> None:
        """Wakes every listening worker, as a committed notification would."""
        for wake in list(self._wakes):
            wake()
