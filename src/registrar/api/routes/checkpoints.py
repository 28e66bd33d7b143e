"""``GET /api/v1/logs/checkpoints``: signed checkpoints and the key that verifies them, for outsiders."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from registrar.errors import ValidationFailed
from registrar.integrity.checkpoints import list_checkpoints
from registrar.integrity.service import signer_for

from ..deps import CurrentToken, ServiceDeps
from ..responses import base_url, json_response
from ..security import require_scope

__all__ = ["router"]

router = APIRouter(tags=["System Log"])


@router.get("/api/v1/logs/checkpoints")
async def list_log_checkpoints(request: Request, deps: ServiceDeps, token: CurrentToken) -> Response:
    """Signed checkpoints of the event log, oldest first, with the Ed25519 public key that signed them."""
    require_scope(token, "okta.logs.read")
    raw_limit = request.query_params.get("limit") or "100"
    raw_after = request.query_params.get("after") or "0"
    if not (raw_limit.isdigit() and 1 <= int(raw_limit) <= 1000):
        raise ValidationFailed(["limit: must be an integer between 1 and 1000"])
    if not raw_after.isdigit():
        raise ValidationFailed(["after: The cursor is not valid"])
    limit, after = int(raw_limit), int(raw_after)

    def load() -> list[dict[str, object]]:
        with deps.engine.connect().execution_options(sqlite_immediate=False) as conn:
            return [
                {"id": c.id, "payload": c.payload, "signature": c.signature, "keyId": c.key_id}
                for c in list_checkpoints(conn, after_id=after, limit=limit + 1)
            ]

    items = await run_in_threadpool(load)
    signer = signer_for(deps.settings)
    url = f"{base_url(request)}{request.url.path}"
    links: dict[str, object] = {"self": {"href": f"{url}?limit={limit}&after={after}"}}
    if len(items) > limit:
        items = items[:limit]
        links["next"] = {"href": f"{url}?limit={limit}&after={items[-1]['id']}"}
    return json_response(
        {
            "publicKey": {"algorithm": "Ed25519", "keyId": signer.key_id, "key": signer.public_key_b64()},
            "data": items,
            "_links": links,
        }
    )
