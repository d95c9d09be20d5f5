"""The one error tree of exception-triage.

TriageError                      base of every error the service raises on purpose
├── InvalidInput                 input failed validation; names the field (HTTP 422)
├── NotFound                     a case, approval or run does not exist (HTTP 404)
├── Conflict                     same case id with a different body, or a stale decision (HTTP 409)
├── AuthenticationFailed         missing or wrong credentials (HTTP 401)
├── PolicyRefusal                the policy gate refused a principal or action (HTTP 403)
│   └── ScopeRefusal             an API key's scope does not cover the route (HTTP 403)
├── ConfigurationError           settings, policy or taxonomy files are inconsistent
├── AuditRejected                an audit row's kind is not catalogued or its detail does not fit
└── IntegrationError             an external system failed
    ├── RetryableIntegrationError      timeouts, 5xx, 429: worth another attempt
    └── PermanentIntegrationError      other 4xx, refused payloads: never retried
"""

from __future__ import annotations

from typing import Any


class TriageError(Exception):
    """Base class of every error the service raises deliberately."""

    def __init__(self, message: str, **detail: Any) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail


class InvalidInput(TriageError):
    """Raised when input fails validation; `field` names the offending field."""

    def __init__(self, message: str, *, field: str, **detail: Any) -> None:
        super().__init__(message, field=field, **detail)
        self.field = field


class NotFound(TriageError):
    """Raised when a case, approval, user or run does not exist."""


class Conflict(TriageError):
    """Raised when a request contradicts stored state (same id, different body; decided approval)."""


class AuthenticationFailed(TriageError):
    """Raised when credentials are missing or wrong."""


class PolicyRefusal(TriageError):
    """Raised when the policy gate refuses a principal or an action; `rule` names the rule."""

    def __init__(self, message: str, *, rule: str, **detail: Any) -> None:
        super().__init__(message, rule=rule, **detail)
        self.rule = rule


class ConfigurationError(TriageError):
    """Raised when settings, the policy file or the taxonomy are inconsistent."""


class AuditRejected(TriageError):
    """Raised before an audit row is written when its kind or detail breaks core.audit_events."""


class IntegrationError(TriageError):
    """Raised when an external system (ERP, LLM, Slack) fails."""


class RetryableIntegrationError(IntegrationError):
    """Raised for failures worth retrying: timeouts, connection errors, 5xx and 429."""

    def __init__(self, message: str, *, retry_after: float | None = None, **detail: Any) -> None:
        super().__init__(message, **detail)
        self.retry_after = retry_after


class PermanentIntegrationError(IntegrationError):
    """Raised for failures that another attempt cannot fix: 4xx other than 429, bad payloads."""


class ScopeRefusal(PolicyRefusal):
    """Raised when an API key calls a route its scope does not cover; the rule is `key-scope`."""

    def __init__(self, message: str, **detail: Any) -> None:
        super().__init__(message, rule="key-scope", **detail)
