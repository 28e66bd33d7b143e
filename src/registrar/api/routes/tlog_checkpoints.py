"""The transparency log's checkpoint, the keys that verify it, and the witnesses that cosign it.

``checkpoint`` is the latest C2SP ``tlog-checkpoint`` signed note with the witnesses' cosignature lines;
``verifier-keys`` lists the signed-note verifier keys of every published signing key, current first;
``witnesses`` shows what each configured witness last cosigned, how far behind it is, and its last error.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from starlette.concurrency import run_in_threadpool

from registrar.errors import NotFound
from registrar.ids import format_timestamp
from registrar.integrity.keys import from_ms
from registrar.integrity.service import signer_for
from registrar.jobs.tlog_checkpoints import tlog_origin, wall_clock_ms
from registrar.tlog import latest_checkpoint, verifier_key, verifier_keys, witness_status

from ..deps import CurrentToken, ServiceDeps
from ..responses import json_response
from ..security import require_scope

__all__ = ["router"]

router = APIRouter(tags=["System Log"])

_TEXT = "text/plain; charset=utf-8"


@router.get("/api/v1/logs/tlog/checkpoint")
async def tlog_checkpoint(deps: ServiceDeps, token: CurrentToken) -> Response:
    """The latest signed checkpoint of the log's Merkle tree, with its witness cosignatures."""
    require_scope(token, "okta.logs.read")

    def load() -> str | None:
        with deps.engine.connect().execution_options(sqlite_immediate=False) as conn:
            checkpoint = latest_checkpoint(conn)
        return None if checkpoint is None else checkpoint.note

    note = await run_in_threadpool(load)
    if note is None:
        raise NotFound("checkpoint", "transparency log checkpoint")
    return Response(note, media_type=_TEXT, headers={"Cache-Control": "no-cache"})


@router.get("/api/v1/logs/tlog/verifier-keys")
async def tlog_verifier_keys(deps: ServiceDeps, token: CurrentToken) -> Response:
    """The signed-note verifier keys of the log's checkpoints, one per line: current first, then retired."""
    require_scope(token, "okta.logs.read")
    origin = tlog_origin(deps.settings, deps.org_id)

    def load() -> list[str]:
        with deps.engine.connect().execution_options(sqlite_immediate=False) as conn:
            keys = verifier_keys(conn, origin)
        # Nothing signed yet: the key this server will sign with.
        return keys or [verifier_key(origin, signer_for(deps.settings).public_key_b64())]

    keys = await run_in_threadpool(load)
    return Response(
        "".join(f"{key}\n" for key in keys), media_type=_TEXT, headers={"Cache-Control": "no-cache"}
    )


def _moment(ms: int | None) -> str | None:
    return None if ms is None else format_timestamp(from_ms(ms))


@router.get("/api/v1/logs/tlog/witnesses")
async def tlog_witnesses(deps: ServiceDeps, token: CurrentToken) -> Response:
    """Each configured witness: what it last cosigned, its lag (entries, seconds) and its last error."""
    require_scope(token, "okta.logs.read")
    statuses = await run_in_threadpool(witness_status, deps.settings, deps.engine, wall_clock_ms())
    body: list[dict[str, Any]] = [
        {
            "name": status.name,
            "url": status.url,
            "cosignedSize": status.size,
            "lagEntries": status.lag_entries,
            "lagSeconds": status.lag_seconds,
            "lastError": status.last_error,
            "lastAttempt": _moment(status.last_attempt_ms),
            "lastSuccess": _moment(status.last_success_ms),
        }
        for status in statuses
    ]
    return json_response({"data": body})
