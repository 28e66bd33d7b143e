"""An A2A server's page: what its agent card declared, and authorization servers added by issuer.

Against real ``a2a-sdk`` agents and real SDK authorization servers on loopback (``conftest.remote``).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

from ..discovery.servers import bound_socket, port_of, sdk_authorization_server
from .conftest import Console, Remote, registry_events

Events = Callable[[], list[dict[str, Any]]]


def _register(console: Console, remote: Remote, **form: str) -> str:
    response = console.post("/a2a-servers/new", {"resourceUrl": remote.urls["a2a"][0], **form})
    assert response.status_code == 303, response.text
    return str(response.headers["location"].split("?")[0])


def test_the_agent_cards_metadata_is_shown(console: Console, remote: Remote, events: Events) -> None:
    path = _register(console, remote)  # no display name: the card's
    page = console.client.get(path).text
    card = re.search(r'<h2 id="detected">Agent card</h2>(.*?)</section>', page, re.S)
    assert card is not None
    shown = html.unescape(re.sub(r"<[^>]+>", " ", card.group(1)))
    for text in ("Agent 1", "Echoes what it is sent.", "1.2.3", "oauth", "/.well-known/agent-card.json"):
        assert text in shown, text
    assert re.search(r"Skills\s+2\b", shown)
    assert "<h1>Agent 1 " in page
    article = re.search(r'<article class="subcard" id="as-(eas\w+)">(.*?)</article>', page, re.S)
    assert article is not None and remote.issuer in article.group(2)
    assert "badge-active" in article.group(2) and "confirm-remove" in article.group(2)
    assert [e["eventType"] for e in registry_events(events)] == [
        "resource_servers.a2a_server.register",
        "resource_servers.a2a_server.auth_server.add",
    ]
    listing = console.client.get("/a2a-servers", params={"search": 'detectedMetadata.name sw "Agent"'})
    assert "Agent 1" in listing.text and remote.issuer in listing.text


def test_an_authorization_server_added_by_issuer_then_removed(
    console: Console, remote: Remote, events: Events
) -> None:
    path = _register(console, remote, displayName="Travel agent")
    with sdk_authorization_server() as issuer:
        added = console.post(f"{path}/authorization-servers", {"issuer": issuer})
    assert added.status_code == 303, added.text
    page = console.client.get(path).text
    assert issuer in page and 'Authorization servers <span class="count">2</span>' in page
    add = registry_events(events)[-1]
    assert add["eventType"] == "resource_servers.a2a_server.auth_server.add"
    auth_id = add["target"][1]["id"]
    confirm = console.client.get(f"{path}/authorization-servers/{auth_id}/confirm-remove")
    assert "The A2A server will no longer trust tokens from this issuer." in confirm.text
    assert console.post(f"{path}/authorization-servers/{auth_id}/remove").status_code == 303
    assert registry_events(events)[-1]["eventType"] == "resource_servers.a2a_server.auth_server.remove"
    assert issuer not in console.client.get(path).text


def test_an_issuer_without_metadata_is_refused_next_to_the_form(
    console: Console, remote: Remote, events: Events
) -> None:
    path = _register(console, remote)
    sock = bound_socket()  # bound, never listening
    try:
        refused = console.post(
            f"{path}/authorization-servers", {"issuer": f"http://127.0.0.1:{port_of(sock)}"}
        )
    finally:
        sock.close()
    assert refused.status_code == 400
    assert re.search(r'<details class="add" open>', refused.text)
    assert 'id="f-issuer"' in refused.text and 'aria-invalid="true"' in refused.text
    failure = registry_events(events)[-1]
    assert failure["eventType"] == "resource_servers.a2a_server.auth_server.add"
    assert failure["outcome"]["result"] == "FAILURE"
