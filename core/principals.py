"""Who is acting: people with roles, and the non-person principals that can never approve."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field


class PrincipalKind(StrEnum):
    """The kinds of actor the service knows."""

    person = "person"
    api_key = "api_key"
    agent = "agent"
    slack_bot = "slack_bot"
    system = "system"


class KeyScope(StrEnum):
    """What an API key may do: submit and read its own cases, read everything, or everything."""

    orchestrator = "orchestrator"
    read = "read"
    admin = "admin"


class Principal(BaseModel):
    """An authenticated actor; only a person can approve anything."""

    model_config = {"frozen": True}

    name: str
    kind: PrincipalKind
    roles: frozenset[str] = Field(default_factory=frozenset)
    scope: KeyScope | None = None  # set for API keys only; people act by their roles

    @property
    def is_person(self) -> bool:
        """Tells whether this principal is a person."""
        return self.kind is PrincipalKind.person

    @property
    def label(self) -> str:
        """Returns the name recorded in audit rows, e.g. `person:alice` or `api_key:orchestrator`."""
        return f"{self.kind.value}:{self.name}"


AGENT = Principal(name="triage-agent", kind=PrincipalKind.agent)
SYSTEM = Principal(name="triage-service", kind=PrincipalKind.system)
