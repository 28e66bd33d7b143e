"""Real servers on 127.0.0.1 for discovery tests: the ``mcp`` SDK's resource and authorization servers,
and a small hand-written metadata site for what the SDK cannot produce (several authorization servers,
path issuers, mismatches, redirects, slow, oversized and non-JSON answers).

Each runs in-process under uvicorn in a thread, on a socket bound before the app is built (the SDK needs
its own URL up front).
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, cast

import orjson
import uvicorn
from mcp.server.auth.provider import AccessToken, OAuthAuthorizationServerProvider, TokenVerifier
from mcp.server.auth.routes import create_auth_routes
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer
from pydantic import AnyHttpUrl
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp

PRM = "/.well-known/oauth-protected-resource"
OAUTH_SERVER = "/.well-known/oauth-authorization-server"
OPENID = "/.well-known/openid-configuration"

__all__ = [
    "PRM",
    "MetadataSite",
    "Reply",
    "bound_socket",
    "running",
    "sdk_authorization_server",
    "sdk_mcp_server",
]


def bound_socket() -> socket.socket:
    """A listening-ready TCP socket on 127.0.0.1 with a free port."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock


def port_of(sock: socket.socket) -> int:
    """The port a socket is bound to."""
    port: int = sock.getsockname()[1]
    return port


@contextmanager
def running(app: ASGIApp, sock: socket.socket) -> Iterator[str]:
    """Serve ``app`` on ``sock`` until the block ends; yields its base URL."""
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", ws="none", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the loopback server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port_of(sock)}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


# --- the mcp SDK ---------------------------------------------------------------------------------


class _RejectEveryToken(TokenVerifier):
    async def verify_token(self, token: str) -> AccessToken | None:
        return None


@contextmanager
def sdk_mcp_server(issuer: str, *, path: str = "/mcp") -> Iterator[str]:
    """A real ``MCPServer`` (streamable HTTP) protected by ``issuer``; yields its resource URL."""
    sock = bound_socket()
    resource_url = f"http://127.0.0.1:{port_of(sock)}{path}"
    server = MCPServer(
        "registrar-test",
        token_verifier=_RejectEveryToken(),
        auth=AuthSettings(
            issuer_url=issuer,  # a str keeps its exact form (AnyHttpUrl would add a "/")
            resource_server_url=resource_url,
            required_scopes=["mcp:read"],
            validate_token_resource=True,
        ),
    )

    @server.tool()
    def echo(text: str) -> str:
        """Echo text back."""
        return text

    with running(server.streamable_http_app(streamable_http_path=path, host="127.0.0.1"), sock):
        yield resource_url


@contextmanager
def sdk_authorization_server(*, identity_assertion: bool = False) -> Iterator[str]:
    """The SDK's RFC 8414 authorization server routes; yields its issuer (``http://127.0.0.1:PORT/``)."""
    sock = bound_socket()
    issuer = AnyHttpUrl(f"http://127.0.0.1:{port_of(sock)}")
    # Only the metadata route is exercised: no provider method is ever called.
    provider = cast(OAuthAuthorizationServerProvider[Any, Any, Any], object())
    app = Starlette(
        routes=create_auth_routes(provider, issuer, identity_assertion_enabled=identity_assertion)
    )
    with running(app, sock):
        yield str(issuer)


# --- hand-written metadata site --------------------------------------------------------------------


@dataclass
class Reply:
    """What the site answers at one path."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (released early when the site resets)
    chunks: int = 0  # >0: stream the body in that many chunks, without Content-Length


class MetadataSite:
    """A loopback site whose answers tests set per path, and which records every request it gets."""

    def __init__(self) -> None:
        self.replies: dict[str, Reply] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self._release = threading.Event()
        self.app = Starlette(
            routes=[Route("/{path:path}", self._answer, methods=["GET", "POST"])],
        )
        self.base = ""

    @contextmanager
    def serve(self) -> Iterator[MetadataSite]:
        """Run the site on loopback for the block."""
        with running(self.app, bound_socket()) as base:
            self.base = base
            try:
                yield self
            finally:
                self._release.set()

    def reset(self) -> None:
        """Forget every reply and request (and let slow answers finish now)."""
        self._release.set()
        self.replies.clear()
        self.requests.clear()
        self._release = threading.Event()

    def url(self, path: str) -> str:
        """The absolute URL of ``path`` on this site."""
        return self.base + path

    def json(self, path: str, document: Any, *, status: int = 200, **extra: Any) -> None:
        """Answer ``path`` with a JSON document."""
        headers = {"content-type": "application/json", **extra.pop("headers", {})}
        self.replies[path] = Reply(status, orjson.dumps(document), headers, **extra)

    def reply(self, path: str, reply: Reply) -> None:
        """Answer ``path`` with ``reply``."""
        self.replies[path] = reply

    def resource(
        self, issuers: list[str], *, path: str = "/mcp", challenge: str | None = None, **fields: Any
    ) -> str:
        """An MCP resource at ``path`` whose metadata lists ``issuers``; returns the resource URL.

        With ``challenge``, the resource answers 401 naming that metadata path (the SDK's behaviour);
        without, its metadata sits at the path-inserted well-known location.
        """
        resource = self.url(path)
        if challenge is not None:
            header = f'Bearer error="invalid_token", resource_metadata="{self.url(challenge)}"'
            self.json(path, {"error": "invalid_token"}, status=401, headers={"www-authenticate": header})
        self.json(challenge or PRM + path, {"resource": resource, "authorization_servers": issuers, **fields})
        return resource

    def issuer(self, path: str, *, location: int = 0, **fields: Any) -> str:
        """An authorization server with issuer ``base + path``; metadata at MCP probe ``location`` (0-2)."""
        issuer = self.url(path)
        where = (
            [f"{OAUTH_SERVER}{path}", f"{OPENID}{path}", f"{path}{OPENID}"][location]
            if path
            else OAUTH_SERVER
        )
        document = {
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}/authorize",
            "token_endpoint": f"{issuer}/token",
            "grant_types_supported": ["authorization_code"],
            **fields,
        }
        self.json(where, document)
        return issuer

    def paths_requested(self) -> list[str]:
        """The paths (with query) requested so far, in order."""
        return [path for path, _ in self.requests]

    async def _answer(self, request: Request) -> Response:
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        self.requests.append((path, dict(request.headers)))
        reply = self.replies.get(path)
        if reply is None:
            return Response("Not Found", status_code=404, media_type="text/plain")
        release = self._release
        waited = 0.0
        while waited < reply.delay and not release.is_set():
            await asyncio.sleep(0.02)
            waited += 0.02
        if reply.chunks:
            size = -(-len(reply.body) // reply.chunks)
            parts = [reply.body[i : i + size] for i in range(0, len(reply.body), size)]

            async def stream() -> Any:
                for part in parts:
                    yield part

            return StreamingResponse(stream(), status_code=reply.status, headers=reply.headers)
        return Response(reply.body, status_code=reply.status, headers=reply.headers)
