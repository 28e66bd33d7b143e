"""Registering an MCP server from the console: discovery against real loopback servers, or its error."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from typing import Any

import anyio
import pytest

from registrar.api.slow_work import SlowWork

from ..discovery.servers import bound_socket, port_of, sdk_authorization_server, sdk_mcp_server
from .conftest import Console, registry_events

Events = Callable[[], list[dict[str, Any]]]


@pytest.fixture(scope="module")
def mcp_resource() -> Iterator[tuple[str, str]]:
    """A real MCP server (the ``mcp`` SDK) behind a real SDK authorization server: (resource, issuer)."""
    with sdk_authorization_server() as issuer, sdk_mcp_server(issuer) as resource:
        yield resource, issuer


def test_register_shows_discovered_authorization_servers_and_metadata(
    console: Console, events: Events, mcp_resource: tuple[str, str]
) -> None:
    resource, issuer = mcp_resource
    response = console.post("/mcp-servers/new", {"resourceUrl": resource, "displayName": "Echo tools"})
    assert response.status_code == 303, response.text
    detail = console.client.get(response.headers["location"])
    assert "Registered." in detail.text
    assert "INACTIVE" in detail.text
    assert issuer in detail.text
    assert f"{issuer}token" in detail.text  # the detected token endpoint
    assert "mcp:read" in detail.text  # detected scopes
    assert [e["eventType"] for e in registry_events(events)] == [
        "resource_servers.mcp_server.auth_server.create",
        "resource_servers.mcp_server.register",
    ]
    assert len({e["transaction"]["id"] for e in registry_events(events)}) == 1
    listing = console.client.get("/mcp-servers", params={"search": 'metadata.displayName co "Echo"'})
    assert "Echo tools" in listing.text and issuer in listing.text


def test_a_discovery_failure_is_shown_and_nothing_is_registered(console: Console, events: Events) -> None:
    sock = bound_socket()  # bound, never listening: the connection is refused
    try:
        url = f"http://127.0.0.1:{port_of(sock)}/mcp"
        response = console.post("/mcp-servers/new", {"resourceUrl": url, "description": "kept on error"})
    finally:
        sock.close()
    assert response.status_code == 400
    assert "Discovery failed — nothing was registered" in response.text
    assert re.search(
        r'id="f-resourceUrl" name="resourceUrl" type="text" value="http://127\.0\.0\.1', response.text
    )
    assert "kept on error" in response.text
    (failure,) = registry_events(events)
    assert failure["eventType"] == "resource_servers.mcp_server.register"
    assert failure["outcome"]["result"] == "FAILURE"
    assert "No MCP servers registered yet." in console.client.get("/mcp-servers").text


def test_console_discovery_runs_on_the_discovery_capacity(console: Console, events: Events) -> None:
    """A console registration waits for a discovery slot like an API one: none free → refused, no event."""
    app: Any = console.client.app
    app.state.discoveries = SlowWork("MCP discoveries", total=1, per_token=1, queue_seconds=0.05)
    held = threading.Event()
    release = threading.Event()

    def occupy() -> None:
        held.set()
        release.wait(10)

    async def hold_the_slot() -> None:
        await app.state.discoveries.run("someone-else", occupy)

    holder = threading.Thread(target=anyio.run, args=(hold_the_slot,))
    holder.start()
    try:
        assert held.wait(5)
        response = console.post("/mcp-servers/new", {"resourceUrl": "http://127.0.0.1:9/mcp"})
    finally:
        release.set()
        holder.join(10)
    assert response.status_code == 400  # the form again, with the refusal as its error
    assert "Too many MCP discoveries in progress" in response.text
    assert registry_events(events) == []
