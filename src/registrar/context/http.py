"""The context of an authenticated HTTP request, built from its ASGI scope."""

from __future__ import annotations

from starlette.types import Scope

from registrar.domain.entities import ApiToken, User

from .enrich import Enricher
from .request import Actor, CredentialType, RequestContext

__all__ = ["context_for_user", "context_from_request"]


def context_from_request(scope: Scope, token: ApiToken, enricher: Enricher) -> RequestContext:
    """Everything the events of this API request record: actor, client, network, session and transaction."""
    # SSWS tokens: Okta's client.id is the calling agent, transaction.detail the token; both the token id
    # here. Okta has no credentialType for an API token, so it stays null.
    return context_for_user(
        scope, enricher, token.user, session_id=token.session_id, scopes=token.scopes, token_id=token.id
    )


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
    peer = scope.get("client")
    client, security = enricher.describe(scope.get("headers", ()), peer[0] if peer else None)
    path: str = scope.get("path", "")
    query = scope.get("query_string", b"").decode("latin-1")
    return RequestContext(
        request_id=scope["state"]["request_id"],
        actor=Actor(id=user.id, type="User", alternate_id=user.email, display_name=user.display_name),
        client=client,
        request_uri=path,
        url=f"{path}?{query}" if query else path,
        token_id=token_id,
        session_id=session_id,
        scopes=scopes,
        security=security,
        credential_type=credential_type,
    )
