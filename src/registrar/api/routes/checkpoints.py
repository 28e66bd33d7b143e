"""``GET /api/v1/logs/checkpoints``: signed checkpoints and the keys that verify them, for outsiders.

``keys`` lists every published signing key, current first, with its validity period and the rotation
statement (signed by the key and its predecessor) that introduced it: a verifier that trusts any one of
them can check every checkpoint. ``publicKey`` is the current key, for verifiers that know only one.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from registrar.integrity.checkpoints import list_checkpoints
from registrar.integrity.keys import published_keys
from registrar.integrity.service import signer_for
from registrar.params import INT64_MAX, bounded_int

from ..deps import CurrentToken, ServiceDeps
from ..responses import base_url, json_response
from ..security import require_scope

__all__ = ["router"]

router = APIRouter(tags=["System Log"])


@router.get("/api/v1/logs/checkpoints")
async def list_log_checkpoints(request: Request, deps: ServiceDeps, token: CurrentToken) -> Response:
    """Signed checkpoints of the event log, oldest first, with the Ed25519 public keys that signed them."""
    require_scope(token, "okta.logs.read")
    params = request.query_params
    limit = bounded_int(params.get("limit"), "limit", low=1, high=1000, default=100)
    after = bounded_int(
        params.get("after"), "after", low=0, high=INT64_MAX, default=0, cause="after: The cursor is not valid"
    )

    def load() -> tuple[list[dict[str, object]], list[dict[str, object]]]:
        with deps.engine.connect().execution_options(sqlite_immediate=False) as conn:
            checkpoints = [
                {"id": c.id, "payload": c.payload, "signature": c.signature, "keyId": c.key_id}
                for c in list_checkpoints(conn, after_id=after, limit=limit + 1)
            ]
            keys = [key.as_json() for key in reversed(published_keys(conn))]
        if not keys:
            # Nothing signed yet since keys were first published: the key this server will sign with.
            signer = signer_for(deps.settings)
            keys = [
                {
                    "keyId": signer.key_id,
                    "algorithm": "Ed25519",
                    "key": signer.public_key_b64(),
                    "notBefore": None,
                    "notAfter": None,
                    "rotation": None,
                }
            ]
        return checkpoints, keys

    items, keys = await run_in_threadpool(load)
    url = f"{base_url(request)}{request.url.path}"
    links: dict[str, object] = {"self": {"href": f"{url}?limit={limit}&after={after}"}}
    if len(items) > limit:
        items = items[:limit]
        links["next"] = {"href": f"{url}?limit={limit}&after={items[-1]['id']}"}
    return json_response(
        {
            "publicKey": {name: keys[0][name] for name in ("algorithm", "keyId", "key")},
            "keys": keys,
            "data": items,
            "_links": links,
        }
    )
