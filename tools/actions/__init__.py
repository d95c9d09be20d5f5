"""Non-ERP action integration: the ActionRunner protocol, the recording adapter and a fake."""

from tools.actions.base import ActionReceipt, ActionRequest, ActionRunner
from tools.actions.fake import FakeActions
from tools.actions.recording import RecordingActions

__all__ = [
    "ActionReceipt",
    "ActionRequest",
    "ActionRunner",
    "FakeActions",
    "RecordingActions",
]
