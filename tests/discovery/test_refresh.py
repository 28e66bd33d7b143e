"""Refresh (``POST .../mcp-servers/{id}/discovery`` and the scheduled job): each branch of the diff, and the
events it writes, against a loopback site whose metadata the tests change between calls."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from fastapi import FastAPI
from okta.models.log_event import LogEvent
from starlette.testclient import TestClient

from registrar.api.routes.resource_servers import discovery_policy
from registrar.config import Settings
from registrar.context import SYSTEM_ACTOR, job_context
from registrar.ids import new_request_id
from registrar.services import mcp_refresh

from ..api.test_mcp_servers import BASE, register, short_policy
from ..conftest import MakeToken
from .servers import PRM, MetadataSite

Events = Callable[[], list[dict[str, Any]]]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return replace(settings, discovery_allow_http=True, discovery_allowed_networks=("127.0.0.0/8",))


@pytest.fixture
def app(app: FastAPI, settings: Settings) -> FastAPI:
    app.dependency_overrides[discovery_policy] = lambda: short_policy(settings)
    return app


class Remote:
    """The MCP server and authorization servers a test registers, whose metadata it then changes."""

    def __init__(self, site: MetadataSite):
        self.site = site
        self.issuers = [self.issuer("/as1")]
        self.fields: dict[str, Any] = {"resource_name": "tools", "scopes_supported": ["read"]}
        self.publish()

    def issuer(self, path: str, **fields: Any) -> str:
        return self.site.issuer(path, **fields)

    def publish(self) -> str:
        return self.site.resource(self.issuers, **self.fields)


@pytest.fixture
def remote(site: MetadataSite) -> Remote:
    return Remote(site)


def refresh(client: TestClient, auth: dict[str, str], server_id: str) -> tuple[Any, list[str]]:
    response = client.post(f"{BASE}/{server_id}/discovery", headers=auth)
    assert response.status_code == 200, response.text
    return response.json(), [response.headers["x-okta-request-id"]]


def new_events(events: Events, before: int) -> list[dict[str, Any]]:
    return events()[before:]


def test_a_refresh_without_changes_writes_no_event(
    client: TestClient, auth: dict[str, str], events: Events, remote: Remote
) -> None:
    server = register(client, auth, remote.publish())
    before = len(events())
    refreshed, _ = refresh(client, auth, server["id"])
    assert new_events(events, before) == []
    assert refreshed["status"] == "INACTIVE"
    assert refreshed["detectedMetadata"]["lastRefreshedAt"] >= server["detectedMetadata"]["lastRefreshedAt"]
    assert refreshed["lastUpdated"] == server["lastUpdated"]


def test_changed_server_metadata_is_an_mcp_server_update(
    client: TestClient, auth: dict[str, str], events: Events, remote: Remote
) -> None:
    server = register(client, auth, remote.publish())
    remote.fields = {"resource_name": "tools v2", "scopes_supported": ["read", "write"]}
    remote.publish()
    before = len(events())
    refreshed, (request_id,) = refresh(client, auth, server["id"])
    (event,) = new_events(events, before)
    assert event["eventType"] == "resource_servers.mcp_server.update"
    assert event["transaction"]["id"] == request_id
    changes = event["target"][0]["changeDetails"]
    assert set(changes["from"]) == set(changes["to"]) == {"mcpServerDetectedMetadata"}
    assert json.loads(changes["from"]["mcpServerDetectedMetadata"]) == {
        "mcpServerResourceName": "tools",
        "mcpServerScopesSupported": ["read"],
    }
    assert json.loads(changes["to"]["mcpServerDetectedMetadata"]) == {
        "mcpServerResourceName": "tools v2",
        "mcpServerScopesSupported": ["read", "write"],
    }
    assert refreshed["detectedMetadata"]["resourceName"] == "tools v2"
    assert refreshed["metadata"]["displayName"] == "tools"  # the admin's name is not the detected one


def test_a_new_issuer_is_created_a_changed_one_updated_a_gone_one_made_inactive(
    client: TestClient, auth: dict[str, str], events: Events, remote: Remote
) -> None:
    remote.issuers.append(remote.issuer("/as2"))
    server = register(client, auth, remote.publish())
    as1, as2 = server["_embedded"]["authorizationServers"]
    remote.issuer("/as1", token_endpoint=remote.site.url("/as1/v2/token"))  # changed metadata
    remote.issuers = [remote.issuers[0], remote.issuer("/as3")]  # as2 gone, as3 new
    remote.publish()
    before = len(events())
    refreshed, (request_id,) = refresh(client, auth, server["id"])
    recorded = new_events(events, before)
    assert [e["eventType"].removeprefix("resource_servers.mcp_server.") for e in recorded] == [
        "auth_server.create",
        "auth_server.update",
        "auth_server.update",
    ]
    assert {e["transaction"]["id"] for e in recorded} == {request_id}
    created, changed, gone = (e["target"] for e in recorded)
    assert created[0]["alternateId"] == remote.site.url("/as3") and created[1]["id"] == server["id"]
    assert changed[0]["id"] == as1["id"]
    change = changed[0]["changeDetails"]
    assert set(change["to"]) == {"authServerDetectedMetadata"}
    assert json.loads(change["to"]["authServerDetectedMetadata"])[
        "authServerTokenEndpoint"
    ] == remote.site.url("/as1/v2/token")
    assert gone[0]["id"] == as2["id"]
    assert gone[0]["changeDetails"] == {
        "from": {"authServerStatus": "ACTIVE"},
        "to": {"authServerStatus": "INACTIVE"},
    }
    assert gone[0]["detailEntry"]["authServerStatus"] == "INACTIVE"
    statuses = {
        a["issuer"].rsplit("/", 1)[1]: a["status"] for a in refreshed["_embedded"]["authorizationServers"]
    }
    assert statuses == {"as1": "ACTIVE", "as2": "INACTIVE", "as3": "ACTIVE"}
    assert refreshed["status"] == "INACTIVE"  # the server itself did not change


def test_an_authorization_server_whose_metadata_fails_becomes_invalid_then_active_again(
    client: TestClient, auth: dict[str, str], events: Events, remote: Remote
) -> None:
    remote.issuers.append(remote.issuer("/as2"))
    server = register(client, auth, remote.publish())
    del remote.site.replies["/.well-known/oauth-authorization-server/as2"]
    before = len(events())
    refreshed, _ = refresh(client, auth, server["id"])
    (event,) = new_events(events, before)
    assert event["eventType"] == "resource_servers.mcp_server.auth_server.update"
    assert event["target"][0]["changeDetails"]["to"] == {"authServerStatus": "INVALID"}
    assert refreshed["status"] == "INACTIVE"
    remote.issuer("/as2")
    refresh(client, auth, server["id"])
    assert events()[-1]["target"][0]["changeDetails"]["to"] == {"authServerStatus": "ACTIVE"}


def test_a_failing_discovery_makes_the_server_invalid_once_and_recovery_makes_it_inactive(
    client: TestClient, auth: dict[str, str], events: Events, remote: Remote
) -> None:
    server = register(client, auth, remote.publish())
    client.post(f"{BASE}/{server['id']}/lifecycle/activate", headers=auth)
    del remote.site.replies[f"{PRM}/mcp"]
    before = len(events())
    refreshed, _ = refresh(client, auth, server["id"])
    (event,) = new_events(events, before)
    assert (event["eventType"], event["outcome"]["result"]) == (
        "resource_servers.mcp_server.update",
        "SUCCESS",
    )
    assert event["target"][0]["changeDetails"] == {
        "from": {"mcpServerStatus": "ACTIVE"},
        "to": {"mcpServerStatus": "INVALID"},
    }
    assert event["debugContext"]["debugData"]["errorMessage"].startswith(
        "No protected resource metadata found"
    )
    assert refreshed["status"] == "INVALID"
    assert refreshed["detectedMetadata"]["resourceName"] == "tools"  # the last good metadata is kept

    refresh(client, auth, server["id"])
    assert len(events()) == before + 1  # still INVALID: no change, no event
    refused = client.post(f"{BASE}/{server['id']}/lifecycle/activate", headers=auth)
    assert refused.status_code == 409
    assert events()[-1]["outcome"]["result"] == "FAILURE"

    remote.publish()
    recovered, _ = refresh(client, auth, server["id"])
    assert recovered["status"] == "INACTIVE"
    assert events()[-1]["target"][0]["changeDetails"] == {
        "from": {"mcpServerStatus": "INVALID"},
        "to": {"mcpServerStatus": "INACTIVE"},
    }


def test_an_unreachable_server_becomes_invalid(
    client: TestClient, auth: dict[str, str], events: Events, remote: Remote
) -> None:
    own = MetadataSite()
    with own.serve():
        issuer = remote.site.issuer("/as1")
        server = register(client, auth, own.resource([issuer]))
    before = len(events())
    refreshed, _ = refresh(client, auth, server["id"])
    assert refreshed["status"] == "INVALID"
    (event,) = new_events(events, before)
    assert event["debugContext"]["debugData"]["errorMessage"] == f"{server['resourceUrl']}: could not connect"


def test_refresh_of_an_unknown_server_and_without_the_scope(
    client: TestClient, auth: dict[str, str], make_token: MakeToken, events: Events, remote: Remote
) -> None:
    missing = client.post(f"{BASE}/mcp00000000000000000/discovery", headers=auth)
    assert missing.status_code == 404
    (failure,) = events()
    assert (failure["eventType"], failure["outcome"]["result"]) == (
        "resource_servers.mcp_server.update",
        "FAILURE",
    )
    server = register(client, auth, remote.publish())
    requests = len(remote.site.requests)
    reader = {
        "Authorization": f"SSWS {make_token('okta.resourceServers.mcpServers.read', email='r@example.com')}"
    }
    denied = client.post(f"{BASE}/{server['id']}/discovery", headers=reader)
    assert denied.status_code == 403
    assert events()[-1]["outcome"]["result"] == "DENY"
    assert len(remote.site.requests) == requests  # a denied refresh fetches nothing


def test_a_scheduled_refresh_is_written_by_the_system_principal_as_a_job(
    client: TestClient, app: FastAPI, auth: dict[str, str], settings: Settings, events: Events, remote: Remote
) -> None:
    server = register(client, auth, remote.publish())
    remote.issuers.append(remote.issuer("/as2"))
    remote.fields["scopes_supported"] = ["read", "admin"]
    remote.publish()
    before = len(events())
    job = job_context(new_request_id())
    detail = mcp_refresh.refresh(app.state.deps, job, server["id"], short_policy(settings))
    assert len(detail.authorization_servers) == 2
    recorded = new_events(events, before)
    assert [e["eventType"] for e in recorded] == [
        "resource_servers.mcp_server.auth_server.create",
        "resource_servers.mcp_server.update",
    ]
    for event in recorded:
        assert event["actor"]["id"] == SYSTEM_ACTOR.id and event["actor"]["type"] == "SystemPrincipal"
        assert event["transaction"] == {"type": "JOB", "id": job.request_id, "detail": {}}
        parsed = LogEvent.from_dict(event)
        assert parsed is not None and parsed.transaction is not None
        assert parsed.transaction.type == "JOB"
