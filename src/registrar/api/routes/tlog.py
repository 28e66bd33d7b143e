"""The System Log as C2SP tlog-tiles: hash tiles, entry bundles, and tlog-proof inclusion proofs.

``GET /api/v1/logs/tlog/tile/<L>/<N>[.p/<W>]`` and ``…/tile/entries/<N>[.p/<W>]`` follow c2sp.org/tlog-tiles;
``GET /api/v1/logs/tlog/proof?uuid=…`` answers a c2sp.org/tlog-proof for one event. Readable with
``okta.logs.read``, like the log itself. A full tile never changes, so it is cached for a year; a partial tile
is kept only briefly (the log may stop serving it once the full tile exists). Hash tiles are ``public``
(hashes only); entry bundles carry the events, so shared caches must not keep them (``private``).
"""

from __future__ import annotations

import base64
import re

from fastapi import APIRouter, Request, Response
from sqlalchemy import select

from registrar.errors import NotFound, RegistrarError, ValidationFailed
from registrar.store.schema import log_events
from registrar.tlog import DatabaseNodes, inclusion_proof, latest_checkpoint
from registrar.tlog._store import Pruned, read_entry_bundle, read_tile
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


@router.get(PREFIX + "/tile/{rest:path}")
def get_tile(rest: str, deps: ServiceDeps, token: CurrentToken) -> Response:
    """A hash tile or an entry bundle (c2sp.org/tlog-tiles); 404 until the tree has it, or once pruned."""
    require_scope(token, "okta.logs.read")
    try:
        tile = parse_tile_path(rest)
    except BadTilePath as error:
        raise ValidationFailed([f"path: {error}"]) from None
    with deps.engine.connect().execution_options(sqlite_immediate=False) as conn:
        try:
            data = read_tile(conn, tile) if tile.level is not None else read_entry_bundle(conn, tile)
        except Pruned as pruned:
            raise NotFound(tile.path, f"pruned: the log's minimum index is {pruned.minimum}") from None
        except LookupError as error:
            raise DamagedTree(causes=[str(error)]) from None
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
    with deps.engine.connect().execution_options(sqlite_immediate=False) as conn:
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
    body = "\n".join(lines) + "\n\n" + checkpoint.note
    return Response(body, media_type="text/plain; charset=utf-8", headers={"Cache-Control": "no-cache"})
