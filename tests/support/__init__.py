"""Shared test support: factories, harnesses and local stand-ins for outside services."""
