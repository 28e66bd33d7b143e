"""Real servers on 127.0.0.1 for tool-discovery tests.

- ``TokenIssuer``: an OAuth authorization server (RFC 8414 metadata and a token endpoint) that issues
  client-credentials access tokens, HS256 JWTs naming the requested ``resource`` as audience, to clients
  registered with one authentication method each (``client_secret_basic``, ``client_secret_post`` or
  ``client_secret_jwt``, checked as RFC 6749 §2.3.1 / RFC 7523 say: a client using another method, or a
  wrong secret, is ``invalid_client``).
- ``ToolServer``: an ``mcp`` SDK server (the low-level ``Server``, streamable HTTP) protected by the SDK's
  own bearer middleware, whose ``TokenVerifier`` checks the issuer's signature, issuer, expiry and
  audience. Its tools are a list the test edits between runs, served in pages of ``page_size``.
"""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus

import anyio
import jwt
import mcp_types as types
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.lowlevel.server import Server
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..discovery.servers import bound_socket, port_of, running

__all__ = ["SCOPE", "OAuthClient", "TokenIssuer", "ToolServer", "tool"]

SCOPE = "mcp:read"
_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@dataclass
class OAuthClient:
    """A client registered at the issuer: its secret, the one way it authenticates, its allowed scopes."""

    secret: str
    method: str = "client_secret_basic"
    scopes: tuple[str, ...] = (SCOPE,)


@dataclass
class TokenIssuer:
    """The loopback authorization server; ``clients`` may be edited while it runs."""

    clients: dict[str, OAuthClient] = field(default_factory=dict)
    key: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    issuer: str = ""
    token_requests: list[dict[str, str]] = field(default_factory=list)
    audience: str | None = None  # issue tokens for this audience instead of the requested resource

    @property
    def token_endpoint(self) -> str:
        return f"{self.issuer}/token"

    @contextmanager
    def serve(self) -> Iterator[TokenIssuer]:
        app = Starlette(
            routes=[
                Route("/.well-known/oauth-authorization-server", self._metadata, methods=["GET"]),
                Route("/token", self._token, methods=["POST"]),
            ]
        )
        with running(app, bound_socket()) as base:
            self.issuer = base
            yield self

    async def _metadata(self, request: Request) -> Response:
        return JSONResponse(
            {
                "issuer": self.issuer,
                "token_endpoint": self.token_endpoint,
                "grant_types_supported": ["client_credentials"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_basic",
                    "client_secret_post",
                    "client_secret_jwt",
                ],
                "scopes_supported": [SCOPE],
            }
        )

    async def _token(self, request: Request) -> Response:
        form = {key: str(value) for key, value in (await request.form()).items()}
        self.token_requests.append(form | {"authorization": request.headers.get("authorization", "")})
        client_id = self._authenticate(request, form)
        if client_id is None:
            return _error(401, "invalid_client", {"www-authenticate": 'Basic realm="token"'})
        if form.get("grant_type") != "client_credentials":
            return _error(400, "unsupported_grant_type")
        allowed = self.clients[client_id].scopes
        asked = form.get("scope", "").split()
        if any(scope not in allowed for scope in asked):
            return _error(400, "invalid_scope")
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": client_id,
            "client_id": client_id,
            "scope": " ".join(asked),
            "iat": now,
            "exp": now + 300,
            "jti": secrets.token_hex(8),
        }
        if self.audience or "resource" in form:
            claims["aud"] = self.audience or form["resource"]
        token = jwt.encode(claims, self.key, algorithm="HS256")
        return JSONResponse(
            {"access_token": token, "token_type": "Bearer", "expires_in": 300, "scope": claims["scope"]},
            headers={"cache-control": "no-store"},
        )

    def _authenticate(self, request: Request, form: dict[str, str]) -> str | None:
        """The authenticated client id, or None; each client must use exactly its registered method."""
        header = request.headers.get("authorization", "")
        if header.lower().startswith("basic "):
            decoded = base64.b64decode(header[6:]).decode()
            raw_id, _, raw_secret = decoded.partition(":")
            client_id, secret, method = unquote_plus(raw_id), unquote_plus(raw_secret), "client_secret_basic"
        elif form.get("client_assertion_type") == _ASSERTION_TYPE:
            return self._assertion_client(form.get("client_assertion", ""))
        else:
            client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
            method = "client_secret_post"
        client = self.clients.get(client_id)
        if client is None or client.method != method:
            return None
        return client_id if secrets.compare_digest(client.secret, secret) else None

    def _assertion_client(self, assertion: str) -> str | None:
        try:
            client_id = str(jwt.decode(assertion, options={"verify_signature": False})["iss"])
            client = self.clients[client_id]
            if client.method != "client_secret_jwt":
                return None
            claims = jwt.decode(
                assertion,
                client.secret,
                algorithms=["HS256"],
                audience=self.token_endpoint,
                options={"require": ["iss", "sub", "aud", "exp", "jti"]},
            )
        except (jwt.PyJWTError, KeyError):
            return None
        return client_id if claims["sub"] == client_id else None


def _error(status: int, code: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"error": code}, status_code=status, headers=headers)


@dataclass
class _JwtVerifier:
    """The MCP server's token check: the issuer's HS256 signature, issuer, expiry and audience."""

    server: ToolServer

    async def verify_token(self, token: str) -> AccessToken | None:
        issuer = self.server.issuer
        try:
            claims = jwt.decode(
                token,
                self.server.trusted_key or issuer.key,
                algorithms=["HS256"],
                issuer=issuer.issuer,
                audience=self.server.resource_url,
                options={"require": ["iss", "sub", "exp", "aud"]},
            )
        except jwt.PyJWTError:
            return None
        return AccessToken(
            token=token,
            client_id=str(claims["client_id"]),
            scopes=str(claims.get("scope", "")).split(),
            expires_at=int(claims["exp"]),
            resource=str(claims["aud"]),
            subject=str(claims["sub"]),
        )


def tool(name: str, description: str = "", **members: Any) -> dict[str, Any]:
    """A tool as a server lists it (wire names); ``inputSchema`` defaults to an empty object schema."""
    return {"name": name, "description": description, "inputSchema": {"type": "object"}, **members}


@dataclass
class ToolServer:
    """The loopback MCP server; ``tools`` (wire-form dicts) may be edited between discoveries."""

    issuer: TokenIssuer
    tools: list[dict[str, Any]] = field(default_factory=list)
    page_size: int = 50
    resource_url: str = ""
    list_calls: int = 0
    delay: float = 0.0  # seconds before each listing answers
    trusted_key: bytes | None = None  # verify with this key instead of the issuer's
    path: str = "/mcp"  # a test whose database outlives its servers picks its own (ports are reused)

    @contextmanager
    def serve(self) -> Iterator[ToolServer]:
        sock = bound_socket()
        self.resource_url = f"http://127.0.0.1:{port_of(sock)}{self.path}"
        server: Server[Any] = Server("registrar-tools-test", on_list_tools=self._list_tools)
        app = server.streamable_http_app(
            streamable_http_path=self.path,
            json_response=True,
            host="127.0.0.1",
            token_verifier=_JwtVerifier(self),
            auth=AuthSettings(
                issuer_url=self.issuer.issuer,  # a str keeps its exact form (AnyHttpUrl would add a "/")
                resource_server_url=self.resource_url,
                required_scopes=[SCOPE],
                validate_token_resource=True,
            ),
        )
        with running(app, sock):
            yield self

    async def _list_tools(
        self, ctx: Any, params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        self.list_calls += 1
        await anyio.sleep(self.delay)
        start = int(params.cursor) if params is not None and params.cursor else 0
        page = self.tools[start : start + self.page_size]
        following = start + self.page_size
        return types.ListToolsResult.model_validate(
            {"tools": page, "nextCursor": str(following) if following < len(self.tools) else None}
        )
