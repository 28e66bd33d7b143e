"""Hostile remote metadata (issue 11): a real loopback metadata site serving NUL, terminal escapes, huge
strings and huge lists, registered through the HTTP API on both databases.

Registration is a 400 ``E0000001`` naming the member at fault (never a 500), its FAILURE event is clean,
nothing in the log holds a control character, and afterwards the System Log filters on body attributes
all answer. A body poisoned behind Registrar's back (an older version's ``\\u0000``, a lone surrogate)
leaves the filters working too.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import orjson
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, text
from starlette.testclient import TestClient

from registrar.api.routes.resource_servers import discovery_policy
from registrar.config import Settings
from registrar.events.builder import MAX_EVENT_BYTES

from ..api.test_mcp_servers import short_policy
from .servers import PRM, MetadataSite

BASE = "/resource-servers/api/v1/mcp-servers"
LOGS = "/api/v1/logs"
BODY_FILTERS = ('target.displayName co "x"', 'actor.alternateId co "a"', "client.ipAddress pr")
Events = Callable[[], list[dict[str, Any]]]

# What no stored body may hold: a C0 escape other than \t \n \r (orjson writes those short), DEL or C1 raw.
_CONTROL_IN_JSON = re.compile(r"\\u00[01][0-9a-fA-F]|\\[bf]|[\x00-\x1f\x7f-\x9f]")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return replace(settings, discovery_allow_http=True, discovery_allowed_networks=("127.0.0.0/8",))


@pytest.fixture
def app(app: FastAPI, settings: Settings) -> FastAPI:
    app.dependency_overrides[discovery_policy] = lambda: short_policy(settings)
    return app


def stored_bodies(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(text("SELECT body FROM log_events ORDER BY seq")).scalars())


def assert_log_clean(engine: Engine) -> None:
    for body in stored_bodies(engine):
        assert _CONTROL_IN_JSON.search(body) is None, body


def assert_filters_answer(client: TestClient, auth: dict[str, str]) -> None:
    for expression in BODY_FILTERS:
        response = client.get(LOGS, params={"filter": expression, "since": "2000-01-01"}, headers=auth)
        assert response.status_code == 200, (expression, response.text)


# Each hostile document: (what the site serves, a fragment of the cause the 400 names).
Hostile = Callable[[MetadataSite, str], str]


def _resource(**fields: Any) -> Hostile:
    def arrange(site: MetadataSite, issuer: str) -> str:
        return site.resource([issuer], **fields)

    return arrange


def _issuer(**fields: Any) -> Hostile:
    def arrange(site: MetadataSite, issuer: str) -> str:
        second = site.issuer("/hostile", **fields)
        return site.resource([second])

    return arrange


def _listed_issuer(issuer_text: str) -> Hostile:
    def arrange(site: MetadataSite, issuer: str) -> str:
        resource = site.url("/mcp")
        site.json(f"{PRM}/mcp", {"resource": resource, "authorization_servers": [issuer, issuer_text]})
        return resource

    return arrange


HOSTILE: dict[str, tuple[Hostile, str]] = {
    "nul in resource_name": (_resource(resource_name="evil\u0000"), "resource_name must not contain control"),
    "clear screen": (_resource(resource_name="\x1b[2J"), "resource_name must not contain control"),
    "window title": (_resource(resource_name="\x1b]0;title\a"), "resource_name must not contain control"),
    "one-byte CSI": (_resource(resource_name="evil\x9b2J"), "resource_name must not contain control"),
    "huge resource_name": (_resource(resource_name="n" * 200_000), "resource_name must be at most 255"),
    "control in a scope": (
        _resource(scopes_supported=["read", "\x1b[2J"]),
        "scopes_supported[1] must not contain control",
    ),
    "huge scope list": (_resource(scopes_supported=["s"] * 5000), "at most 256 are accepted"),
    "huge scope": (_resource(scopes_supported=["s" * 5000]), "scopes_supported[0] must be at most 255"),
    "control in an issuer": (
        _listed_issuer("http://127.0.0.1:9/\x9b2J"),
        "authorization_servers[1] in the protected resource metadata must not contain control",
    ),
    "one-byte CSI in the challenge's resource_metadata": (
        _resource(challenge=f"{PRM}/mcp\x9b2J"),
        "the resource_metadata URL of the WWW-Authenticate challenge must not contain control",
    ),
    "nul in a grant type": (
        _issuer(grant_types_supported=["authorization_code", "evil\u0000"]),
        "grant_types_supported[1] must not contain control",
    ),
    "escape in authorization_endpoint": (
        _issuer(authorization_endpoint="http://127.0.0.1/\x1b]0;t\a"),
        "authorization_endpoint must not contain control",
    ),
    "huge grant list": (
        _issuer(grant_types_supported=["authorization_code"] * 1000),
        "at most 256 are accepted",
    ),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_metadata_is_a_clean_400_and_the_log_stays_queryable(
    case: str,
    site: MetadataSite,
    client: TestClient,
    auth: dict[str, str],
    engine: Engine,
    events: Events,
) -> None:
    arrange, cause = HOSTILE[case]
    issuer = site.issuer("/as")
    resource = arrange(site, issuer)

    response = client.post(BASE, json={"resourceUrl": resource}, headers=auth)

    assert response.status_code == 400, response.text
    error = response.json()
    assert error["errorCode"] == "E0000001"
    assert any(cause in c["errorSummary"] for c in error["errorCauses"]), error
    assert _CONTROL_IN_JSON.search(response.text) is None
    (failure,) = [e for e in events() if e["eventType"] == "resource_servers.mcp_server.register"]
    assert failure["outcome"]["result"] == "FAILURE"
    assert cause in failure["outcome"]["reason"] or len(failure["outcome"]["reason"]) == 255
    assert client.get(BASE, headers=auth).json()["data"] == []  # nothing stored
    assert_log_clean(engine)
    assert_filters_answer(client, auth)


def test_metadata_within_the_limits_registers(
    site: MetadataSite, client: TestClient, auth: dict[str, str], engine: Engine
) -> None:
    # The limits are generous: 256 scopes of 255 characters, a 255-character name, tabs nowhere.
    issuer = site.issuer("/as", grant_types_supported=["authorization_code"] * 256)
    scopes = [f"{index:03d}" + "s" * 252 for index in range(256)]
    resource = site.resource([issuer], resource_name="N" * 255, scopes_supported=scopes)

    response = client.post(BASE, json={"resourceUrl": resource}, headers=auth)

    assert response.status_code == 201, response.text
    server = response.json()
    assert server["metadata"]["displayName"] == "N" * 255
    assert server["detectedMetadata"]["scopesSupported"] == scopes
    # The stored server keeps all of it; its events stay within the 64 KiB cap, the one that would not
    # (256 scopes of 255 characters in the target's detected metadata) shrunk and marked, not refused.
    bodies = stored_bodies(engine)
    assert all(len(body.encode()) <= MAX_EVENT_BYTES for body in bodies)
    register = [orjson.loads(b) for b in bodies if '"resource_servers.mcp_server.register"' in b]
    assert [e["debugContext"]["debugData"].get("truncated") for e in register] == [True]
    assert register[0]["target"][0]["id"] == server["id"]
    assert_log_clean(engine)
    assert_filters_answer(client, auth)


POISONS = {
    "nul": "evil\\u0000",  # an older version wrote NUL this way; PostgreSQL's jsonb refuses it
    "two nuls": "evil\\u0000\\u0000",
    "lone high surrogate": "evil\\ud800",
    "lone low surrogate": "evil\\udc00",
}


@pytest.mark.parametrize("poison", list(POISONS))
def test_a_body_poisoned_behind_our_back_leaves_every_filter_working(
    poison: str, client: TestClient, auth: dict[str, str], engine: Engine, events: Events
) -> None:
    # An ordinary failed registration writes an event; its stored body is then altered with raw SQL.
    client.post(BASE, json={"resourceUrl": "http://127.0.0.1:9/mcp"}, headers=auth)
    (event,) = events()
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE log_events SET body = replace(body, :old, :new) WHERE uuid = :uuid"),
            {"old": '"displayName":"', "new": '"displayName":"' + POISONS[poison], "uuid": event["uuid"]},
        )
    assert POISONS[poison] in stored_bodies(engine)[0]

    assert_filters_answer(client, auth)
    found = client.get(
        LOGS, params={"filter": 'target.displayName co "evil"', "since": "2000-01-01"}, headers=auth
    )
    assert found.status_code == 200, found.text
    assert [e["uuid"] for e in found.json()] == [event["uuid"]]


def test_a_literal_backslash_u_is_text_not_an_escape(
    client: TestClient, auth: dict[str, str], engine: Engine, events: Events
) -> None:
    # "\\u0000" in JSON is the six characters \u0000 preceded by a backslash: text, left alone.
    client.post(BASE, json={"resourceUrl": "http://127.0.0.1:9/mcp"}, headers=auth)
    (event,) = events()
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE log_events SET body = replace(body, :old, :new) WHERE uuid = :uuid"),
            {"old": '"displayName":"', "new": '"displayName":"lit\\\\u0000', "uuid": event["uuid"]},
        )
    found = client.get(
        LOGS, params={"filter": 'target.displayName sw "lit\\\\u0000"', "since": "2000-01-01"}, headers=auth
    )
    assert found.status_code == 200, found.text
    assert [e["uuid"] for e in found.json()] == [event["uuid"]]
