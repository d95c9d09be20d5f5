"""The test suite; a package so `tests.support` imports resolve from the repository root."""
