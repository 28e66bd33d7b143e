"""A console action is audited exactly like the API call it mirrors, in the console session's name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.testclient import TestClient

from registrar.domain.entities import User

from ..conftest import CLIENT_ADDRESS, MakeToken
from .conftest import Console, registry_events, session_ids

Events = Callable[[], list[dict[str, Any]]]
_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"


def _shape(value: Any) -> Any:
    """The keys of a JSON value, recursively (values ignored)."""
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    return None


def test_console_registration_writes_the_api_event_with_the_console_session(
    console: Console, console_user: User, make_token: MakeToken, events: Events, engine: Any
) -> None:
    api = console.client.post(
        "/resource-servers/api/v1/api-servers",
        json={"resourceUrl": "https://one.example.com/", "metadata": {"displayName": "One"}},
        headers={"Authorization": f"SSWS {make_token()}"},
    )
    assert api.status_code == 201
    response = console.post(
        "/api-servers/new",
        {"resourceUrl": "https://two.example.com/", "displayName": "Two"},
        headers={"User-Agent": _AGENT},
    )
    assert response.status_code == 303
    by_api, by_console = registry_events(events)
    assert by_console["eventType"] == by_api["eventType"] == "resource_servers.api_server.register"
    assert (
        by_console["actor"]
        == by_api["actor"]
        == {
            "id": console_user.id,
            "type": "User",
            "alternateId": console_user.email,
            "displayName": "Alice Admin",
            "detailEntry": None,
        }
    )
    # Same shape; only the API token's id is missing from a password session's transaction detail.
    by_api["transaction"]["detail"] = {}
    assert _shape(by_console) == _shape(by_api)
    assert by_console["authenticationContext"]["externalSessionId"] == session_ids(engine)[0]
    assert by_console["authenticationContext"]["credentialType"] == "PASSWORD"
    request_id = response.headers["x-okta-request-id"]
    assert by_console["transaction"] == {"type": "WEB", "id": request_id, "detail": {}}
    assert by_console["debugContext"]["debugData"]["requestId"] == request_id
    assert by_console["debugContext"]["debugData"]["requestUri"] == "/api-servers/new"
    # The same Enricher as the API: client address, parsed user agent, IP chain.
    assert by_console["client"]["ipAddress"] == CLIENT_ADDRESS[0]
    assert by_console["client"]["userAgent"]["rawUserAgent"] == _AGENT
    assert by_console["client"]["userAgent"]["browser"] == "CHROME"
    assert by_console["request"]["ipChain"][0]["ip"] == CLIENT_ADDRESS[0]
    assert by_console["target"][0]["alternateId"] == "https://two.example.com/"


def test_a_console_failure_is_audited_and_shown_inline(console: Console, events: Events) -> None:
    form = {"resourceUrl": "https://dup.example.com/", "displayName": "Dup"}
    assert console.post("/api-servers/new", form).status_code == 303
    again = console.post("/api-servers/new", form)
    assert again.status_code == 400
    assert "already registered" in again.text
    failure = events()[-1]
    assert failure["eventType"] == "resource_servers.api_server.register"
    assert failure["outcome"]["result"] == "FAILURE"
    assert failure["transaction"]["id"] == again.headers["x-okta-request-id"]


def test_a_read_only_token_session_is_denied_and_the_denial_audited(
    client: TestClient, make_token: MakeToken, events: Events
) -> None:
    created = client.post(
        "/resource-servers/api/v1/api-servers",
        json={"resourceUrl": "https://ro.example.com/", "metadata": {"displayName": "RO"}},
        headers={"Authorization": f"SSWS {make_token()}"},
    ).json()
    reader = Console(client)
    token = make_token("okta.resourceServers.apiServers.read", email="reader@example.com")
    assert reader.login_token(token).status_code == 303
    response = reader.post(f"/api-servers/{created['id']}/activate")
    assert "lacks the scope okta.resourceServers.apiServers.manage" in response.text
    denied = events()[-1]
    assert denied["eventType"] == "resource_servers.api_server.activate"
    assert denied["outcome"]["result"] == "DENY"
    assert denied["actor"]["alternateId"] == "reader@example.com"
    assert denied["authenticationContext"]["credentialType"] is None  # a token, as in the API
    assert denied["transaction"]["detail"]["requestApiTokenId"].startswith("00T")


def test_lifecycle_from_the_console(console: Console, events: Events) -> None:
    created = console.post(
        "/api-servers/new", {"resourceUrl": "https://lc.example.com/", "displayName": "LC"}
    )
    server_path = created.headers["location"].split("?")[0]
    confirm = console.client.get(f"{server_path}/confirm/delete")
    assert confirm.status_code == 200
    assert "This cannot be undone." in confirm.text
    assert console.post(f"{server_path}/activate").status_code == 303
    refused = console.post(f"{server_path}/delete")
    assert "Server must be deactivated first." in refused.text
    assert console.post(f"{server_path}/deactivate").status_code == 303
    assert console.post(f"{server_path}/delete").headers["location"] == "/api-servers?notice=deleted"
    assert [(e["eventType"].rsplit(".", 1)[-1], e["outcome"]["result"]) for e in registry_events(events)] == [
        ("register", "SUCCESS"),
        ("activate", "SUCCESS"),
        ("delete", "FAILURE"),
        ("deactivate", "SUCCESS"),
        ("delete", "SUCCESS"),
    ]
    assert console.client.get(server_path).status_code == 404


def test_authorization_servers_of_an_api_server(console: Console, events: Events) -> None:
    created = console.post(
        "/api-servers/new", {"resourceUrl": "https://as.example.com/", "displayName": "AS"}
    )
    server_path = created.headers["location"].split("?")[0]
    added = console.post(
        f"{server_path}/authorization-servers",
        {
            "issuer": "https://login.example.com",
            "authorizationEndpoint": "https://login.example.com/authorize",
            "tokenEndpoint": "https://login.example.com/token",
            "grantTypesSupported": ["authorization_code", "client_credentials"],
        },
    )
    assert added.status_code == 303
    page = console.client.get(server_path).text
    assert "https://login.example.com/token" in page
    auth_id = events()[-1]["target"][1]["id"]
    edited = console.post(
        f"{server_path}/authorization-servers/{auth_id}/edit",
        {
            "authorizationEndpoint": "https://login.example.com/authorize",
            "tokenEndpoint": "https://login.example.com/oauth/token",
            "grantTypesSupported": ["client_credentials"],
        },
    )
    assert edited.status_code == 303
    update = events()[-1]
    assert update["eventType"] == "resource_servers.api_server.auth_server.update"
    assert (
        update["target"][1]["changeDetails"]["to"]["tokenEndpoint"] == "https://login.example.com/oauth/token"
    )
    assert console.post(f"{server_path}/authorization-servers/{auth_id}/remove").status_code == 303
    assert events()[-1]["eventType"] == "resource_servers.api_server.auth_server.remove"
