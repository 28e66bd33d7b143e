"""The org authorization server: ``POST /oauth2/v1/token`` (client credentials, ``private_key_jwt``),
``GET /oauth2/v1/keys`` (its signing key) and ``GET /.well-known/oauth-authorization-server`` (RFC 8414).

The issuer is the org URL as the client reached it: scheme and host from the request, or from what a
trusted proxy forwarded (``REGISTRAR_TRUSTED_PROXIES``); a forwarding header from anyone else is ignored,
as everywhere (:func:`registrar.context.external_origin`). A client assertion's ``aud`` must name the
token endpoint at that origin (or the issuer), and an access token is accepted only at the origin it
was issued for.

Answers are never cached (``Cache-Control: no-store``, RFC 6749 §5.1), errors included; an error is RFC
6749's ``{"error", "error_description"}``, not an Okta error object, as Okta's own token endpoint answers.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from registrar.context import Actor, RequestContext, context_for_client
from registrar.context.request import CredentialType
from registrar.oauth import (
    ALGORITHMS,
    CLIENT_CREDENTIALS,
    GrantRefused,
    TokenRequest,
    authority_for,
    grant_token,
)
from registrar.scopes import ALL_SCOPES

from ..deps import ServiceDeps
from ..responses import base_url

__all__ = ["TOKEN_PATH", "router"]

router = APIRouter(tags=["OAuth 2.0"])

TOKEN_PATH = "/oauth2/v1/token"  # noqa: S105 - a path, not a credential
KEYS_PATH = "/oauth2/v1/keys"
_FORM = "application/x-www-form-urlencoded"
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_FIELDS = ("grant_type", "client_id", "client_assertion_type", "client_assertion", "scope")


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status, headers=headers, media_type="application/json")


def _error(refused: GrantRefused) -> Response:
    return _json(refused.response(), refused.status, _NO_STORE)


async def _token_request(request: Request) -> TokenRequest | None:
    """The form's fields (first values); None when the body is not a form."""
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media != _FORM:
        return None
    form = await request.form()
    fields = [value if isinstance(value := form.get(name), str) else None for name in _FIELDS]
    secret = "client_secret" in form or request.headers.get("authorization", "")[:6].lower() == "basic "
    grant_type, client_id, assertion_type, assertion, scope = fields
    return TokenRequest(grant_type, client_id, assertion_type, assertion, scope, client_secret=secret)


@router.post(TOKEN_PATH, include_in_schema=True, summary="Request an access token (client credentials)")
async def token(request: Request, deps: ServiceDeps) -> Response:
    """Client credentials grant with a ``private_key_jwt`` client assertion (RFC 6749 §4.4, RFC 7523)."""
    form = await _token_request(request)
    if form is None:
        return _error(GrantRefused("invalid_request", f"The request body must be {_FORM}."))
    issuer = base_url(request)
    scope, enricher = request.scope, request.app.state.enricher

    def context_for(actor: Actor, session: str | None, credential: CredentialType | None) -> RequestContext:
        return context_for_client(
            scope, enricher, actor, session_id=session, scopes=frozenset(), credential_type=credential
        )

    def run() -> dict[str, Any]:
        grant = grant_token(
            deps.engine,
            authority_for(deps.settings),
            form,
            issuer=issuer,
            audiences=(f"{issuer}{TOKEN_PATH}", issuer),
            context_for=context_for,
        )
        return grant.response()

    try:
        body = await run_in_threadpool(run)
    except GrantRefused as refused:
        return _error(refused)
    return _json(body, headers=_NO_STORE)


@router.get(KEYS_PATH, summary="The signing keys of the org authorization server")
async def keys(deps: ServiceDeps) -> Response:
    """The public key set access tokens are signed with (RFC 7517)."""
    authority = await run_in_threadpool(authority_for, deps.settings)
    return _json(authority.jwks(), headers={"Cache-Control": "max-age=300"})


@router.get("/.well-known/oauth-authorization-server", summary="Authorization server metadata")
async def metadata(request: Request) -> Response:
    """RFC 8414 metadata of the org authorization server."""
    issuer = base_url(request)
    return _json(
        {
            "issuer": issuer,
            "token_endpoint": f"{issuer}{TOKEN_PATH}",
            "jwks_uri": f"{issuer}{KEYS_PATH}",
            "grant_types_supported": [CLIENT_CREDENTIALS],
            "response_types_supported": [],
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            "token_endpoint_auth_signing_alg_values_supported": list(ALGORITHMS),
            "scopes_supported": list(ALL_SCOPES),
        },
        headers={"Cache-Control": "max-age=300"},
    )
