"""CSRF: every state-changing console request needs the session's synchronizer token."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .conftest import Console

Events = Callable[[], list[dict[str, Any]]]
_FORM = {"resourceUrl": "https://api.example.com/", "displayName": "Payments"}


def test_a_form_without_the_token_changes_nothing(console: Console, events: Events) -> None:
    response = console.client.post("/api-servers/new", data=_FORM, follow_redirects=False)
    assert response.status_code == 403
    assert "nothing was changed" in response.text
    assert events() == []  # refused before any operation: a forged request is not audited as one
    assert "No API servers registered yet." in console.client.get("/api-servers").text


def test_a_wrong_token_is_refused(console: Console, events: Events) -> None:
    response = console.client.post(
        "/api-servers/new", data={**_FORM, "csrf_token": "x" * 43}, follow_redirects=False
    )
    assert response.status_code == 403
    assert events() == []


def test_another_sessions_token_is_refused(console: Console, events: Events) -> None:
    stale = console.csrf()
    assert console.client.cookies  # sign in again: a new session, with a new token
    console.client.cookies.clear()
    assert console.login().status_code == 303
    response = console.client.post(
        "/api-servers/new", data={**_FORM, "csrf_token": stale}, follow_redirects=False
    )
    assert response.status_code == 403
    assert events() == []


def test_logout_needs_the_token_too(console: Console) -> None:
    assert console.client.post("/logout", follow_redirects=False).status_code == 403
    assert console.client.get("/mcp-servers").status_code == 200


def test_the_header_form_of_the_token_is_accepted(console: Console, events: Events) -> None:
    response = console.client.post(
        "/api-servers/new", data=_FORM, headers={"X-CSRF-Token": console.csrf()}, follow_redirects=False
    )
    assert response.status_code == 303
    assert [e["eventType"] for e in events()] == ["resource_servers.api_server.register"]
