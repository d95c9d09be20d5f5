"""Secret keys kept in files of the data directory, created once with mode 0600."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path


def read_or_create_key(path: Path, generate: Callable[[], bytes]) -> bytes:
    """Returns the key kept in a file, creating it (mode 0600) from generate() on first use."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process created it first; its key is the one to use
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(generate())
    return path.read_bytes().strip()
