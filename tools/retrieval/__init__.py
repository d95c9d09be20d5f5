"""Context retrieval: similar resolved history and loose messages, behind one Protocol.

The Chroma adapter lives in `tools.retrieval.chroma` and is not imported here, because importing
chromadb takes seconds and tests and evals use the in-memory fake.
"""

from tools.retrieval.base import ContextIndex
from tools.retrieval.fake import FakeContextIndex

__all__ = ["ContextIndex", "FakeContextIndex"]
