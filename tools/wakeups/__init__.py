"""Cross-process wake-ups of the worker: the WakeSource protocol, PostgreSQL LISTEN, and a fake."""

from tools.wakeups.base import WakeSource
from tools.wakeups.fake import FakeWakeups
from tools.wakeups.postgres import PostgresListener

__all__ = ["FakeWakeups", "PostgresListener", "WakeSource"]
