"""tlog-tiles over HTTP: hash tiles and entry bundles exact, full and partial, caching, bad paths, auth.

Expected bytes come from the stored bodies through the independent verifier (RFC 6962 hashing, the
tlog-tiles layout written from the spec); entry bundles must hold exactly the bytes ``/api/v1/logs`` serves.
"""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine
from starlette.testclient import TestClient

from ..conftest import MakeToken
from . import independent
from .stored import append, bodies

TLOG = "/api/v1/logs/tlog/"
SIZE = 300  # a full level-0 tile, a partial one of 44; a partial level-1 tile of 1


@pytest.fixture
def log(app: FastAPI) -> list[bytes]:
    engine: Engine = app.state.deps.engine
    append(engine, SIZE, per_transaction=100)
    return bodies(engine)


def get(client: TestClient, auth: dict[str, str], path: str) -> bytes:
    response = client.get(TLOG + path, headers=auth)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/octet-stream"
    return response.content


def test_hash_tiles_are_the_hashes_of_the_bodies(
    client: TestClient, auth: dict[str, str], log: list[bytes]
) -> None:
    leaves = [independent.leaf_hash(body) for body in log]
    assert get(client, auth, independent.tile_path(0, 0)) == b"".join(leaves[:256])
    assert get(client, auth, independent.tile_path(0, 1, 44)) == b"".join(leaves[256:])
    assert get(client, auth, independent.tile_path(1, 0, 1)) == independent.mth(leaves[:256])
    # A narrower partial tile of the same hashes is still those hashes.
    assert get(client, auth, "tile/0/001.p/3") == b"".join(leaves[256:259])


def test_entry_bundles_hold_the_bytes_the_system_log_serves(
    client: TestClient, auth: dict[str, str], log: list[bytes]
) -> None:
    bundles = get(client, auth, "tile/entries/000") + get(client, auth, "tile/entries/001.p/44")
    entries = independent.parse_bundle(get(client, auth, "tile/entries/000"))
    entries += independent.parse_bundle(get(client, auth, "tile/entries/001.p/44"))
    assert len(bundles) == sum(2 + len(body) for body in log)
    served = client.get("/api/v1/logs", params={"limit": 1000, "since": "2000-01-01"}, headers=auth)
    assert served.content == b"[" + b",".join(entries) + b"]"
    assert entries == log


def test_full_tiles_are_immutable_partial_ones_short_lived(
    client: TestClient, auth: dict[str, str], log: list[bytes]
) -> None:
    full = client.get(TLOG + "tile/0/000", headers=auth).headers["cache-control"]
    assert full == "public, max-age=31536000, immutable"
    partial = client.get(TLOG + "tile/0/001.p/44", headers=auth).headers["cache-control"]
    assert "immutable" not in partial and "max-age=10" in partial
    # Entry bundles carry the events: cached by the reader, never by a shared cache.
    bundle = client.get(TLOG + "tile/entries/000", headers=auth).headers["cache-control"]
    assert bundle == "private, max-age=31536000, immutable"


@pytest.mark.parametrize(
    "path",
    [
        "tile/0/001",  # the full tile is not complete yet
        "tile/0/001.p/45",  # wider than the tree
        "tile/0/002.p/1",
        "tile/1/000",
        "tile/2/000.p/1",
        "tile/entries/001",
        "tile/entries/001.p/45",
        "tile/0/x001/000",
    ],
)
def test_what_the_tree_does_not_hold_yet_is_not_found(
    client: TestClient, auth: dict[str, str], log: list[bytes], path: str
) -> None:
    response = client.get(TLOG + path, headers=auth)
    assert response.status_code == 404
    assert response.json()["errorCode"] == "E0000007"
    assert "not in the tree yet" in response.json()["errorSummary"]


@pytest.mark.parametrize(
    "path",
    [
        "tile/00/000",  # leading zero in the level
        "tile/64/000",
        "tile/-1/000",
        "tile/0/5",  # index elements are 3 digits
        "tile/0/0005",
        "tile/0/x000/005",  # not canonical
        "tile/0/x005",  # last element with x
        "tile/0/005/x001",
        "tile/0/000.p/0",
        "tile/0/000.p/256",
        "tile/0/000.p/07",
        "tile/0/000.p/",
        "tile/0/000/",
        "tile/0/abc",
        "tile/0",
        "tile/entries",
        "tile/entries/000.p",
        "tile/x/000",
        "tile/0/x999/x999/x999/x999/x999/x999/x999/999",  # beyond 2**63
    ],
)
def test_malformed_tile_paths_are_refused(
    client: TestClient, auth: dict[str, str], log: list[bytes], path: str
) -> None:
    response = client.get(TLOG + path, headers=auth)
    assert response.status_code == 400, path
    body = response.json()
    assert body["errorCode"] == "E0000001"
    assert body["errorCauses"][0]["errorSummary"].startswith("path: ")


def test_tiles_need_a_token_that_may_read_the_log(
    client: TestClient, make_token: MakeToken, log: list[bytes]
) -> None:
    assert client.get(TLOG + "tile/0/000").status_code == 401
    assert (
        client.get(TLOG + "tile/0/000", headers={"Authorization": "SSWS nope"}).json()["errorCode"]
        == "E0000011"
    )
    other = make_token("okta.resourceServers.apiServers.read")
    denied = client.get(TLOG + "tile/entries/000", headers={"Authorization": f"SSWS {other}"})
    assert denied.status_code == 403 and denied.json()["errorCode"] == "E0000006"
    reader = make_token("okta.logs.read")
    assert client.get(TLOG + "tile/0/000", headers={"Authorization": f"Bearer {reader}"}).status_code == 200
    assert client.get(TLOG + "tile/0/000", headers={"Authorization": f"SSWS {reader}"}).status_code == 200
