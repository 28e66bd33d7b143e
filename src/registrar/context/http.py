"""The context of an authenticated HTTP request, built from its ASGI scope."""

from __future__ import annotations

from starlette.types import Scope

from registrar.domain.entities import ApiToken, User
from registrar.domain.service_apps import ServiceAppToken

from .enrich import Enricher
from .request import Actor, CredentialType, RequestContext

__all__ = ["context_for_client", "context_for_user", "context_from_request", "service_app_actor"]


def context_from_request(scope: Scope, token: ApiToken, enricher: Enricher) -> RequestContext:
    """Everything the events of this API request record: actor, client, network, session and transaction."""
    if isinstance(token, ServiceAppToken):
        # An access token: the app acts, in the access token's session (its jti). It is no API token,
        # so neither client.id nor transaction.detail names one.
        actor = service_app_actor(token.client_id, token.name)
        return context_for_client(scope, enricher, actor, session_id=token.session_id, scopes=token.scopes)
    # SSWS tokens: Okta's client.id is the calling agent, transaction.detail the token; both the token id
    # here. Okta has no credentialType for an API token, so it stays null.
    return context_for_user(
        scope, enricher, token.user, session_id=token.session_id, scopes=token.scopes, token_id=token.id
    )


def service_app_actor(client_id: str, name: str) -> Actor:
    """A service app as Okta writes it as the actor of its events (its client id twice, then its name)."""
    return Actor(id=client_id, type="PublicClientApp", alternate_id=client_id, display_name=name)


def context_for_user(
    scope: Scope,
    enricher: Enricher,
    user: User,
    *,
    session_id: str,
    scopes: frozenset[str],
    token_id: str | None = None,
    credential_type: CredentialType | None = None,
) -> RequestContext:
    """The context of a request by ``user`` in session ``session_id`` (an API token's or the console's)."""
    actor = Actor(id=user.id, type="User", alternate_id=user.email, display_name=user.display_name)
    return context_for_client(
        scope,
        enricher,
        actor,
        session_id=session_id,
        scopes=scopes,
        token_id=token_id,
        credential_type=credential_type,
    )


def context_for_client(
    scope: Scope,
    enricher: Enricher,
    actor: Actor,
    *,
    session_id: str | None,
    scopes: frozenset[str],
    token_id: str | None = None,
    credential_type: CredentialType | None = None,
) -> RequestContext:
    """The context of a request made by ``actor`` (a user, or a service app at the token endpoint)."""
    peer = scope.get("client")
    client, security = enricher.describe(scope.get("headers", ()), peer[0] if peer else None)
    path: str = scope.get("path", "")
    query = scope.get("query_string", b"").decode("latin-1")
    return RequestContext(
        request_id=scope["state"]["request_id"],
        actor=actor,
        client=client,
        request_uri=path,
        url=f"{path}?{query}" if query else path,
        token_id=token_id,
        session_id=session_id,
        scopes=scopes,
        security=security,
        credential_type=credential_type,
    )
