"""The context of an authenticated HTTP request, built from its ASGI scope."""

from __future__ import annotations

from starlette.types import Scope

from registrar.domain.entities import ApiToken

from .enrich import Enricher
from .request import Actor, RequestContext

__all__ = ["context_from_request"]


def context_from_request(scope: Scope, token: ApiToken, enricher: Enricher) -> RequestContext:
    """Everything the events of this request record: actor, client, network, session and transaction."""
    peer = scope.get("client")
    client, security = enricher.describe(scope.get("headers", ()), peer[0] if peer else None)
    path: str = scope.get("path", "")
    query = scope.get("query_string", b"").decode("latin-1")
    user = token.user
    return RequestContext(
        request_id=scope["state"]["request_id"],
        actor=Actor(id=user.id, type="User", alternate_id=user.email, display_name=user.display_name),
        client=client,
        request_uri=path,
        url=f"{path}?{query}" if query else path,
        # SSWS tokens: Okta's client.id is the calling agent, transaction.detail the token; both the
        # token id here. Okta has no credentialType for an API token, so it stays null.
        token_id=token.id,
        session_id=token.session_id,
        scopes=token.scopes,
        security=security,
    )
