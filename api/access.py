"""Who may call what: API keys by their scope, people by the roles the policy gate checks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Annotated

from fastapi import Depends

from api.auth import current_principal
from core.errors import ScopeRefusal
from core.principals import KeyScope, Principal

_ORCHESTRATOR, _READ, _ADMIN = KeyScope.orchestrator, KeyScope.read, KeyScope.admin


class Access(StrEnum):
    """What a route does, as far as API key scopes care."""

    submit = "submit cases"
    read_cases = "read cases"
    import_context = "import history or messages"
    read_all = "read approvals, the outbox and postings"
    decide = "decide approvals"
    read_docs = "read the API documentation"
    administer = "administer the service"
    read_metrics = "read the service's metrics"


# People are not in this table: any reviewer may call any route, and the policy gate decides
# by their roles what they may approve. Only admin keys reach the decision route, where the
# gate still refuses every principal that is not a person.
SCOPES: dict[Access, frozenset[KeyScope]] = {
    Access.submit: frozenset({_ORCHESTRATOR, _ADMIN}),
    Access.read_cases: frozenset({_ORCHESTRATOR, _READ, _ADMIN}),
    Access.import_context: frozenset({_ORCHESTRATOR, _ADMIN}),
    Access.read_all: frozenset({_READ, _ADMIN}),
    Access.decide: frozenset({_ADMIN}),
    Access.read_docs: frozenset({_ORCHESTRATOR, _READ, _ADMIN}),
    Access.administer: frozenset({_ADMIN}),
    Access.read_metrics: frozenset({_READ, _ADMIN}),
}


def authorized(access: Access) -> Callable[[Principal], Awaitable[Principal]]:
    """Returns the dependency that authenticates the caller and checks its scope covers `access`."""

    async def check(caller: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if caller.is_person:
            return caller
        scope = caller.scope or KeyScope.orchestrator  # least privilege when unset
        if scope not in SCOPES[access]:
            raise ScopeRefusal(
                f"an API key with scope {scope.value!r} may not {access.value}", scope=scope.value
            )
        return caller

    return check


def sees_case(caller: Principal, submitted_by: str) -> bool:
    """Tells whether the caller may read a case: orchestrator keys see only what they submitted."""
    owner = owner_filter(caller)
    return owner is None or submitted_by == owner


def owner_filter(caller: Principal) -> str | None:
    """Returns the submitter whose cases alone the caller may see, or None when it sees all."""
    if caller.is_person or (caller.scope or KeyScope.orchestrator) is not KeyScope.orchestrator:
        return None
    return caller.label


Submitter = Annotated[Principal, Depends(authorized(Access.submit))]
CaseReader = Annotated[Principal, Depends(authorized(Access.read_cases))]
Importer = Annotated[Principal, Depends(authorized(Access.import_context))]
Reader = Annotated[Principal, Depends(authorized(Access.read_all))]
Decider = Annotated[Principal, Depends(authorized(Access.decide))]
DocsReader = Annotated[Principal, Depends(authorized(Access.read_docs))]
Administrator = Annotated[Principal, Depends(authorized(Access.administer))]
