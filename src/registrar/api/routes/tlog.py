"""The System Log as C2SP tlog-tiles: hash tiles, entry bundles, and tlog-proof inclusion proofs.

``GET /api/v1/logs/tlog/tile/<L>/<N>[.p/<W>]`` and ``…/tile/entries/<N>[.p/<W>]`` follow c2sp.org/tlog-tiles;
``GET /api/v1/logs/tlog/proof?uuid=…`` answers a c2sp.org/tlog-proof for one event. Readable with
``okta.logs.read``, like the log itself. A full tile never changes, so it is cached for a year; a partial tile
is kept only briefly (the log may stop serving it once the full tile exists). Hash tiles are ``public``
(hashes only); entry bundles carry the events, so shared caches must not keep them (``private``). Full tiles
are also kept in this process (``REGISTRAR_PAGE_CACHE_BYTES``); all of these are read from the read replica
when there is one (``REGISTRAR_READ_DATABASE_URL``), the primary answering what it has not replayed yet.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass

from fastapi import APIRouter, Request, Response
from sqlalchemy import Engine, select
from sqlalchemy.engine import Connection

from registrar.errors import NotFound, RegistrarError, ValidationFailed
from registrar.services.deps import Deps
from registrar.store.replica import Horizon, ReplicaBehind
from registrar.store.schema import log_events
from registrar.syslog.cache import ByteCache
from registrar.tlog import DatabaseNodes, inclusion_proof, latest_checkpoint
from registrar.tlog._layout import TILE_HEIGHT, TILE_WIDTH, Tile
from registrar.tlog._store import Pruned, level_hashes, read_entry_bundle, read_tile, tree_size
from registrar.tlog._tiles import BadTilePath, parse_tile_path

from ..deps import CurrentToken, ServiceDeps
from ..security import require_scope

__all__ = ["router"]

router = APIRouter(tags=["System Log"])

PREFIX = "/api/v1/logs/tlog"
_IMMUTABLE = "max-age=31536000, immutable"
_PARTIAL = "max-age=10"
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class DamagedTree(RegistrarError):
    """The stored tree lacks nodes or events it should have (the database was altered): a 500."""


_Backing = bytes | str  # a node hash, or an event's chain hash (hex)


@dataclass(frozen=True, slots=True)
class _KeptTile:
    data: bytes
    backing: _Backing  # what `_backing` read with it


def _snapshot(engine: Engine) -> Connection:
    conn = engine.connect().execution_options(sqlite_immediate=False)
    return (
        conn if engine.dialect.name == "sqlite" else conn.execution_options(isolation_level="REPEATABLE READ")
    )


def _backing(conn: Connection, tile: Tile) -> _Backing | None:
    """What a full tile's bytes follow from, in one indexed lookup: a hash tile's 256 hashes from the node
    above them (their subtree's root); an entry bundle from the chain hash of its last event (every event
    up to it; a purge removes whole bundles, their last event too). None when the log lacks it."""
    if tile.level is not None:
        above = level_hashes(conn, tile.tree_level + TILE_HEIGHT, tile.n, 1)
        return above[0] if above else None
    last = tile.start + TILE_WIDTH  # the seq of the bundle's last event (leaf i is event i + 1)
    digest = conn.execute(select(log_events.c.hash).where(log_events.c.seq == last)).scalar()
    return None if digest is None else str(digest)


def _read_tile(engine: Engine, tile: Tile, horizon: Horizon | None) -> tuple[bytes | None, _Backing | None]:
    """The tile's bytes (None: not in the tree yet) and, for a full tile, its backing."""
    with _snapshot(engine) as conn, conn.begin():
        # A replica that has not replayed the tile yet says so: the primary (that may have it) decides.
        needed = (tile.start + tile.width) << tile.tree_level
        if horizon is not None and tree_size(conn) < needed:
            raise ReplicaBehind(needed)
        try:
            data = read_tile(conn, tile) if tile.level is not None else read_entry_bundle(conn, tile)
        except Pruned as pruned:
            raise NotFound(tile.path, f"pruned: the log's minimum index is {pruned.minimum}") from None
        except LookupError as error:
            raise DamagedTree(causes=[str(error)]) from None
        backing = _backing(conn, tile) if data is not None and tile.width == TILE_WIDTH else None
    return data, backing


def _tile_bytes(request: Request, deps: Deps, tile: Tile) -> bytes | None:
    """A tile's bytes; a full tile never changes, so it is kept (and checked against the log when served)."""
    cache: ByteCache[object] = request.app.state.read_cache
    key = ("tile", tile.level, tile.n) if tile.width == TILE_WIDTH and cache.max_bytes else None
    if key is not None:
        kept = cache.get(key)
        if isinstance(kept, _KeptTile):

            def backing(engine: Engine) -> _Backing | None:
                with _snapshot(engine) as conn, conn.begin():
                    return _backing(conn, tile)

            if deps.reads.run(backing) == kept.backing:
                return kept.data
    data, backing_now = deps.reads.catch_up(lambda engine, horizon: _read_tile(engine, tile, horizon))
    if key is not None and data is not None and backing_now is not None:
        cache.put(key, _KeptTile(data, backing_now), len(data))
    return data


@router.get(PREFIX + "/tile/{rest:path}")
def get_tile(request: Request, rest: str, deps: ServiceDeps, token: CurrentToken) -> Response:
    """A hash tile or an entry bundle (c2sp.org/tlog-tiles); 404 until the tree has it, or once pruned."""
    require_scope(token, "okta.logs.read")
    try:
        tile = parse_tile_path(rest)
    except BadTilePath as error:
        raise ValidationFailed([f"path: {error}"]) from None
    data = _tile_bytes(request, deps, tile)
    if data is None:
        raise NotFound(tile.path, "not in the tree yet")
    scope = "public" if tile.level is not None else "private"
    cache = f"{scope}, {_IMMUTABLE if tile.width == 256 else _PARTIAL}"
    return Response(data, media_type="application/octet-stream", headers={"Cache-Control": cache})


@router.get(PREFIX + "/proof")
def get_proof(request: Request, deps: ServiceDeps, token: CurrentToken) -> Response:
    """One event's c2sp.org/tlog-proof: its index, inclusion proof and the latest cosigned checkpoint."""
    require_scope(token, "okta.logs.read")
    uuid = request.query_params.get("uuid")
    if not uuid:
        raise ValidationFailed(["uuid: the uuid of a System Log event is required"])
    if not _UUID.fullmatch(uuid):
        raise ValidationFailed(["uuid: not an event uuid (8-4-4-4-12 lowercase hexadecimal digits)"])
    # A replica may not have replayed the event or the checkpoint covering it yet: then the primary answers.
    body = deps.reads.run(lambda engine: _proof(engine, uuid), not_there=(NotFound,))
    return Response(body, media_type="text/plain; charset=utf-8", headers={"Cache-Control": "no-cache"})


def _proof(engine: Engine, uuid: str) -> str:
    """The tlog-proof of the event ``uuid`` against the latest checkpoint of ``engine``'s database."""
    with engine.connect().execution_options(sqlite_immediate=False) as conn:
        seq = conn.execute(select(log_events.c.seq).where(log_events.c.uuid == uuid)).scalar()
        if seq is None:
            raise NotFound(uuid, "LogEvent")
        index = int(seq) - 1
        checkpoint = latest_checkpoint(conn)
        if checkpoint is None or checkpoint.size <= index:
            # Checkpoints follow the log within seconds (REGISTRAR_TLOG_CHECKPOINT_SECONDS): ask again soon.
            raise NotFound(uuid, "LogEvent not yet covered by a checkpoint; retry in a few seconds")
        try:
            proof = inclusion_proof(index, checkpoint.size, DatabaseNodes(conn))
        except LookupError as error:
            raise DamagedTree(causes=[str(error)]) from None
    lines = ["c2sp.org/tlog-proof@v1", f"index {index}", *(base64.b64encode(h).decode() for h in proof)]
    return "\n".join(lines) + "\n\n" + checkpoint.note
