"""ERP integration: the ErpPoster protocol, the sandbox and HTTP adapters, and a fake."""

from tools.erp.base import ErpPoster, PostingReceipt, require_approved_posting
from tools.erp.fake import FakeErp
from tools.erp.http import HttpErp
from tools.erp.sandbox import SandboxErp

__all__ = [
    "ErpPoster",
    "FakeErp",
    "HttpErp",
    "PostingReceipt",
    "SandboxErp",
    "require_approved_posting",
]
