"""Security headers on every console response, and no inline script or style for the CSP to allow."""

from __future__ import annotations

import re
from collections.abc import Mapping

from starlette.testclient import TestClient

from registrar.console._kinds import views

from .conftest import Console

_PAGES = (
    *(page for view in views() for page in (view.base, f"{view.base}/new")),
    "/client-auth-settings",
    "/client-auth-settings/new",
    "/system-log",
    "/system-log?live=1",
)


def _assert_hardened(headers: Mapping[str, str], *, cacheable: bool = False) -> None:
    get = headers.get
    csp = get("content-security-policy")
    assert csp is not None
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert get("x-frame-options") == "DENY"
    assert get("x-content-type-options") == "nosniff"
    assert get("referrer-policy") == "same-origin"
    if not cacheable:
        assert get("cache-control") == "no-store"


def test_every_page_is_hardened_and_free_of_inline_code(console: Console) -> None:
    for path in _PAGES:
        response = console.client.get(path)
        assert response.status_code == 200, path
        _assert_hardened(response.headers)
        html = response.text
        # Every <script> either loads a same-origin file or is inert JSON data.
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert 'src="/console/static/' in tag or 'type="application/json"' in tag, (path, tag)
        assert not re.search(r"\sstyle=", html), path
        assert not re.search(r"\son[a-z]+=", html), path  # no inline event handlers either
        assert "<style" not in html, path


def test_sign_in_page_redirects_and_errors_are_hardened(client: TestClient) -> None:
    _assert_hardened(client.get("/login").headers)
    _assert_hardened(client.get("/mcp-servers", follow_redirects=False).headers)


def test_static_files_are_served_with_nosniff_and_long_caching(client: TestClient) -> None:
    response = client.get("/console/static/console.css")
    assert response.status_code == 200
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "immutable" in response.headers["cache-control"]


def test_the_console_is_not_in_the_openapi_document(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    console = ("/login", "/system-log", "/client-auth-settings", *(view.base for view in views()))
    assert not [p for p in paths if p.startswith(console)]
