"""Every console sign-in writes Okta's ``user.session.start`` (SUCCESS, or FAILURE with Okta's reason) and
sign-out writes ``user.session.end``, with the console session as ``externalSessionId``; a failed sign-in
tells the browser nothing about which part was wrong, or whether the account exists."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import orjson
import pytest
from argon2 import PasswordHasher
from okta.models.log_event import LogEvent
from sqlalchemy import Engine, insert, select, update
from starlette.testclient import TestClient

from registrar.domain.entities import User
from registrar.ids import utcnow
from registrar.store.schema import api_tokens, log_events, users
from registrar.store.tokens import find_token

from ..conftest import CLIENT_ADDRESS, MakeToken
from .conftest import EMAIL, PASSWORD, Console, session_ids

Events = Callable[[], list[dict[str, Any]]]
AGENT = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/127.0 Safari/537.36"
)
REFUSED = "The email address or the password is not correct."


def _sessions(events: Events) -> list[dict[str, Any]]:
    found = [e for e in events() if e["eventType"].startswith("user.session.")]
    for event in found:
        assert LogEvent.from_dict(event) is not None  # the okta SDK's strict model takes every one
    return found


def _outcomes(events: Events) -> list[tuple[str, str, str | None]]:
    return [(e["eventType"], e["outcome"]["result"], e["outcome"]["reason"]) for e in _sessions(events)]


def test_a_password_sign_in_writes_user_session_start(
    client: TestClient, console_user: User, engine: Engine, events: Events
) -> None:
    response = Console(client).login()
    assert response.status_code == 303
    (event,) = _sessions(events)
    assert event["eventType"] == "user.session.start"
    assert event["displayMessage"] == "User login to Okta"
    assert event["outcome"] == {"result": "SUCCESS", "reason": None}
    assert event["severity"] == "INFO"
    assert event["actor"] == {
        "id": console_user.id,
        "type": "User",
        "alternateId": EMAIL,
        "displayName": "Alice Admin",
        "detailEntry": None,
    }
    assert event["authenticationContext"]["externalSessionId"] == session_ids(engine)[0]
    assert event["authenticationContext"]["credentialType"] == "PASSWORD"
    assert event["authenticationContext"]["credentialProvider"] == "OKTA_CREDENTIAL_PROVIDER"
    assert event["client"]["ipAddress"] == CLIENT_ADDRESS[0]
    assert event["request"]["ipChain"][0]["ip"] == CLIENT_ADDRESS[0]
    request_id = response.headers["x-okta-request-id"]
    assert event["transaction"] == {"type": "WEB", "id": request_id, "detail": {}}
    assert event["debugContext"]["debugData"]["requestUri"] == "/login"
    assert event["target"] == []


def test_the_event_describes_the_browser(client: TestClient, console_user: User, events: Events) -> None:
    browser = Console(client)
    data = {"method": "password", "email": EMAIL, "password": PASSWORD, "login_csrf": browser.login_form()}
    assert client.post("/login", data=data, headers={"User-Agent": AGENT}).status_code in {200, 303}
    (event,) = _sessions(events)
    assert event["client"]["userAgent"] == {"rawUserAgent": AGENT, "os": "Mac OS X", "browser": "CHROME"}
    assert event["client"]["device"] == "Computer"


def test_a_token_sign_in_is_recorded_with_the_token(
    client: TestClient, make_token: MakeToken, engine: Engine, events: Events
) -> None:
    secret = make_token("okta.logs.read", email="reader@example.com")
    assert Console(client).login_token(secret).status_code == 303
    (event,) = _sessions(events)
    with engine.connect() as conn:
        token = find_token(conn, secret)
    assert token is not None
    assert event["outcome"]["result"] == "SUCCESS"
    assert event["actor"]["alternateId"] == "reader@example.com"
    assert event["authenticationContext"]["credentialType"] is None  # Okta has none for an API token
    assert event["authenticationContext"]["externalSessionId"] == session_ids(engine)[0]
    assert event["client"]["id"] == token.id
    assert event["transaction"]["detail"] == {"requestApiTokenId": token.id}
    with engine.connect() as conn:
        assert conn.execute(select(api_tokens.c.last_used_ms)).scalar_one() is not None


def test_refused_sign_ins_look_alike_and_are_audited_with_oktas_reasons(
    client: TestClient, console_user: User, engine: Engine, events: Events
) -> None:
    with engine.begin() as conn:  # an account that exists but has no console password
        conn.execute(
            insert(users).values(
                id="00unopassword0000000", email="np@example.com", display_name="NP", created_ms=1
            )
        )
    browser = Console(client)
    responses = [
        browser.login(password="not the password at all"),
        browser.login(email="mallory@example.com"),
        browser.login(email="np@example.com"),
    ]
    for response in responses:
        assert response.status_code == 401
        assert REFUSED in response.text
    assert _outcomes(events) == [
        ("user.session.start", "FAILURE", "INVALID_CREDENTIALS"),
        ("user.session.start", "FAILURE", "UNKNOWN_USER"),
        ("user.session.start", "FAILURE", "PASSWORD_BASED_LOGIN_DISALLOWED"),
    ]
    wrong, unknown, no_password = _sessions(events)
    assert wrong["actor"]["id"] == console_user.id and wrong["severity"] == "WARN"
    assert no_password["actor"]["id"] == "00unopassword0000000"
    # Okta's unknown-user actor: the login as typed, nothing else.
    assert unknown["actor"] == {
        "id": "unknown",
        "type": "User",
        "alternateId": "mallory@example.com",
        "displayName": "unknown",
        "detailEntry": None,
    }
    for event in (wrong, unknown, no_password):
        assert event["authenticationContext"]["externalSessionId"] is None  # no session was opened
        assert event["debugContext"]["debugData"]["errorMessage"] == event["outcome"]["reason"]
    assert session_ids(engine) == []


def test_an_unknown_account_costs_the_same_argon2_work(
    client: TestClient, console_user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    from registrar.console import _accounts

    calls: list[str] = []

    class Counting(PasswordHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
            calls.append("verify")
            return super().verify(hash, password)

    monkeypatch.setattr(_accounts, "_hasher", Counting(time_cost=1, memory_cost=1024, parallelism=1))
    browser = Console(client)
    browser.login(password="not the password at all")
    assert calls == ["verify"]
    browser.login(email="mallory@example.com")
    assert calls == ["verify", "verify"]


def test_a_hostile_login_is_bounded_and_stripped_in_the_actor(
    client: TestClient, console_user: User, events: Events
) -> None:
    hostile = "ev\x00il\x1b[2J\u202e@example.com" + "x" * 400
    assert Console(client).login(email=hostile).status_code == 401
    (event,) = _sessions(events)
    alternate = event["actor"]["alternateId"]
    assert alternate.startswith("evil[2J@example.comx") and len(alternate) == 320
    assert not any(ord(ch) < 0x20 or ch == "\u202e" for ch in alternate)


def test_a_bad_token_is_refused_alike_and_never_logged(
    client: TestClient, make_token: MakeToken, engine: Engine, events: Events
) -> None:
    revoked = make_token()
    with engine.begin() as conn:
        conn.execute(update(api_tokens).values(revoked_ms=1))
    expired = make_token()
    with engine.begin() as conn:
        conn.execute(update(api_tokens).where(api_tokens.c.revoked_ms.is_(None)).values(expires_ms=1))
    browser = Console(client)
    for secret in ("00" + "x" * 40, revoked, expired):
        response = browser.login_token(secret)
        assert response.status_code == 401 and "That API token is not valid." in response.text
    assert _outcomes(events) == [("user.session.start", "FAILURE", "INVALID_CREDENTIALS")] * 3
    assert {e["actor"]["id"] for e in _sessions(events)} == {"unknown"}
    with engine.connect() as conn:
        bodies = "".join(conn.execute(select(log_events.c.body)).scalars())
    for secret in (revoked, expired):
        assert secret not in bodies


def test_sign_out_writes_user_session_end(console: Console, engine: Engine, events: Events) -> None:
    (session_id,) = session_ids(engine)
    response = console.post("/logout")
    assert response.status_code == 303
    start, end = _sessions(events)
    assert end["eventType"] == "user.session.end"
    assert end["displayMessage"] == "User logout from Okta"
    assert end["outcome"] == {"result": "SUCCESS", "reason": None}
    assert end["actor"] == start["actor"]
    assert end["authenticationContext"]["externalSessionId"] == session_id
    assert end["authenticationContext"]["credentialType"] == "PASSWORD"
    assert end["transaction"]["id"] == response.headers["x-okta-request-id"]
    assert console.client.post("/logout", follow_redirects=False).status_code == 303  # to sign-in, no event
    assert len(_sessions(events)) == 2


def test_signing_in_again_ends_the_old_session_in_the_log(
    console: Console, engine: Engine, events: Events
) -> None:
    (old,) = session_ids(engine)
    kept = dict(console.client.cookies)
    console.client.cookies.clear()
    login_csrf = console.login_form()  # a second tab's sign-in form
    console.client.cookies.update(kept)
    data = {"method": "password", "email": EMAIL, "password": PASSWORD, "login_csrf": login_csrf}
    assert console.client.post("/login", data=data, follow_redirects=False).status_code == 303
    new = session_ids(engine)[1]
    assert [(e["eventType"], e["authenticationContext"]["externalSessionId"]) for e in _sessions(events)] == [
        ("user.session.start", old),
        ("user.session.end", old),
        ("user.session.start", new),
    ]


def test_an_expired_token_ends_its_console_session(
    client: TestClient, make_token: MakeToken, engine: Engine
) -> None:
    browser = Console(client)
    assert browser.login_token(make_token()).status_code == 303
    assert client.get("/api-servers").status_code == 200
    with engine.begin() as conn:
        conn.execute(update(api_tokens).values(expires_ms=int(utcnow().timestamp() * 1000)))
    assert client.get("/api-servers", follow_redirects=False).status_code == 303


def test_events_hold_no_password(client: TestClient, console_user: User, engine: Engine) -> None:
    browser = Console(client)
    browser.login(password="hunter2 is not it, either")
    browser.login()
    with engine.connect() as conn:
        bodies = [orjson.loads(body) for body in conn.execute(select(log_events.c.body)).scalars()]
    text = orjson.dumps(bodies)
    assert b"hunter2" not in text and PASSWORD.encode() not in text
