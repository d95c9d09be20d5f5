"""agent/classifiers package."""
