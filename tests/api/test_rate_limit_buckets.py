"""Rate limits are per token: one token spending its budget leaves every other token's budget whole.

Through the ASGI app with a budget of a few requests a minute, on both backends (in-memory counters on
SQLite, the shared database counters on PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import httpx2
import pytest
from sqlalchemy import Engine
from starlette.testclient import TestClient

from registrar.api import create_app
from registrar.config import Settings

from ..conftest import CLIENT_ADDRESS, MakeToken

BUDGET = 3
LIST = "/resource-servers/api/v1/api-servers"


@pytest.fixture
def limited(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    app = create_app(replace(settings, rate_limit_per_minute=BUDGET), engine=engine)
    with TestClient(app, client=CLIENT_ADDRESS, raise_server_exceptions=False) as client:
        yield client


def _spend(client: TestClient, token: str, count: int) -> list[httpx2.Response]:
    return [client.get(LIST, headers={"Authorization": f"SSWS {token}"}) for _ in range(count)]


def _budget(responses: list[httpx2.Response]) -> list[tuple[int, str]]:
    """Status and ``X-Rate-Limit-Remaining`` of each response."""
    return [(r.status_code, r.headers["x-rate-limit-remaining"]) for r in responses]


def _one_window(*runs: list[httpx2.Response]) -> bool:
    # The database counters use wall-clock minutes: a run that straddles one is repeated with new tokens.
    return all(len({r.headers["x-rate-limit-reset"] for r in run}) == 1 for run in runs)


SPENT = [(200, "2"), (200, "1"), (200, "0"), (429, "0")]


@pytest.mark.parametrize("same_user", [False, True], ids=["two users", "one user"])
def test_an_exhausted_token_does_not_spend_another_tokens_budget(
    limited: TestClient, make_token: MakeToken, same_user: bool
) -> None:
    for _ in range(2):
        first = make_token(email="alice@example.com")
        second = make_token(email="alice@example.com" if same_user else "bob@example.com")
        spent_first = _spend(limited, first, BUDGET + 1)
        spent_second = _spend(limited, second, BUDGET + 1)
        after = _spend(limited, first, 1)
        if _one_window(spent_first + after, spent_second):
            break
    assert _budget(spent_first) == SPENT
    assert _budget(spent_second) == SPENT  # a whole budget of its own, although the first is spent
    assert _budget(after) == [(429, "0")]  # and the second spending its own gave the first nothing back
    refused = spent_first[-1]
    assert refused.json()["errorCode"] == "E0000047"
    assert {r.headers["x-rate-limit-limit"] for r in spent_first + spent_second} == {str(BUDGET)}
