"""CSRF: every state-changing console request needs the session's synchronizer token.

The routes are not listed by hand: every console ``POST`` route is found in the console's router, so a new
one is tested (and fails) the day it is added without ``check_csrf``. Each is sent forged requests (no
token, a wrong one, another session's) and must refuse them all before doing anything: no event, no
registry change, the session intact. The same request with the session's token then gets past the check,
which proves the refusals were about the token and nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import cached_property
from typing import Any

import httpx2
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from sqlalchemy import Engine, select
from starlette.testclient import TestClient

from registrar.console import install_console
from registrar.store.schema import (
    client_auth_settings,
    console_sessions,
    event_hooks,
    mcp_discoveries,
    mcp_tools,
    resource_auth_servers,
    resource_servers,
    virtual_capabilities,
)

from ..api.test_api_auth_servers import AS_BODY
from ..api.test_api_auth_servers import add as add_auth_server
from ..api.test_api_servers import register as register_api_server
from ..api.test_client_auth_settings import create as create_settings
from ..discovery.a2a_agent import a2a_agent, oauth2
from ..discovery.servers import sdk_authorization_server, sdk_mcp_server
from .conftest import Console, registry_events

Events = Callable[[], list[dict[str, Any]]]
_FORM = {"resourceUrl": "https://api.example.com/", "displayName": "Payments"}
_SIGN_IN = "/login"  # the one route before a session: its token is the double-submit login token
_WRONG = "x" * 43  # the shape of a real token, not its value
_PARAMETER = re.compile(r"{(\w+)}")
_REGISTRY = (
    resource_servers,
    resource_auth_servers,
    client_auth_settings,
    event_hooks,
    mcp_tools,
    mcp_discoveries,
    virtual_capabilities,
)
API = "/resource-servers/api/v1"


def console_post_paths(app: FastAPI) -> list[str]:
    """The path of every console route that accepts ``POST``, as the app's router resolves them."""
    paths = []
    for route in iter_route_contexts(app.routes):  # included routers too, with their prefixes
        module = getattr(route.endpoint, "__module__", "")
        if "POST" in (route.methods or ()) and module.startswith("registrar.console.") and route.path:
            paths.append(route.path)
    return sorted(paths)


def _installed_console() -> FastAPI:
    app = FastAPI()
    install_console(app)
    return app


POST_PATHS = console_post_paths(_installed_console())
SESSION_PATHS = [path for path in POST_PATHS if path != _SIGN_IN]


def test_the_cases_below_cover_every_console_post_route_of_the_app(app: FastAPI) -> None:
    # The parametrization reads the console's router; the application must not add console routes elsewhere.
    assert console_post_paths(app) == POST_PATHS
    assert _SIGN_IN in POST_PATHS
    assert len(SESSION_PATHS) >= 14


@pytest.fixture(scope="module")
def mcp_resource() -> Iterator[str]:
    """A real MCP server (the ``mcp`` SDK) behind a real SDK authorization server; yields its resource URL."""
    with sdk_authorization_server() as issuer, sdk_mcp_server(issuer) as resource:
        yield resource


@pytest.fixture(scope="module")
def a2a_resource() -> Iterator[str]:
    """A real A2A agent (``a2a-sdk``) whose card names a real SDK authorization server; yields its URL."""
    with sdk_authorization_server() as issuer:
        metadata = f"{issuer}.well-known/oauth-authorization-server"
        with a2a_agent({"oauth": oauth2(metadata_url=metadata)}) as url:
            yield url


class Registry:
    """The objects a route's path names, registered through the API on first use."""

    def __init__(self, client: TestClient, auth: dict[str, str], request: pytest.FixtureRequest):
        self._client, self._auth, self._request = client, auth, request

    @cached_property
    def api_server(self) -> dict[str, Any]:
        return dict(register_api_server(self._client, self._auth))

    @cached_property
    def auth_server(self) -> dict[str, Any]:
        return dict(add_auth_server(self._client, self._auth, self.api_server["id"]))

    @cached_property
    def settings(self) -> dict[str, Any]:
        return dict(create_settings(self._client, self._auth, self.api_server["orn"]))

    def _created(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self._client.post(f"{API}/{path}", json=body, headers=self._auth)
        assert response.status_code == 201, response.text
        return dict(response.json())

    @cached_property
    def mcp_server(self) -> dict[str, Any]:
        return self._created("mcp-servers", {"resourceUrl": self._request.getfixturevalue("mcp_resource")})

    @cached_property
    def a2a_server(self) -> dict[str, Any]:
        return self._created("a2a-servers", {"resourceUrl": self._request.getfixturevalue("a2a_resource")})

    @cached_property
    def virtual_server(self) -> dict[str, Any]:
        return self._created("virtual-mcp-servers", {"metadata": {"displayName": "Toolbox"}})

    def server(self, kind: str) -> dict[str, Any]:
        """The server of the kind a console path starts with (``api-servers``, ``mcp-servers``, ...)."""
        by_kind = {
            "api-servers": "api_server",
            "mcp-servers": "mcp_server",
            "a2a-servers": "a2a_server",
            "virtual-mcp-servers": "virtual_server",
        }
        if kind not in by_kind:
            pytest.fail(f"no test server of the kind {kind}; teach Registry.server one", pytrace=False)
        server: dict[str, Any] = getattr(self, by_kind[kind])
        return server

    def auth_server_of(self, kind: str) -> str:
        """The id of an authorization server linked to the kind's server (added, or found at registration)."""
        if kind == "api-servers":
            return str(self.auth_server["id"])
        server = self.server(kind)
        found = server.get("_embedded", {}).get("authorizationServers", [])
        if found:
            return str(found[0]["id"])
        return str(self._created(f"{kind}/{server['id']}/authorization-servers", AS_BODY)["id"])

    def fill(self, path: str) -> str:
        """``path`` with each ``{parameter}`` replaced by the id of a real object (or a real action)."""
        return _PARAMETER.sub(lambda match: self._value(path, match[1]), path)

    def _value(self, path: str, name: str) -> str:
        kind = path.split("/")[1]
        if name == "server_id":
            return str(self.server(kind)["id"])
        if name == "auth_server_id":
            return self.auth_server_of(kind)
        if name == "settings_id" and kind == "client-auth-settings":
            return str(self.settings["id"])
        if name == "action":
            return "delete"  # the most harmful of the lifecycle actions a forged form could ask for
        pytest.fail(f"POST {path}: no test value for {{{name}}}; teach Registry._value one", pytrace=False)


@pytest.fixture
def registry(client: TestClient, auth: dict[str, str], request: pytest.FixtureRequest) -> Registry:
    return Registry(client, auth, request)


def _state(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the registry tables, and the live sessions: what a forged request must not change."""
    with engine.connect() as conn:
        state = {
            t.name: [tuple(r) for r in conn.execute(select(t).order_by(*t.primary_key))] for t in _REGISTRY
        }
        sessions = select(console_sessions.c.id, console_sessions.c.ended_ms).order_by(console_sessions.c.id)
        state["console_sessions"] = [tuple(r) for r in conn.execute(sessions)]
    return state


def _refused(response: httpx2.Response) -> bool:
    return response.status_code == 403 and "nothing was changed" in response.text


def _forgeries(console: Console, path: str, stale: str) -> Iterator[tuple[str, httpx2.Response]]:
    """The same form posted with no token, an empty one, a wrong one, one of another session, or misplaced."""
    post = console.client.post
    yield "no token", post(path, data=_FORM, follow_redirects=False)
    yield "an empty token", post(path, data={**_FORM, "csrf_token": ""}, follow_redirects=False)
    yield "a wrong token", post(path, data={**_FORM, "csrf_token": _WRONG}, follow_redirects=False)
    wrong_header = {"X-CSRF-Token": _WRONG}
    yield "a wrong header", post(path, data=_FORM, headers=wrong_header, follow_redirects=False)
    yield "another session's token", post(path, data={**_FORM, "csrf_token": stale}, follow_redirects=False)
    token = console.csrf()
    yield "the token in the query", post(f"{path}?csrf_token={token}", data=_FORM, follow_redirects=False)


@pytest.mark.parametrize("route", SESSION_PATHS)
def test_a_forged_request_is_refused_and_changes_nothing(
    route: str, console: Console, registry: Registry, engine: Engine, events: Events
) -> None:
    path = registry.fill(route)
    stale = console.csrf()
    console.client.cookies.clear()
    assert console.login().status_code == 303  # a new session, with a new token
    before, logged = _state(engine), events()
    for forgery, response in _forgeries(console, path, stale):
        assert _refused(response), f"POST {route} with {forgery}: {response.status_code}"
    assert events() == logged  # refused before any operation: a forged request is not audited as one
    assert _state(engine) == before
    assert console.client.get("/mcp-servers").status_code == 200  # still signed in
    # The control: the same request with this session's token gets past the check.
    response = console.post(path, _FORM)
    assert not _refused(response), f"POST {route} with the session's token: {response.text}"


def _sign_in(client: TestClient, token: str | None, *, cookie: bool = True) -> httpx2.Response:
    form = {"method": "password", "email": "alice@example.com", "password": "correct horse battery staple"}
    if not cookie:
        client.cookies.clear()
    extra = {"login_csrf": token} if token is not None else {}
    return client.post(_SIGN_IN, data=form | extra, follow_redirects=False)


def test_a_forged_sign_in_is_refused_and_opens_no_session(
    client: TestClient, console_user: object, engine: Engine, events: Events
) -> None:
    browser = Console(client)
    before = _state(engine)
    forgeries: dict[str, Callable[[], httpx2.Response]] = {
        "no login token": lambda: _sign_in(client, None),
        "a wrong login token": lambda: _sign_in(client, _WRONG),
        "a login token without its cookie": lambda: _sign_in(client, browser.login_form(), cookie=False),
    }
    for forgery, send in forgeries.items():
        browser.login_form()  # the sign-in cookie is set, as on a real visit to the page
        response = send()
        assert response.status_code == 401, f"sign-in with {forgery}: {response.status_code}"
        assert "The sign-in form expired" in response.text
        assert not any(name.startswith(("registrar_session", "__Host-")) for name in client.cookies)
    assert _state(engine) == before
    assert events() == []
    assert _sign_in(client, browser.login_form()).status_code == 303  # the control: the real form works


def test_the_header_form_of_the_token_is_accepted(console: Console, events: Events) -> None:
    response = console.client.post(
        "/api-servers/new", data=_FORM, headers={"X-CSRF-Token": console.csrf()}, follow_redirects=False
    )
    assert response.status_code == 303
    assert [e["eventType"] for e in registry_events(events)] == ["resource_servers.api_server.register"]
