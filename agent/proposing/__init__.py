"""Turning a diagnosed cause into concrete catalogue actions."""
