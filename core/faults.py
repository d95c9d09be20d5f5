"""Named crash points for the crash suite: a configured point kills its own process there.

The crash suite (tests/api/test_crash_recovery.py) starts the real service with
TRIAGE_CRASH_AT naming one point, such as "after:execute" or "outbox.posted", optionally the
case (TRIAGE_CRASH_CASE) and a count. The process sends itself SIGKILL the given time it
reaches that point, exactly as an operator's kill -9 or an OOM kill would stop it.
Unconfigured, every point is a no-op.
"""

from __future__ import annotations

import os
import signal


class FaultPoints:
    """Kills this process with SIGKILL when it reaches the configured point the nth time."""

    def __init__(self, point: str | None = None, nth: int = 1, case_id: str | None = None) -> None:
        self.point = point
        self.remaining = nth
        self.case_id = case_id

    def reach(self, point: str, case_id: str | None = None) -> None:
        """Marks that the process reached a point for a case; dies when it is the configured one."""
        if self.due(point, case_id):
            os.kill(os.getpid(), signal.SIGKILL)

    def due(self, point: str, case_id: str | None = None) -> bool:
        """Counts a visit to a point and says whether this is the configured nth one.

        For a point reached in a child process (the classifier's training): the parent counts,
        and only the child it starts at that moment dies.
        """
        if point != self.point or (self.case_id is not None and case_id != self.case_id):
            return False
        self.remaining -= 1
        return self.remaining == 0
