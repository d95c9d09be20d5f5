"""The seal that only the policy gate may hold; import-linter forbids every other importer."""

from __future__ import annotations

POSTING_SEAL = object()
