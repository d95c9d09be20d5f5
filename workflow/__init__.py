"""A case's life outside the graph: intake, review, the outbox, expiry and the worker."""
