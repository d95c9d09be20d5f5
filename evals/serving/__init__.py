"""`triage bench`: the real service under load, beside a bare LangGraph graph of the same shape."""
