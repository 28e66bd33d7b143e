"""The resource-server pages every kind shares, run over every kind the console shows.

Registration, list (search, paging), detail, metadata edit, lifecycle with confirmation, delete, the
authorization-server forms of the kinds that allow them, and denials, each audited as the API call it
mirrors. MCP servers and A2A agents are real loopback servers (``conftest.remote``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from registrar.console import _pages
from registrar.console._kinds import views
from registrar.console._view import ServerView

from ..conftest import MakeToken
from .conftest import Console, Remote, registration_form, registry_events

Events = Callable[[], list[dict[str, Any]]]
VIEWS = {view.key: view for view in views()}
KEYS = list(VIEWS)
ENTERED = [key for key in KEYS if VIEWS[key].kind.auth_add == "entered"]
AS_FORM = {
    "issuer": "https://login.example.com",
    "authorizationEndpoint": "https://login.example.com/authorize",
    "tokenEndpoint": "https://login.example.com/token",
    "grantTypesSupported": ["authorization_code", "client_credentials"],
}


def register(console: Console, view: ServerView, remote: Remote, name: str = "Alpha", which: int = 0) -> str:
    """Register a server through the console's form; returns its page's path."""
    response = console.post(f"{view.base}/new", registration_form(view.key, remote, name, which))
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.endswith(f"?notice={view.done}")
    return str(location.split("?")[0])


def server_events(events: Events, view: ServerView) -> list[tuple[str, str]]:
    """(operation, outcome) of the kind's own server events (its authorization servers' left out)."""
    prefix = view.kind.events["register"].name.rsplit(".", 1)[0] + "."
    found = [e for e in registry_events(events) if e["eventType"].startswith(prefix)]
    operations = [(e["eventType"][len(prefix) :], e["outcome"]["result"]) for e in found]
    return [(op, result) for op, result in operations if "." not in op]


def test_the_console_shows_every_kind_the_server_has() -> None:
    assert set(KEYS) >= {"api", "mcp", "a2a"}


@pytest.mark.parametrize("key", KEYS)
def test_register_shows_the_server_and_audits_it(
    key: str, console: Console, remote: Remote, events: Events
) -> None:
    view = VIEWS[key]
    path = register(console, view, remote)
    page = console.client.get(f"{path}?notice={view.done}")
    assert page.status_code == 200
    assert f"{view.done.capitalize()}." in page.text
    assert re.search(r"<h1>Alpha <span class=\"badge badge-inactive\">INACTIVE</span></h1>", page.text)
    assert view.kind.orn(_org_id(console), path.rsplit("/", 1)[1]) in page.text
    assert server_events(events, view) == [(view.kind.events["register"].name.rsplit(".", 1)[1], "SUCCESS")]
    # Every page links every kind's list.
    for other in VIEWS.values():
        assert f'<a href="{other.base}"' in page.text


def _org_id(console: Console) -> str:
    app: Any = console.client.app
    return str(app.state.deps.org_id)


@pytest.mark.parametrize("key", KEYS)
def test_a_refused_registration_shows_the_form_again_with_the_error(
    key: str, console: Console, events: Events
) -> None:
    view = VIEWS[key]
    form = {"displayName": "x" * 300, "description": "kept on error"}
    if view.has_url:
        form["resourceUrl"] = "ftp://nowhere.example.com/"
    response = console.post(f"{view.base}/new", form)
    assert response.status_code == 400
    assert "kept on error" in response.text
    assert 'role="alert"' in response.text
    (failure,) = registry_events(events)
    assert failure["eventType"] == view.kind.events["register"].name
    assert failure["outcome"]["result"] == "FAILURE"


@pytest.mark.parametrize("key", KEYS)
def test_list_search_and_pages(
    key: str, console: Console, remote: Remote, monkeypatch: pytest.MonkeyPatch
) -> None:
    view = VIEWS[key]
    assert f"No {view.kind.label}s {view.done} yet." in console.client.get(view.base).text
    register(console, view, remote, "Alpha", 0)
    register(console, view, remote, "Bravo", 1)
    monkeypatch.setattr(_pages, "PAGE_SIZE", 1)
    first = console.client.get(view.base)
    assert "Alpha" in first.text and "Bravo" not in first.text
    match = re.search(r'href="([^"]+after=[^"]+)"', first.text)
    assert match is not None
    second = console.client.get(match.group(1).replace("&amp;", "&"))
    assert "Bravo" in second.text and "Alpha" not in second.text
    found = console.client.get(view.base, params={"search": 'metadata.displayName co "rav"'})
    assert "Bravo" in found.text and "Alpha" not in found.text
    nothing = console.client.get(view.base, params={"search": 'metadata.displayName eq "Zulu"'})
    assert f"No {view.kind.label} matches" in nothing.text
    broken = console.client.get(view.base, params={"search": 'status eq "ACTIVE" and'})
    assert broken.status_code == 400 and "E0000053" in broken.text


@pytest.mark.parametrize("key", KEYS)
def test_edit_metadata(key: str, console: Console, remote: Remote, events: Events) -> None:
    view = VIEWS[key]
    path = register(console, view, remote)
    saved = console.post(f"{path}/edit", {"displayName": "Renamed", "description": "Now described"})
    assert saved.status_code == 303 and saved.headers["location"] == f"{path}?notice=updated"
    page = console.client.get(path).text
    assert "Renamed" in page and "Now described" in page
    refused = console.post(f"{path}/edit", {"displayName": ""})
    assert refused.status_code == 400
    assert 'aria-invalid="true"' in refused.text  # next to the display name
    assert server_events(events, view)[1:] == [("update", "SUCCESS"), ("update", "FAILURE")]


@pytest.mark.parametrize("key", KEYS)
def test_lifecycle_from_the_console(key: str, console: Console, remote: Remote, events: Events) -> None:
    view = VIEWS[key]
    path = register(console, view, remote)
    confirm = console.client.get(f"{path}/confirm/delete")
    assert confirm.status_code == 200
    assert "This cannot be undone." in confirm.text
    linked = len(re.findall(r'<article class="subcard" id="as-', console.client.get(path).text))
    if linked:
        assert f"Its {linked} authorization server" in confirm.text
    assert f"Activate {view.kind.label}?" in console.client.get(f"{path}/confirm/activate").text
    assert console.post(f"{path}/activate").status_code == 303
    refused = console.post(f"{path}/delete")
    assert "Server must be deactivated first." in refused.text
    assert console.post(f"{path}/deactivate").status_code == 303
    assert console.post(f"{path}/delete").headers["location"] == f"{view.base}?notice=deleted"
    register_op = view.kind.events["register"].name.rsplit(".", 1)[1]
    assert server_events(events, view) == [
        (register_op, "SUCCESS"),
        ("activate", "SUCCESS"),
        ("delete", "FAILURE"),
        ("deactivate", "SUCCESS"),
        ("delete", "SUCCESS"),
    ]
    assert console.client.get(path).status_code == 404
    assert console.client.get(f"{path}/confirm/delete").status_code == 404


@pytest.mark.parametrize("key", KEYS)
def test_an_unknown_server_or_action_is_not_found(key: str, console: Console, remote: Remote) -> None:
    view = VIEWS[key]
    missing = f"{view.base}/{view.kind.id_prefix}nothere0000000000"
    assert console.client.get(missing).status_code == 404
    path = register(console, view, remote)
    assert console.client.get(f"{path}/confirm/explode").status_code == 404
    assert console.post(f"{path}/explode").status_code == 404


@pytest.mark.parametrize("key", KEYS)
def test_a_read_only_token_session_is_denied_and_the_denial_audited(
    key: str, client: TestClient, console: Console, remote: Remote, make_token: MakeToken, events: Events
) -> None:
    view = VIEWS[key]
    path = register(console, view, remote)
    reader = Console(client)
    client.cookies.clear()
    token = make_token(view.kind.read_scopes[0], email="reader@example.com")
    assert reader.login_token(token).status_code == 303
    assert reader.client.get(path).status_code == 200
    response = reader.post(f"{path}/activate")
    assert f"lacks the scope {view.kind.manage_scope}" in response.text
    denied = events()[-1]
    assert denied["eventType"] == view.kind.events["activate"].name
    assert denied["outcome"]["result"] == "DENY"
    assert denied["actor"]["alternateId"] == "reader@example.com"
    assert denied["authenticationContext"]["credentialType"] is None  # a token, as in the API
    assert denied["transaction"]["detail"]["requestApiTokenId"].startswith("00T")
    # Another kind's pages need that kind's scope.
    other = next(v for v in VIEWS.values() if v.key != key)
    refused = reader.client.get(other.base)
    assert refused.status_code == 403 and other.kind.read_scopes[0] in refused.text


@pytest.mark.parametrize("key", ENTERED)
def test_entered_authorization_servers(key: str, console: Console, remote: Remote, events: Events) -> None:
    view = VIEWS[key]
    kind = view.kind
    path = register(console, view, remote)
    added = console.post(f"{path}/authorization-servers", AS_FORM)
    assert added.status_code == 303 and added.headers["location"] == f"{path}?notice=auth-server-added"
    page = console.client.get(path).text
    assert "https://login.example.com/token" in page
    assert events()[-1]["eventType"] == kind.events["auth.link"].name
    auth_id = re.findall(r'id="as-(eas\w+)"', page)[0]
    again = console.post(f"{path}/authorization-servers", AS_FORM)
    assert again.status_code == 400 and "already linked" in again.text
    edit = f"{path}/authorization-servers/{auth_id}/edit"
    if kind.auth_patch:
        form = {**AS_FORM, "tokenEndpoint": "https://login.example.com/oauth/token"}
        assert console.post(edit, form).status_code == 303
        update = events()[-1]
        assert update["eventType"] == kind.events["auth.update"].name
        assert update["target"][1]["changeDetails"]["to"]["tokenEndpoint"] == form["tokenEndpoint"]
    else:
        assert "Edit endpoints and grant types" not in page
        assert console.post(edit, AS_FORM).status_code == 404  # no such form, no such route
    confirm = console.client.get(f"{path}/authorization-servers/{auth_id}/confirm-remove")
    assert f"The {kind.label} will no longer trust tokens from this issuer." in confirm.text
    assert console.post(f"{path}/authorization-servers/{auth_id}/remove").status_code == 303
    assert events()[-1]["eventType"] == kind.events["auth.unlink"].name
    assert "No authorization server is linked yet." in console.client.get(path).text


def test_discovered_authorization_servers_are_shown_not_edited(console: Console, remote: Remote) -> None:
    view = VIEWS["mcp"]
    path = register(console, view, remote)
    page = console.client.get(path).text
    assert "Discovered authorization servers" in page and remote.issuer in page
    assert "Add authorization server" not in page and "confirm-remove" not in page
    assert console.post(f"{path}/authorization-servers", AS_FORM).status_code == 404
