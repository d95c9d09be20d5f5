"""The composition root: turns Settings into the running parts of the service."""
