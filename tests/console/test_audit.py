"""A console action is audited exactly like the API call it mirrors, in the console session's name.

What every kind's pages share (lifecycle, authorization servers, denials) is tested over every kind in
test_kinds.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

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
