"""Shared domain models, settings, errors and persistence for exception-triage."""
