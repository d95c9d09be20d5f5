"""agent/nodes package."""
