"""Model files shipped inside an installed package, located without importing it and hash-checked."""

from __future__ import annotations

import hashlib
import importlib.metadata
from dataclasses import dataclass
from pathlib import Path

from core.errors import ConfigurationError

_CHUNK = 1 << 20


@dataclass(frozen=True)
class PackagedFile:
    """One file inside an installed distribution, with the SHA-256 it must have."""

    distribution: str
    path: str
    sha256: str

    def verified_path(self) -> Path:
        """Returns the file's location after checking its SHA-256; refuses a missing or altered file."""
        location = self.locate()
        digest = file_sha256(location)
        if digest != self.sha256:
            raise ConfigurationError(
                f"{location} has SHA-256 {digest}, not the pinned {self.sha256}; refusing to "
                f"load it: reinstall {self.distribution} at the version in requirements.lock"
            )
        return location

    def locate(self) -> Path:
        """Returns where the installed distribution keeps the file; raises if it is not there."""
        # importlib.metadata finds the file without importing the package: wordllama's import
        # configures the root logger and pulls in its hub-download code.
        try:
            distribution = importlib.metadata.distribution(self.distribution)
        except importlib.metadata.PackageNotFoundError as exc:
            raise ConfigurationError(
                f"the package {self.distribution!r} that ships the embedding model is not "
                "installed; run `make install`"
            ) from exc
        location = Path(str(distribution.locate_file(self.path)))
        if not location.is_file():
            raise ConfigurationError(f"{self.distribution} does not ship {self.path}")
        return location


def file_sha256(path: Path) -> str:
    """Returns the hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
