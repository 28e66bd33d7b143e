"""The one error tree of Registrar, each error carrying the Okta error object it maps to.

Every failure a caller can see is a ``RegistrarError``; ``registrar.api.errors`` renders it as Okta's
``{errorCode, errorSummary, errorLink, errorId, errorCauses}``. The ``reason`` of an error is the
human sentence written to ``outcome.reason`` when the failure is audited.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "Conflict",
    "DiscoveryFailed",
    "DuplicateResource",
    "InvalidFilter",
    "InvalidSearchCriteria",
    "InvalidToken",
    "MalformedBody",
    "MethodNotAllowed",
    "NotFound",
    "PermissionDenied",
    "RateLimited",
    "Refusal",
    "RegistrarError",
    "ServiceUnavailable",
    "UnsafeDestination",
    "ValidationFailed",
]


class Refusal(Exception):
    """An internal failure (never shown as an Okta error object) whose ``reason`` is a sentence safe to
    store, audit and show: a refused client assertion, an outbound call that got no usable answer."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class RegistrarError(Exception):
    """Base of every error Registrar reports to a caller."""

    status: int = 500
    code: str = "E0000009"
    summary: str = "Internal Server Error"

    def __init__(self, summary: str | None = None, causes: Sequence[str] = (), reason: str | None = None):
        self.summary = summary if summary is not None else type(self).summary
        self.causes = list(causes)
        self._reason = reason
        super().__init__(self.summary)

    @property
    def reason(self) -> str:
        """The sentence recorded as ``outcome.reason`` (1..255 characters, as Okta's model requires)."""
        text = self._reason or (self.causes[0] if self.causes else self.summary)
        return text[:255] or self.code


class ValidationFailed(RegistrarError):
    """A request that is well-formed JSON but whose values are not acceptable."""

    status = 400
    code = "E0000001"

    def __init__(self, causes: Sequence[str], reason: str | None = None, summary: str | None = None):
        fields = ", ".join(dict.fromkeys(c.split(":", 1)[0] for c in causes))
        super().__init__(summary or f"Api validation failed: {fields}", causes, reason)


class MalformedBody(RegistrarError):
    """A body that is not JSON, or not a JSON object."""

    status = 400
    code = "E0000003"
    summary = "The request body was not well-formed."


class InvalidToken(RegistrarError):
    """Missing, unknown or revoked API token (no event is written for these)."""

    status = 401
    code = "E0000011"
    summary = "Invalid token provided"


class PermissionDenied(RegistrarError):
    """The token is valid but lacks the scope the operation needs."""

    status = 403
    code = "E0000006"
    summary = "You do not have permission to perform the requested action"


class NotFound(RegistrarError):
    """No object with that id (of that kind, or under that parent)."""

    status = 404
    code = "E0000007"

    def __init__(self, object_id: str, kind: str):
        super().__init__(f"Not found: Resource not found: {object_id} ({kind})")
        self.object_id = object_id
        self.kind = kind


class MethodNotAllowed(RegistrarError):
    """The path exists but not with this method; ``allowed`` names the methods it has."""

    status = 405
    code = "E0000022"
    summary = "The endpoint does not support the provided HTTP method"

    def __init__(self, allowed: Sequence[str] = ()):
        super().__init__()
        self.allowed = list(allowed)


class Conflict(RegistrarError):
    """The object is not in a state that allows the operation."""

    status = 409
    code = "E0000038"
    summary = "This operation is not allowed in the current state."

    def __init__(self, reason: str):
        super().__init__(f"{type(self).summary} {reason}", [reason], reason)


class DuplicateResource(RegistrarError):
    """A unique value (a resource server's ``resourceUrl``) is already taken."""

    status = 409
    code = "E0000001"

    def __init__(self, field: str, message: str):
        super().__init__(f"Api validation failed: {field}", [f"{field}: {message}"], message)


class InvalidFilter(RegistrarError):
    """A SCIM filter (``filter`` / ``search``) that does not parse or names an unknown field."""

    status = 400
    code = "E0000053"
    summary = "Invalid SCIM filter."


class InvalidSearchCriteria(RegistrarError):
    """A filter that parses but combines an operator and a field that are not supported."""

    status = 400
    code = "E0000031"
    summary = "Invalid search criteria."


class RateLimited(RegistrarError):
    """The caller spent its budget for this minute (no event is written for these)."""

    status = 429
    code = "E0000047"
    summary = "API call exceeded rate limit due to too many requests."


class ServiceUnavailable(RegistrarError):
    """The database could not serve the request in time (a wait or a query out of time); retry later."""

    status = 503
    code = "E0000009"
    summary = "Service Unavailable"

    def __init__(self, causes: Sequence[str]):
        super().__init__(None, causes)


class DiscoveryFailed(ValidationFailed):
    """MCP discovery of a ``resourceUrl`` did not succeed; ``cause`` names the step that failed and why."""

    def __init__(self, cause: str):
        self.cause = cause
        super().__init__([f"resourceUrl: {cause}"], reason=cause)


class UnsafeDestination(DiscoveryFailed):
    """The SSRF guard refused a URL or an address before anything was sent to it."""
