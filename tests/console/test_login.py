"""Signing in and out: passwords, API tokens, cookie flags, expiry."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import Engine, update
from starlette.testclient import TestClient

from registrar.console import ABSOLUTE_LIFETIME, IDLE_TIMEOUT
from registrar.domain.entities import User
from registrar.store.schema import api_tokens, console_sessions

from ..conftest import CLIENT_ADDRESS, MakeToken
from .conftest import EMAIL, PASSWORD, Console, session_ids


def _cookie_attributes(header: str) -> dict[str, str]:
    parts = [part.strip() for part in header.split(";")]
    return {name.lower(): value for name, _, value in (part.partition("=") for part in parts[1:])}


def _session_cookie(response_headers: list[str]) -> str:
    return next(
        h for h in response_headers if h.startswith(("registrar_session=", "__Host-registrar_session="))
    )


def test_signed_out_pages_send_the_browser_to_sign_in(client: TestClient) -> None:
    response = client.get("/mcp-servers?search=x", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fmcp-servers%3Fsearch%3Dx"
    htmx = client.get("/system-log/live", headers={"HX-Request": "true"}, follow_redirects=False)
    assert htmx.status_code == 401
    assert htmx.headers["hx-redirect"].startswith("/login")


def test_password_sign_in_opens_a_session_with_a_hardened_cookie(
    client: TestClient, console_user: User, engine: Engine
) -> None:
    response = Console(client).login(next="/system-log")
    assert response.status_code == 303
    assert response.headers["location"] == "/system-log"
    cookie = _session_cookie(response.headers.get_list("set-cookie"))
    attributes = _cookie_attributes(cookie)
    assert {"httponly", "path", "samesite", "max-age"} <= attributes.keys()
    assert attributes["samesite"].lower() == "strict"
    assert attributes["path"] == "/"
    assert "secure" not in attributes  # plain http: a Secure cookie would never come back
    assert int(attributes["max-age"]) == int(ABSOLUTE_LIFETIME.total_seconds())
    # The browser holds a secret; the public session id (the one events carry) is something else.
    secret = cookie.split(";", 1)[0].split("=", 1)[1]
    assert session_ids(engine) and secret not in session_ids(engine)
    page = client.get("/mcp-servers")
    assert page.status_code == 200
    assert console_user.email in page.text


def test_over_https_the_cookie_is_secure_and_host_only(app: FastAPI, console_user: User) -> None:
    with TestClient(app, base_url="https://registrar.test", client=CLIENT_ADDRESS) as client:
        response = Console(client).login()
        cookie = _session_cookie(response.headers.get_list("set-cookie"))
        assert cookie.startswith("__Host-registrar_session=")
        assert "secure" in _cookie_attributes(cookie)
        assert client.get("/api-servers").status_code == 200


def test_bad_credentials_are_refused_alike(client: TestClient, console_user: User, engine: Engine) -> None:
    browser = Console(client)
    wrong_password = browser.login(password="not the password at all")
    unknown_user = browser.login(email="mallory@example.com")
    for response in (wrong_password, unknown_user):
        assert response.status_code == 401
        assert "The email address or the password is not correct." in response.text
        assert not any("registrar_session" in h for h in response.headers.get_list("set-cookie"))
    assert session_ids(engine) == []
    assert client.get("/mcp-servers", follow_redirects=False).status_code == 303


def test_a_forged_sign_in_without_the_login_token_is_refused(
    client: TestClient, console_user: User, engine: Engine
) -> None:
    data = {"method": "password", "email": EMAIL, "password": "correct horse battery staple"}
    response = client.post("/login", data=data, follow_redirects=False)
    assert response.status_code == 401
    assert "expired" in response.text
    assert session_ids(engine) == []


def test_token_sign_in_gets_the_tokens_scopes_only(client: TestClient, make_token: MakeToken) -> None:
    browser = Console(client)
    token = make_token("okta.resourceServers.mcpServers.read", email="reader@example.com")
    assert browser.login_token(token).status_code == 303
    assert client.get("/mcp-servers").status_code == 200
    refused = client.get("/system-log")
    assert refused.status_code == 403
    assert "okta.logs.read" in refused.text
    client.cookies.clear()
    bad = Console(client).login_token("00" + "x" * 40)
    assert bad.status_code == 401
    assert "That API token is not valid." in bad.text


def test_revoking_the_token_ends_its_console_session(
    client: TestClient, make_token: MakeToken, engine: Engine
) -> None:
    assert Console(client).login_token(make_token()).status_code == 303
    with engine.begin() as conn:
        conn.execute(update(api_tokens).values(revoked_ms=1))
    assert client.get("/mcp-servers", follow_redirects=False).status_code == 303


def test_logout_ends_the_session_for_good(console: Console, engine: Engine) -> None:
    cookies = dict(console.client.cookies)
    response = console.post("/logout")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?notice=signed-out"
    # Replaying the old cookie does not bring the session back.
    console.client.cookies.clear()
    console.client.cookies.update(cookies)
    assert console.client.get("/mcp-servers", follow_redirects=False).status_code == 303


def test_idle_and_absolute_expiry(console: Console, engine: Engine) -> None:
    idle_ms = int(IDLE_TIMEOUT.total_seconds() * 1000)
    with engine.begin() as conn:
        conn.execute(update(console_sessions).values(last_seen_ms=console_sessions.c.last_seen_ms - idle_ms))
    assert console.client.get("/mcp-servers", follow_redirects=False).status_code == 303

    assert console.login().status_code == 303
    assert console.client.get("/mcp-servers").status_code == 200
    with engine.begin() as conn:
        conn.execute(update(console_sessions).values(expires_ms=console_sessions.c.created_ms))
    assert console.client.get("/mcp-servers", follow_redirects=False).status_code == 303


def test_signing_in_again_replaces_the_session(console: Console, engine: Engine) -> None:
    first = session_ids(engine)
    old_cookies = dict(console.client.cookies)
    console.client.cookies.clear()
    login_csrf = console.login_form()  # a second tab's sign-in form
    console.client.cookies.update(old_cookies)
    data = {"method": "password", "email": EMAIL, "password": PASSWORD, "login_csrf": login_csrf}
    assert console.client.post("/login", data=data, follow_redirects=False).status_code == 303
    assert len(session_ids(engine)) == 2
    assert console.client.get("/mcp-servers").status_code == 200
    # The first session was ended, not kept alongside (no session fixation through an old id).
    assert first[0] in session_ids(engine)
    with engine.connect() as conn:
        ended = (
            conn.execute(console_sessions.select().where(console_sessions.c.id == first[0])).one().ended_ms
        )
    assert ended is not None


def test_open_redirects_after_sign_in_are_refused(client: TestClient, console_user: User) -> None:
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        client.cookies.clear()
        response = Console(client).login(next=target)
        assert response.headers["location"] == "/"
