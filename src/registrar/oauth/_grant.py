"""The client credentials grant at ``POST /oauth2/v1/token``, audited as Okta audits it.

A request that names a client (``client_id``, or the ``iss`` of its assertion, when either could be one of
our client ids) writes exactly one event: ``app.oauth2.token.grant.access_token`` (SUCCESS, the access
token as target) when a token is issued, else ``app.oauth2.token.grant`` (FAILURE, the app as target,
``outcome.reason`` saying why: unknown client, revoked app, bad or replayed assertion, scope not granted,
unsupported grant type). The actor is the app that asked, as the request named it. A request that names
no client (no form at all, garbage) is answered without an event: there is nobody to attribute it to.

Errors are RFC 6749 §5.2's: ``invalid_request`` / ``unsupported_grant_type`` / ``invalid_scope`` 400,
``invalid_client`` 401 (client authentication failed, whatever the reason).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from registrar.context import Actor, RequestContext, service_app_actor
from registrar.context.request import CredentialType
from registrar.events.catalog import (
    ACCESS_TOKEN_GRANT,
    TOKEN_GRANT_FAILURE,
    Target,
    access_token_target,
    app_instance_target,
    unknown_target,
)
from registrar.ids import format_timestamp
from registrar.store.service_apps import ServiceApp, claim_assertion, get_service_app, purge_assertions
from registrar.store.uow import UnitOfWork, unit_of_work

from ._assertions import ASSERTION_TYPE, AssertionRefused, claimed_client_id, verify_assertion
from ._authority import ACCESS_TOKEN_SECONDS, Authority, IssuedToken, token_hash
from ._jwks import stored_key_ids

__all__ = ["CLIENT_CREDENTIALS", "GrantRefused", "TokenGrant", "TokenRequest", "grant_token"]

CLIENT_CREDENTIALS = "client_credentials"
_PURGE_SECONDS = 60.0

# Builds the context of the grant's event: who asked (as the request named it), in which session.
ContextFor = Callable[[Actor, str | None, CredentialType | None], RequestContext]


@dataclass(frozen=True, slots=True)
class TokenRequest:
    """The form fields of a token request that matter (each one's first value)."""

    grant_type: str | None = None
    client_id: str | None = None
    client_assertion_type: str | None = None
    client_assertion: str | None = None
    scope: str | None = None
    client_secret: bool = False  # a client secret was offered (form or HTTP Basic): not supported


@dataclass(frozen=True, slots=True)
class TokenGrant:
    """A token issued: the response's fields."""

    access_token: str
    expires_in: int
    scope: str

    def response(self) -> dict[str, Any]:
        """The RFC 6749 §5.1 response body, in Okta's key order."""
        return {
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "access_token": self.access_token,
            "scope": self.scope,
        }


class GrantRefused(Exception):
    """A refused token request: RFC 6749's ``error`` and ``error_description``, with the HTTP status."""

    def __init__(self, error: str, description: str, status: int = 400):
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status

    def response(self) -> dict[str, str]:
        """The RFC 6749 §5.2 error body."""
        return {"error": self.error, "error_description": self.description}


@dataclass(slots=True)
class _Attempt:
    """One token request being decided, and how to audit it."""

    engine: Engine
    context_for: ContextFor
    request: TokenRequest
    client_id: str | None
    app: ServiceApp | None = None

    def debug(self, granted: str | None = None) -> dict[str, Any]:
        debug: dict[str, Any] = {
            "grantType": self.request.grant_type,
            "clientAuthType": "private_key_jwt" if self.request.client_assertion else None,
            "requestedScopes": self.request.scope or "",
        }
        if granted is not None:
            debug["grantedScopes"] = granted
        return debug

    def actor(self) -> Actor:
        assert self.client_id is not None  # only audited attempts get here
        name = self.app.name if self.app is not None else "unknown"
        return service_app_actor(self.client_id, name)

    def app_targets(self) -> list[Target]:
        if self.app is None:
            return [unknown_target(self.client_id or "unknown", "AppInstance")]
        keys = stored_key_ids(self.app.jwks)
        return [app_instance_target(self.app.client_id, self.app.name, self.app.scopes, keys)]

    def credential(self) -> CredentialType | None:
        return "JWT" if self.request.client_assertion else None

    def refuse(self, error: str, description: str, status: int = 400) -> GrantRefused:
        """The refusal, audited first when the request named a client."""
        if self.client_id is not None:
            ctx = self.context_for(self.actor(), None, self.credential())
            with unit_of_work(self.engine, ctx) as uow:
                self.record_failure(uow, description)
        return GrantRefused(error, description, status)

    def record_failure(self, uow: UnitOfWork, reason: str) -> None:
        uow.record(
            TOKEN_GRANT_FAILURE, self.app_targets(), outcome="FAILURE", reason=reason, debug=self.debug()
        )


def grant_token(
    engine: Engine,
    authority: Authority,
    request: TokenRequest,
    *,
    issuer: str,
    audiences: Sequence[str],
    context_for: ContextFor,
    now: int | None = None,
) -> TokenGrant:
    """Run one client credentials request; GrantRefused (audited as the module says) when refused.

    ``audiences`` are what the assertion's ``aud`` may name: the token endpoint's URL, then the issuer.
    """
    now = int(time.time()) if now is None else now
    attempt = _Attempt(
        engine, context_for, request, claimed_client_id(request.client_id, request.client_assertion)
    )
    if not request.grant_type:
        raise attempt.refuse("invalid_request", "The 'grant_type' parameter is required.")
    if request.grant_type != CLIENT_CREDENTIALS:
        raise attempt.refuse(
            "unsupported_grant_type",
            f"The authorization server does not support the grant type {request.grant_type[:64]!r}: "
            f"only {CLIENT_CREDENTIALS}.",
        )
    if request.client_assertion_type != ASSERTION_TYPE or not request.client_assertion:
        how = "client secrets are not accepted; " if request.client_secret else ""
        raise attempt.refuse(
            "invalid_client",
            f"Client authentication failed: {how}send a client_assertion (private_key_jwt) with "
            f"client_assertion_type {ASSERTION_TYPE}.",
            401,
        )
    if attempt.client_id is None:
        raise GrantRefused("invalid_client", "Client authentication failed: no client is named.", 401)
    with engine.connect().execution_options(sqlite_immediate=False) as conn:
        attempt.app = get_service_app(conn, attempt.client_id)
    app = attempt.app
    if app is None:
        raise attempt.refuse(
            "invalid_client", f"Client authentication failed: no client {attempt.client_id}.", 401
        )
    if app.revoked_ms is not None:
        raise attempt.refuse(
            "invalid_client", f"Client authentication failed: {app.client_id} is revoked.", 401
        )
    try:
        assertion = verify_assertion(request.client_assertion, app.client_id, app.jwks, audiences, now)
    except AssertionRefused as refused:
        reason = f"Client authentication failed: {refused.reason}."
        raise attempt.refuse("invalid_client", reason, 401) from None
    requested = list(dict.fromkeys((request.scope or "").split()))  # in the order asked, once each
    not_granted = [scope for scope in requested if scope not in app.scopes]
    refusal: GrantRefused | None = None
    issued: IssuedToken | None = None
    with unit_of_work(engine, context_for(attempt.actor(), None, attempt.credential())) as uow:
        _purge_now_and_then(uow.conn, now)
        if not claim_assertion(uow.conn, app.client_id, assertion.jti, assertion.expires_at * 1000):
            refusal = GrantRefused(
                "invalid_client",
                "Client authentication failed: the client_assertion has already been used.",
                401,
            )
        elif not requested:
            refusal = GrantRefused(
                "invalid_scope", "The 'scope' parameter is required: name the scopes to grant."
            )
        elif not_granted:
            refusal = GrantRefused(
                "invalid_scope", f"The app may not be granted these scopes: {' '.join(not_granted)}."
            )
        if refusal is not None:
            attempt.record_failure(uow, refusal.description)
        else:
            issued = authority.issue(issuer, app.client_id, requested, now)
            expires = format_timestamp(datetime.fromtimestamp(issued.expires_at, tz=UTC))
            target = access_token_target(issued.jti, expires, app.client_id, token_hash(issued.token))
            # The grant opens the token's session: the events its requests write carry the same id.
            ctx = context_for(attempt.actor(), issued.jti, attempt.credential())
            uow.record(ACCESS_TOKEN_GRANT, [target], debug=attempt.debug(" ".join(requested)), ctx=ctx)
    if refusal is not None:
        raise refusal
    assert issued is not None  # no refusal: issued
    return TokenGrant(issued.token, ACCESS_TOKEN_SECONDS, " ".join(requested))


_purged = [0.0]
_purge_lock = threading.Lock()


def _purge_now_and_then(conn: Any, now: int) -> None:
    """Forget expired assertions, at most once a minute per process, inside a grant's transaction."""
    with _purge_lock:
        if now - _purged[0] < _PURGE_SECONDS:
            return
        _purged[0] = now
    purge_assertions(conn, now * 1000)
