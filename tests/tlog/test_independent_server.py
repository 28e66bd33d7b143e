"""The independent verifier over what the server serves: signatures, the root, random events, consistency.

Everything here goes through HTTP with a token, as any third party would, and is checked with
``independent`` only (the C2SP specs and RFC 9162, none of Registrar's code).
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import orjson
import pytest
from sqlalchemy import Engine

from registrar.config import Settings

from . import independent
from .conftest import Log, open_log
from .stored import append, bodies

TLOG = "/api/v1/logs/tlog/"


@pytest.fixture
def plain_log(settings: Settings, engine: Engine, token: str) -> Iterator[Log]:
    with open_log(settings, engine, token, None) as log:
        yield log


def fetch(log: Log) -> independent.Fetch:
    return independent.http_fetch(log.client, TLOG, log.auth)


def served_keys(log: Log) -> list[str]:
    response = log.client.get(TLOG + "verifier-keys", headers=log.auth)
    assert response.status_code == 200
    return response.text.splitlines()


def test_the_served_log_verifies_independently(plain_log: Log) -> None:
    append(plain_log.engine, 700, per_transaction=350)
    plain_log.checkpoint()
    assert served_keys(plain_log)[0] == plain_log.vkey
    seen: dict[int, bytes] = {}
    verified = independent.verify_log(fetch(plain_log), plain_log.vkey, on_entry=seen.__setitem__)
    assert verified.checkpoint.size == verified.entries == 700
    assert verified.checkpoint.extensions == ()
    assert [seen[i] for i in range(700)] == bodies(plain_log.engine)


def test_random_events_are_included_byte_for_byte(plain_log: Log) -> None:
    append(plain_log.engine, 300, per_transaction=300)
    plain_log.checkpoint()
    page = plain_log.client.get(
        "/api/v1/logs", params={"limit": 1000, "since": "2000-01-01"}, headers=plain_log.auth
    )
    served = page.content[1:-1]
    events = orjson.loads(page.content)
    stored = bodies(plain_log.engine)
    assert served == b",".join(stored)  # the leaves are the bytes the System Log serves
    for index in random.Random(12).sample(range(300), 12):
        response = plain_log.client.get(
            TLOG + "proof", params={"uuid": events[index]["uuid"]}, headers=plain_log.auth
        )
        assert response.status_code == 200, response.text
        checkpoint = independent.verify_proof(response.content, stored[index], plain_log.vkey)
        assert independent.parse_proof(response.content).index == index
        assert checkpoint.size == 300
        with pytest.raises(independent.VerificationError, match="inclusion"):
            independent.verify_proof(response.content, stored[index] + b" ", plain_log.vkey)


def test_two_checkpoints_the_client_kept_are_consistent(plain_log: Log) -> None:
    kept: list[bytes] = []
    for count in (1, 255, 1, 300):  # sizes 1, 256, 257, 557: tile edges on both sides
        append(plain_log.engine, count, first=len(bodies(plain_log.engine)))
        plain_log.checkpoint()
        kept.append(fetch(plain_log)("checkpoint"))
    for i, old in enumerate(kept):
        for new in kept[i:]:
            independent.verify_consistent(old, new, fetch(plain_log), plain_log.vkey)
    with pytest.raises(independent.VerificationError, match="rollback"):
        independent.verify_consistent(kept[-1], kept[0], fetch(plain_log), plain_log.vkey)
