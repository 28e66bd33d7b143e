"""Console sign-in is throttled per account and per client address (as resolved through the trusted
proxies), with counters every replica shares; a throttled attempt is a 429 and a LOCKED_OUT event."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import httpx2
import pytest
from fastapi import FastAPI
from okta.models.log_event import LogEvent
from sqlalchemy import Engine, func, select
from starlette.testclient import TestClient

from registrar.api import create_app
from registrar.config import Settings
from registrar.console import set_password
from registrar.console._throttle import Limit, SignInThrottle
from registrar.store.database import create_database_engine, migrate
from registrar.store.schema import signin_failures

from ..conftest import CLIENT_ADDRESS, MakeToken
from .conftest import EMAIL, Console, session_ids

Events = Callable[[], list[dict[str, Any]]]
WRONG = "not the password, sorry"
THROTTLED = "Too many failed sign-in attempts."


def _starts(events: Events) -> list[dict[str, Any]]:
    found = [e for e in events() if e["eventType"] == "user.session.start"]
    for event in found:
        assert LogEvent.from_dict(event) is not None
    return found


def _reasons(events: Events) -> list[str | None]:
    return [e["outcome"]["reason"] for e in _starts(events)]


def _assert_throttled(response: httpx2.Response) -> None:
    assert response.status_code == 429, response.text
    assert THROTTLED in response.text
    assert int(response.headers["retry-after"]) >= 1
    assert not any("registrar_session" in h for h in response.headers.get_list("set-cookie"))


@pytest.fixture
def small_limits(settings: Settings, engine: Engine) -> FastAPI:
    """The app with 3 failures allowed per address (the account limit stays the default 5)."""
    return create_app(dataclasses.replace(settings, signin_address_failures=3), engine=engine)


@contextmanager
def _browser(app: FastAPI, address: str, port: int = 40000) -> Iterator[Console]:
    with TestClient(app, client=(address, port), raise_server_exceptions=False) as client:
        yield Console(client)


def test_an_account_is_throttled_after_five_failures(
    client: TestClient, console_user: Any, engine: Engine, events: Events
) -> None:
    browser = Console(client)
    for _ in range(5):
        assert browser.login(password=WRONG).status_code == 401
    refused = browser.login()  # the right password, too late
    _assert_throttled(refused)
    assert session_ids(engine) == []
    assert _reasons(events) == ["INVALID_CREDENTIALS"] * 5 + ["LOCKED_OUT"]
    locked = _starts(events)[-1]
    assert locked["outcome"]["result"] == "FAILURE"
    assert locked["actor"]["id"] == console_user.id
    assert locked["client"]["ipAddress"] == CLIENT_ADDRESS[0]
    assert locked["transaction"]["id"] == refused.headers["x-okta-request-id"]
    debug = locked["debugContext"]["debugData"]
    assert debug["signInThrottle"] == "ACCOUNT" and debug["retryAfterSeconds"] >= 1
    # Another account signs in from the same address: the account limit is the account's alone.
    with engine.begin() as conn:
        set_password(conn, "bob@example.com", "another long password", "Bob")
    assert browser.login(email="bob@example.com", password="another long password").status_code == 303


def test_an_unknown_account_is_throttled_the_same_way(client: TestClient, events: Events) -> None:
    browser = Console(client)
    for _ in range(5):
        assert browser.login(email="Nobody@Example.com ").status_code == 401
    _assert_throttled(browser.login(email="nobody@example.com"))  # case and spaces do not make a new account
    assert _reasons(events) == ["UNKNOWN_USER"] * 5 + ["LOCKED_OUT"]
    assert _starts(events)[-1]["actor"]["id"] == "unknown"


def test_the_account_limit_holds_across_replicas(
    settings: Settings, console_user: Any, events: Events
) -> None:
    engines = [create_database_engine(settings.database_url) for _ in range(2)]
    try:
        for engine in engines:
            migrate(engine)
        one, two = (create_app(settings, engine=engine) for engine in engines)
        with TestClient(one, client=CLIENT_ADDRESS) as a, TestClient(two, client=("192.0.2.44", 4000)) as b:
            for _ in range(3):
                assert Console(a).login(password=WRONG).status_code == 401
            for _ in range(2):
                assert Console(b).login(password=WRONG).status_code == 401
            _assert_throttled(Console(a).login())
            _assert_throttled(Console(b).login())
    finally:
        for engine in engines:
            engine.dispose()


def test_an_address_is_throttled_across_accounts(
    small_limits: FastAPI, console_user: Any, events: Events
) -> None:
    with _browser(small_limits, "203.0.113.9") as attacker:
        for n in range(3):
            assert attacker.login(email=f"guess{n}@example.com", password=WRONG).status_code == 401
        _assert_throttled(attacker.login())  # any account, from this address
    with _browser(small_limits, "198.51.100.77") as colleague:
        assert colleague.login().status_code == 303  # another address is not held up
    starts = _starts(events)
    assert [e["outcome"]["reason"] for e in starts] == ["UNKNOWN_USER"] * 3 + ["LOCKED_OUT", None]
    assert [e["actor"]["alternateId"] for e in starts[:3]] == [f"guess{n}@example.com" for n in range(3)]
    assert starts[3]["debugContext"]["debugData"]["signInThrottle"] == "ADDRESS"
    assert starts[3]["client"]["ipAddress"] == "203.0.113.9"


def test_token_sign_in_is_throttled_per_address(small_limits: FastAPI, make_token: MakeToken) -> None:
    good = make_token()
    with _browser(small_limits, "203.0.113.10") as browser:
        for n in range(3):
            assert browser.login_token(f"00guess{n}").status_code == 401
        _assert_throttled(browser.login_token(good))


def test_an_ipv6_client_is_counted_by_its_64(small_limits: FastAPI, console_user: Any) -> None:
    for n in range(3):
        with _browser(small_limits, f"2001:db8:1:2::{n + 1}") as browser:
            assert browser.login(password=WRONG, email=f"g{n}@example.com").status_code == 401
    with _browser(small_limits, "2001:db8:1:2:ffff::9") as browser:
        _assert_throttled(browser.login())
    with _browser(small_limits, "2001:db8:1:3::1") as browser:
        assert browser.login().status_code == 303


def test_the_address_is_the_one_trusted_proxies_resolve(
    settings: Settings, engine: Engine, console_user: Any, events: Events
) -> None:
    behind_proxy = dataclasses.replace(settings, signin_address_failures=3, trusted_proxies=("10.0.0.0/8",))
    app = create_app(behind_proxy, engine=engine)
    with TestClient(app, client=("10.0.0.2", 4100)) as proxy:
        forwarded = Console(proxy)
        for n in range(3):
            data = {
                "method": "password",
                "email": f"g{n}@x.io",
                "password": WRONG,
                "login_csrf": forwarded.login_form(),
            }
            response = proxy.post("/login", data=data, headers={"X-Forwarded-For": "203.0.113.50"})
            assert response.status_code == 401
        data = {"method": "password", "email": EMAIL, "password": WRONG, "login_csrf": forwarded.login_form()}
        held = proxy.post("/login", data=data, headers={"X-Forwarded-For": "203.0.113.50"})
        _assert_throttled(held)
        assert _starts(events)[-1]["client"]["ipAddress"] == "203.0.113.50"
        # Another client behind the same proxy has its own count.
        data = {"method": "password", "email": EMAIL, "password": WRONG, "login_csrf": forwarded.login_form()}
        other = proxy.post("/login", data=data, headers={"X-Forwarded-For": "198.51.100.8"})
        assert other.status_code == 401
    # An untrusted peer cannot pick its own address: a new X-Forwarded-For each time is one count.
    with TestClient(app, client=("192.0.2.99", 4200)) as direct:
        spoofer = Console(direct)
        statuses = []
        for n in range(4):
            data = {
                "method": "password",
                "email": f"s{n}@x.io",
                "password": WRONG,
                "login_csrf": spoofer.login_form(),
            }
            statuses.append(
                direct.post("/login", data=data, headers={"X-Forwarded-For": f"198.51.100.{n}"}).status_code
            )
        assert statuses == [401, 401, 401, 429]
        assert _starts(events)[-1]["client"]["ipAddress"] == "192.0.2.99"


def test_concurrent_guesses_cannot_outrun_the_limit(engine: Engine) -> None:
    """Sixteen simultaneous attempts on one account: at most the limit get through to the password check."""
    throttle = SignInThrottle(engine, Limit("ACCOUNT", 5, 900_000), Limit("ADDRESS", 1_000, 60_000))
    start = threading.Barrier(16)

    def attempt(n: int) -> bool:
        start.wait()
        return throttle.reserve(login=EMAIL, address=f"203.0.113.{n}").refused_by is None

    with ThreadPoolExecutor(16) as pool:
        admitted = sum(pool.map(attempt, range(16)))
    assert admitted <= 5  # (maybe none: all may count each other in before any is checked)
    # Refused attempts left no trace: the rest of the budget is still there, and not one attempt more.
    later = 0
    while throttle.reserve(login=EMAIL, address=f"198.51.100.{later}").refused_by is None:
        later += 1
    assert admitted + later == 5


def test_a_success_does_not_count_and_a_refusal_does_not_prolong(engine: Engine) -> None:
    throttle = SignInThrottle(engine, Limit("ACCOUNT", 2, 900_000), Limit("ADDRESS", 1_000, 60_000))
    success = throttle.reserve(login=EMAIL, address=None)
    with engine.begin() as conn:
        throttle.release(conn, success)
    for _ in range(2):
        assert throttle.reserve(login=EMAIL, address=None).refused_by is None  # two failures
    for _ in range(3):
        assert throttle.reserve(login=EMAIL, address=None).refused_by == "ACCOUNT"
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(signin_failures)).scalar_one() == 4  # 2 subjects
