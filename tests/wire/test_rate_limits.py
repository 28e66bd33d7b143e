"""Limits that hold, through a real ``registrar serve`` on both stores (memory on SQLite, the shared
table on PostgreSQL): one budget per token whatever the ``Authorization`` spelling, separate budgets for
separate tokens, and a failure budget per client address that throttles token guessing. 429s write no
event."""

from __future__ import annotations

from pathlib import Path

import httpx2

from ._live import event_count, inside_one_window, served

API_SERVERS = "/resource-servers/api/v1/api-servers"


def _get(url: str, authorization: str | None = None, **headers: str) -> httpx2.Response:
    if authorization is not None:
        headers["Authorization"] = authorization
    return httpx2.get(f"{url}{API_SERVERS}", headers=headers)


def test_every_spelling_of_a_token_draws_on_one_budget(database_url: str, tmp_path: Path) -> None:
    with served(database_url, tmp_path, rate_limit_per_minute="4") as live:
        token = live.token()
        spellings = [f"SSWS {token}", f"SSWS{token}", f"SSWS\t{token}", f"ssws  {token}", f"Bearer {token}"]
        inside_one_window()
        responses = [_get(live.url, spelling) for spelling in spellings]
    assert [r.status_code for r in responses] == [200, 200, 200, 200, 429]
    assert [r.headers["x-rate-limit-remaining"] for r in responses] == ["3", "2", "1", "0", "0"]
    assert responses[-1].json()["errorCode"] == "E0000047"


def test_two_tokens_have_budgets_of_their_own(database_url: str, tmp_path: Path) -> None:
    with served(database_url, tmp_path, rate_limit_per_minute="3") as live:
        first, second = live.token("one@example.com"), live.token("two@example.com")
        inside_one_window()
        spent = [_get(live.url, f"SSWS {first}").status_code for _ in range(4)]
        fresh = [_get(live.url, f"SSWS {second}").status_code for _ in range(3)]
    assert spent == [200, 200, 200, 429]
    assert fresh == [200, 200, 200]


def test_guessing_tokens_from_one_address_is_throttled(database_url: str, tmp_path: Path) -> None:
    with served(database_url, tmp_path, auth_failures_per_minute="3") as live:
        token = live.token()
        inside_one_window()
        # A new guess each time, and a forwarding header each time naming someone else: neither buys budget
        # (no proxy is trusted, so the address is the socket's).
        guesses = [
            _get(live.url, f"SSWS guess{i:040d}", **{"X-Forwarded-For": f"198.51.100.{i}"}) for i in range(5)
        ]
        valid = _get(live.url, f"SSWS {token}")
        anonymous = httpx2.get(f"{live.url}/openapi.json")
    assert [r.status_code for r in guesses] == [401, 401, 401, 429, 429]
    assert guesses[-1].json()["errorCode"] == "E0000047"
    assert guesses[-1].headers["x-rate-limit-limit"] == "3"
    assert guesses[-1].headers["x-rate-limit-remaining"] == "0"
    # Until the window ends, the address's token requests are refused, a valid token's included ...
    assert valid.status_code == 429
    # ... while requests without a token keep their own (per-address) budget.
    assert anonymous.status_code == 200


def test_the_failure_budget_belongs_to_the_address_behind_a_trusted_proxy(
    database_url: str, tmp_path: Path
) -> None:
    settings = {"auth_failures_per_minute": "2", "trusted_proxies": "127.0.0.1/32"}
    with served(database_url, tmp_path, **settings) as live:
        token = live.token()
        inside_one_window()
        guesser = {"X-Forwarded-For": "203.0.113.7"}
        guesses = [_get(live.url, f"SSWS guess{i:040d}", **guesser).status_code for i in range(3)]
        neighbour = _get(live.url, f"SSWS {token}", **{"X-Forwarded-For": "203.0.113.8"})
        guesser_with_valid_token = _get(live.url, f"SSWS {token}", **guesser)
    assert guesses == [401, 401, 429]
    assert neighbour.status_code == 200  # another client of the same proxy is not locked out
    assert guesser_with_valid_token.status_code == 429


def test_rate_limited_requests_write_no_event(database_url: str, tmp_path: Path) -> None:
    with served(database_url, tmp_path, rate_limit_per_minute="2") as live:
        token = live.token()
        before = event_count(database_url)
        inside_one_window()
        statuses = [
            httpx2.post(
                f"{live.url}{API_SERVERS}",
                headers={"Authorization": f"SSWS {token}"},
                json={"resourceUrl": f"https://limited{i}.example.com", "metadata": {"displayName": "L"}},
            ).status_code
            for i in range(4)
        ]
        after = event_count(database_url)
    assert statuses == [201, 201, 429, 429]
    assert after - before == 2  # one register event per 201, none for the 429s
