"""Events are bounded whatever their inputs (issue 11): header-derived fields cut to documented lengths,
no control character in any stored string, and never more than 64 KiB of canonical bytes, an over-sized
event being shrunk and marked, never refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from starlette.testclient import TestClient

from registrar.config import Settings
from registrar.context import Actor, ClientInfo, IpHop, RequestContext
from registrar.context.useragent import parse_user_agent
from registrar.domain.mcp import ResourceMetadata
from registrar.events import catalog as ev
from registrar.events.builder import (
    MAX_EVENT_BYTES,
    MAX_IP_CHAIN,
    MAX_REASON_LENGTH,
    MAX_URI_LENGTH,
    MAX_USER_AGENT_LENGTH,
    build_event,
    canonical_bytes,
)

from ..conftest import MakeToken

Events = Callable[[], list[dict[str, Any]]]
PUBLISHED = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
MCP_SERVERS = "/resource-servers/api/v1/mcp-servers"
# In canonical bytes: a C0 escape other than \t \n \r (short escapes), or DEL / C1 raw.
CONTROL_IN_JSON = re.compile(rb"\\u00[01][0-9a-fA-F]|\\[bf]|[\x00-\x1f\x7f]|\xc2[\x80-\x9f]")
HOSTILE = "a\x00b\x1b[2Jc\x1b]0;title\x07d\x7fe\x9bf"
SURROGATE = "\ud800g"  # a lone surrogate: not even encodable as UTF-8


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The test client's address (198.51.100.23) and 10/8 are trusted proxies."""
    return replace(settings, trusted_proxies=("198.51.100.0/24", "10.0.0.0/8"))


def context(**changes: Any) -> RequestContext:
    ctx = RequestContext(
        request_id="req1",
        actor=Actor("00u1", "User", "alice@example.com", "Alice"),
        client=ClientInfo("198.51.100.7", "registrar-tests/1.0"),
        request_uri="/resource-servers/api/v1/mcp-servers",
        url="/resource-servers/api/v1/mcp-servers",
    )
    return replace(ctx, **changes)


def server_target(display_name: str = "Weather", detected: str = "{}", **kw: Any) -> dict[str, Any]:
    return ev.mcp_server_target("mcp1", "https://mcp.example.com/", display_name, "ACTIVE", detected, **kw)


def test_a_megabyte_user_agent_on_a_denied_request_is_cut(
    client: TestClient, make_token: MakeToken, events: Events
) -> None:
    reader = make_token("okta.logs.read", email="reader@example.com")
    agent = "Mozilla/5.0 " + "x" * (1 << 20)
    response = client.post(
        MCP_SERVERS,
        json={"resourceUrl": "https://mcp.example.com/"},
        headers={"Authorization": f"SSWS {reader}", "User-Agent": agent},
    )
    assert response.status_code == 403
    (denied,) = events()
    assert denied["outcome"]["result"] == "DENY"
    raw = denied["client"]["userAgent"]["rawUserAgent"]
    assert len(raw) == MAX_USER_AGENT_LENGTH == 1024
    assert raw == agent[: MAX_USER_AGENT_LENGTH - 1] + "…"
    assert len(orjson.dumps(denied)) <= MAX_EVENT_BYTES


def test_the_user_agent_is_cut_before_it_is_parsed() -> None:
    # The browser's token sits past the limit: the parser never sees it.
    padded = "Mozilla/5.0 (Macintosh; " + "a" * 2000 + ") Gecko/20100101 Firefox/72.0"
    assert parse_user_agent(padded[-100:]).browser == "FIREFOX"
    assert parse_user_agent(padded).browser == "UNKNOWN"


def test_a_long_ip_chain_keeps_the_client_and_the_nearest_hops(
    client: TestClient, make_token: MakeToken, events: Events
) -> None:
    # Trusted proxies can be named any number of times: a client can forge a chain of them.
    forged = ", ".join(["203.0.113.9", *(f"10.0.{i // 250}.{i % 250 + 1}" for i in range(100))])
    reader = make_token("okta.logs.read", email="reader@example.com")
    response = client.post(
        MCP_SERVERS,
        json={"resourceUrl": "https://mcp.example.com/"},
        headers={"Authorization": f"SSWS {reader}", "X-Forwarded-For": forged},
    )
    assert response.status_code == 403
    (denied,) = events()
    chain = [hop["ip"] for hop in denied["request"]["ipChain"]]
    assert len(chain) == MAX_IP_CHAIN == 16
    assert chain[0] == denied["client"]["ipAddress"] == "203.0.113.9"
    assert chain[-1] == "198.51.100.23"  # the socket peer
    assert chain[-2] == "10.0.0.100"  # the last hop the forged header named


def test_request_line_and_reason_are_cut_to_their_documented_lengths() -> None:
    ctx = context(request_uri="/" + "p" * 5000, url="/" + "p" * 5000 + "?q=" + "v" * 5000)
    event = build_event(
        ev.MCP_SERVER_REGISTER, ctx, [server_target()], PUBLISHED, outcome="FAILURE", reason="r" * 1000
    )
    debug = event["debugContext"]["debugData"]
    assert len(debug["requestUri"]) == len(debug["url"]) == MAX_URI_LENGTH == 2048
    assert len(event["outcome"]["reason"]) == len(debug["errorMessage"]) == MAX_REASON_LENGTH == 255
    assert event["outcome"]["reason"].endswith("…")
    assert "truncated" not in debug  # cut fields alone do not make an event "truncated"


@pytest.mark.parametrize("tail", ["", SURROGATE], ids=["controls", "controls and a lone surrogate"])
def test_no_stored_string_holds_a_control_character(tail: str) -> None:
    hostile = HOSTILE + tail
    geo_hop = IpHop("198.51.100.7", "V4", None, source=hostile)
    ctx = context(
        actor=Actor("00u1", "User", hostile, hostile),
        client=ClientInfo("198.51.100.7", hostile, os=hostile, ip_chain=(geo_hop,)),
        request_uri="/" + hostile,
        url="/" + hostile,
    )
    changes = ({"description": "line one\nline\ttwo\r"}, {"description": hostile})
    event = build_event(
        ev.MCP_SERVER_UPDATE,
        ctx,
        [server_target(hostile, ResourceMetadata(hostile, (hostile,)).to_event(), changes=changes)],
        PUBLISHED,
        outcome="FAILURE",
        reason=hostile,
        debug={hostile: hostile, "list": [hostile, {"deep": hostile}]},
    )
    body = canonical_bytes(event)
    assert CONTROL_IN_JSON.search(body) is None, body
    assert event["actor"]["displayName"] == "a\ufffdb\ufffd[2Jc\ufffd]0;title\ufffdd\ufffde\ufffdf" + (
        "\ufffdg" if tail else ""
    )
    # TAB, LF and CR, which a description may hold, are kept (JSON-escaped in the bytes).
    assert event["target"][0]["changeDetails"]["from"]["description"] == "line one\nline\ttwo\r"
    assert b"line one\\nline\\ttwo\\r" in body


def test_an_oversized_event_is_shrunk_and_marked_not_refused() -> None:
    scopes = [f"scope-{i}-" + "s" * 240 for i in range(1000)]
    changes = ({"scopes": scopes}, {"scopes": scopes[::-1]})
    detected = orjson.dumps({"mcpServerScopesSupported": scopes}).decode()
    targets = [server_target("W" * 100_000, detected, changes=changes), server_target("second")]
    event = build_event(ev.MCP_SERVER_UPDATE, context(), targets, PUBLISHED, debug={"extra": "e" * 1_000_000})

    body = canonical_bytes(event)
    assert len(body) <= MAX_EVENT_BYTES
    debug = event["debugContext"]["debugData"]
    assert debug["truncated"] is True
    assert "extra" not in debug and debug["requestId"] == "req1"
    assert [t["id"] for t in event["target"]] == ["mcp1", "mcp1"]  # every target kept
    assert event["target"][1]["displayName"] == "second"
    assert list(event) == list(build_event(ev.MCP_SERVER_UPDATE, context(), [], PUBLISHED))  # Okta's order
    # Deterministic: the same inputs shrink to the same bytes (but for the event's own uuid).
    again = build_event(ev.MCP_SERVER_UPDATE, context(), targets, PUBLISHED, debug={"extra": "e" * 1_000_000})
    assert body.replace(event["uuid"].encode(), b"") == canonical_bytes(again).replace(
        again["uuid"].encode(), b""
    )


@pytest.mark.parametrize("shape", ["many keys", "deep lists", "huge ip chain"])
def test_any_shape_of_oversized_event_fits(shape: str) -> None:
    ctx = context()
    debug: dict[str, Any] = {}
    targets = [server_target()]
    if shape == "many keys":
        targets = [server_target(changes=({f"k{i}": "v" * 50 for i in range(5000)}, {}))]
    elif shape == "deep lists":
        targets = [server_target(changes=({"a": [[["x" * 60] * 50] * 50] * 50}, {}))]
    else:
        hops = tuple(IpHop(f"10.0.{i // 250}.{i % 250}", "V4", None, "s" * 300) for i in range(MAX_IP_CHAIN))
        ctx = replace(ctx, client=replace(ctx.client, ip_chain=hops))
        debug = {f"d{i}": "x" * 1000 for i in range(200)}
    event = build_event(ev.MCP_SERVER_UPDATE, ctx, targets, PUBLISHED, debug=debug)
    assert len(canonical_bytes(event)) <= MAX_EVENT_BYTES
    assert event["debugContext"]["debugData"]["truncated"] is True
    assert event["target"][0]["id"] == "mcp1"


def test_an_ordinary_event_is_left_as_built() -> None:
    event = build_event(ev.MCP_SERVER_REGISTER, context(), [server_target()], PUBLISHED)
    assert event["debugContext"]["debugData"] == {
        "requestId": "req1",
        "requestUri": "/resource-servers/api/v1/mcp-servers",
        "url": "/resource-servers/api/v1/mcp-servers",
    }
    assert event["target"] == [server_target()]
