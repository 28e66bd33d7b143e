"""An access token for tool discovery: the client-credentials grant (RFC 6749 §4.4) at the linked
authorization server's token endpoint, authenticated the way the client authentication setting says.

- ``client_secret_basic``: HTTP Basic with the form-urlencoded id and secret (RFC 6749 §2.3.1);
- ``client_secret_post``: ``client_id`` and ``client_secret`` in the form;
- ``client_secret_jwt``: an HS256 client assertion keyed with the secret (RFC 7523 §2.2, OIDC Core §9).

The request names the MCP server as ``resource`` (RFC 8707, as the MCP authorization specification
requires), so the token is issued for that server alone. The secret is never part of an error message: a
refusal names the endpoint, the HTTP status and the OAuth ``error`` code only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_plus

import httpx2
import orjson

from registrar.controls import escape_controls, truncate
from registrar.domain.urls import url_problem
from registrar.errors import DiscoveryFailed

__all__ = ["AUTH_METHODS", "MAX_TOKEN_LENGTH", "ClientCredentials", "request_token"]

AUTH_METHODS = ("client_secret_basic", "client_secret_post", "client_secret_jwt")
MAX_TOKEN_LENGTH = 16 * 1024
_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
_ASSERTION_SECONDS = 60
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")  # RFC 6750 §2.1: what a Bearer header may carry
_ERROR_CODE = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]{1,64}")  # RFC 6749 §5.2, capped


@dataclass(frozen=True, slots=True)
class ClientCredentials:
    """The client a discovery authenticates as (from a client authentication setting, secret unsealed)."""

    client_id: str
    client_secret: str = field(repr=False)
    auth_method: str = "client_secret_basic"
    scopes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.auth_method not in AUTH_METHODS:
            raise ValueError(f"unsupported tokenEndpointAuthMethod {self.auth_method!r}")


def _form_and_headers(
    credentials: ClientCredentials, token_endpoint: str, resource: str
) -> tuple[dict[str, str], dict[str, str]]:
    form = {"grant_type": "client_credentials", "resource": resource}
    if credentials.scopes:
        form["scope"] = " ".join(credentials.scopes)
    headers = {"Accept": "application/json"}
    if credentials.auth_method == "client_secret_basic":
        pair = f"{quote_plus(credentials.client_id)}:{quote_plus(credentials.client_secret)}"
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode("ascii")
    elif credentials.auth_method == "client_secret_post":
        form |= {"client_id": credentials.client_id, "client_secret": credentials.client_secret}
    else:
        form |= {
            "client_id": credentials.client_id,
            "client_assertion_type": _ASSERTION_TYPE,
            "client_assertion": _client_assertion(credentials, token_endpoint),
        }
    return form, headers


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _client_assertion(credentials: ClientCredentials, audience: str) -> str:
    """A one-minute HS256 JWT: issuer and subject the client, audience the token endpoint."""
    now = int(time.time())
    claims = {
        "iss": credentials.client_id,
        "sub": credentials.client_id,
        "aud": audience,
        "jti": secrets.token_urlsafe(16),
        "iat": now,
        "exp": now + _ASSERTION_SECONDS,
    }
    signing_input = f"{_b64url(orjson.dumps({'alg': 'HS256', 'typ': 'JWT'}))}.{_b64url(orjson.dumps(claims))}"
    mac = hmac.new(credentials.client_secret.encode(), signing_input.encode("ascii"), hashlib.sha256)
    return signing_input + "." + _b64url(mac.digest())


async def request_token(
    client: httpx2.AsyncClient,
    token_endpoint: str,
    credentials: ClientCredentials,
    resource: str,
    *,
    allow_http: bool,
) -> str:
    """The access token the endpoint issues; ``DiscoveryFailed`` when it refuses or answers unusably."""
    shown = escape_controls(truncate(token_endpoint, 160))
    if why := url_problem(token_endpoint, allow_http=allow_http):
        raise DiscoveryFailed(f"the token endpoint {shown} {why}")
    form, headers = _form_and_headers(credentials, token_endpoint, resource)
    response = await client.post(token_endpoint, data=form, headers=headers)
    document = _json(response.content)
    if response.status_code != 200:
        code = document.get("error") if document is not None else None
        named = f" {code}" if isinstance(code, str) and _ERROR_CODE.fullmatch(code) else ""
        raise DiscoveryFailed(
            f"the token endpoint {shown} refused the client credentials: HTTP {response.status_code}{named}"
        )
    if document is None:
        raise DiscoveryFailed(f"the token endpoint {shown} answered something other than a JSON object")
    token, kind = document.get("access_token"), document.get("token_type")
    if not isinstance(kind, str) or kind.lower() != "bearer":
        raise DiscoveryFailed(f"the token endpoint {shown} issued no Bearer token")
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH or not _B64TOKEN.fullmatch(token):
        raise DiscoveryFailed(f"the token endpoint {shown} issued an access token that cannot be sent")
    return token


def _json(body: bytes) -> dict[str, Any] | None:
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return document if isinstance(document, dict) else None
