"""Authenticating API tokens and turning a request into the context its events are built from."""

from __future__ import annotations

from fastapi import Request
from sqlalchemy import Engine

from registrar.context import RequestContext, context_from_request
from registrar.domain.entities import ApiToken
from registrar.errors import InvalidToken, PermissionDenied
from registrar.store.tokens import find_token, note_token_use

__all__ = ["authenticate", "read_token", "request_context", "require_scope"]


def read_token(header: str | None) -> str | None:
    """The token of an ``Authorization`` header: ``SSWS <t>``, ``SSWS<t>`` (Okta's SDK) or ``Bearer <t>``."""
    if not header:
        return None
    for scheme in ("SSWS", "Bearer"):
        if header[: len(scheme)].lower() == scheme.lower():
            token = header[len(scheme) :].strip()
            return token or None
    return None


def authenticate(engine: Engine, request: Request) -> ApiToken:
    """The live token (neither revoked nor expired) the request carries; else 401 ``E0000011``, unaudited."""
    secret = read_token(request.headers.get("authorization"))
    if secret is None or len(secret) > 512:
        raise InvalidToken()
    with engine.connect().execution_options(sqlite_immediate=False) as conn:
        token = find_token(conn, secret)
    if token is None:
        raise InvalidToken()
    note_token_use(engine, token.id)  # at most one short write per token per minute, not in a caller's
    return token


def require_scope(token: ApiToken, *scopes: str) -> None:
    """403 ``E0000006`` unless the token holds one of ``scopes`` (for reads; writes are audited elsewhere)."""
    if not token.scopes.intersection(scopes):
        raise PermissionDenied()


def request_context(request: Request, token: ApiToken) -> RequestContext:
    """The event context of an authenticated API request."""
    return context_from_request(request.scope, token, request.app.state.enricher)
