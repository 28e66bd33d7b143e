"""One tool discovery: a token from the authorization server, then the MCP server's whole tool listing.

Both exchanges go through one ``AsyncGuardedTransport`` (the discovery SSRF guard, answers capped) and
share the discovery deadline, ``FetchPolicy.discovery_timeout``; each request also has the policy's
connect and request timeouts. The MCP side is the ``mcp`` SDK's own client over streamable HTTP (it
negotiates the protocol version, falling back to the ``initialize`` handshake for older servers), with
``Authorization: Bearer <token>``; pages are followed up to ``MAX_TOOLS`` tools in ``MAX_PAGES`` pages.

Whatever fails is one ``DiscoveryFailed`` whose cause names the step, in clean text: the SDK's own errors
are classified here, never quoted beyond a short, escaped message.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass

import anyio
import httpx2
import mcp_types
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from registrar.controls import escape_controls, truncate
from registrar.discovery import FetchPolicy
from registrar.errors import DiscoveryFailed

from ._token import ClientCredentials, request_token
from ._tools import ToolDefinition, normalize_tools
from ._transport import AsyncGuardedTransport

__all__ = [
    "MAX_PAGES",
    "MAX_RESPONSE_BYTES",
    "MAX_TOOLS",
    "MAX_TOTAL_BYTES",
    "ToolTarget",
    "discover_tools",
]

MAX_TOOLS = 500
MAX_PAGES = 50
MAX_RESPONSE_BYTES = 4 * 1024 * 1024
MAX_TOTAL_BYTES = 16 * 1024 * 1024
USER_AGENT = "Registrar-Capabilities/0.1"
_log = logging.getLogger(__name__)
_CLIENT_INFO = mcp_types.Implementation(name="registrar", version="0.1")


@dataclass(frozen=True, slots=True)
class ToolTarget:
    """What a discovery needs: the MCP server, its authorization server's token endpoint, the client."""

    resource_url: str
    token_endpoint: str
    credentials: ClientCredentials


def discover_tools(policy: FetchPolicy, target: ToolTarget) -> tuple[ToolDefinition, ...]:
    """The server's tools, normalized, in its order; raises ``DiscoveryFailed``. Blocks (own event loop)."""
    return anyio.run(_discover, policy, target)


async def _discover(policy: FetchPolicy, target: ToolTarget) -> tuple[ToolDefinition, ...]:
    transport = AsyncGuardedTransport(
        policy, max_response_bytes=MAX_RESPONSE_BYTES, max_total_bytes=MAX_TOTAL_BYTES
    )
    timeout = httpx2.Timeout(policy.request_timeout, connect=policy.connect_timeout)
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
    where = f"the token endpoint {_shown(target.token_endpoint)}"
    async with httpx2.AsyncClient(
        transport=transport, trust_env=False, follow_redirects=False, timeout=timeout, headers=headers
    ) as http:
        try:
            with anyio.fail_after(policy.discovery_timeout):
                token = await request_token(
                    http, target.token_endpoint, target.credentials, target.resource_url,
                    allow_http=policy.allow_http,
                )  # fmt: skip
                where = f"the MCP server at {_shown(target.resource_url)}"
                http.headers["Authorization"] = f"Bearer {token}"
                tools = await _list_tools(http, target.resource_url, policy.request_timeout)
        except Exception as error:  # noqa: BLE001 - every failure becomes one classified DiscoveryFailed
            raise _failure(error, transport, where) from None
    return normalize_tools(tools)


async def _list_tools(http: httpx2.AsyncClient, url: str, request_timeout: float) -> list[mcp_types.Tool]:
    transport = streamable_http_client(url, http_client=http, max_sse_event_size=MAX_RESPONSE_BYTES)
    async with Client(
        transport, cache=None, read_timeout_seconds=request_timeout, client_info=_CLIENT_INFO
    ) as client:
        tools: list[mcp_types.Tool] = []
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            page = await client.list_tools(cursor=cursor)
            tools.extend(page.tools)
            if len(tools) > MAX_TOOLS:
                raise DiscoveryFailed(f"the MCP server lists more than {MAX_TOOLS} tools")
            cursor = page.next_cursor
            if cursor is None:
                return tools
    raise DiscoveryFailed(f"the MCP server's tool list goes on for more than {MAX_PAGES} pages")


def _leaves(error: BaseException) -> Iterator[BaseException]:
    """The exceptions an exception group (the SDK's task groups raise them) holds, depth first."""
    if isinstance(error, BaseExceptionGroup):
        for inner in error.exceptions:
            yield from _leaves(inner)
    else:
        yield error


def _shown(url: str) -> str:
    return escape_controls(truncate(url, 160))


def _failure(error: Exception, transport: AsyncGuardedTransport, where: str) -> DiscoveryFailed:
    """The one ``DiscoveryFailed`` reporting ``error``: the guard's, ours, or a classified SDK failure."""
    if transport.failure is not None:
        return transport.failure
    leaves = list(_leaves(error))
    ours = next((leaf for leaf in leaves if isinstance(leaf, DiscoveryFailed)), None)
    if ours is not None:
        return ours
    if transport.refusal is not None:
        return DiscoveryFailed(f"{where} refused the access token ({transport.refusal})")
    first = leaves[0] if leaves else error
    timed_out = isinstance(first, MCPError) and first.code == mcp_types.REQUEST_TIMEOUT
    if timed_out or isinstance(first, TimeoutError | httpx2.TimeoutException):
        return DiscoveryFailed(f"{where} did not answer in time")
    if isinstance(first, httpx2.ConnectError):
        return DiscoveryFailed(f"could not connect to {where}")
    if isinstance(first, MCPError):
        return DiscoveryFailed(f"{where} answered an error: {escape_controls(truncate(first.message, 120))}")
    _log.debug("tool discovery: %s failed", where, exc_info=error)
    return DiscoveryFailed(f"the exchange with {where} failed")
