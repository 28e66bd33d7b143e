"""``/api/v1/eventHooks``: Okta's event hook API, plus each hook's delivery health, its skips and a replay.

Okta's ``EventHook`` shape is kept member for member; what Okta has no field for lives under the one
non-Okta member ``delivery`` (the okta SDK and the other clients we test ignore members they do not know),
and the list of skipped events, which grows without bound, is a sub-resource of its own
(``GET /api/v1/eventHooks/{id}/skips``) rather than part of every hook read.
"""

from __future__ import annotations

from typing import Any

import anyio
from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from registrar.errors import PermissionDenied
from registrar.hooks import EventHookBody, HookSkip, HookStatus, HookView, ReplayBody
from registrar.hooks import service as svc
from registrar.ids import format_ms

from ..deps import CurrentToken, ServiceDeps, body_schema
from ..responses import base_url, json_response, list_response, page_params
from ..security import require_scope

__all__ = ["EVENT_HOOKS", "event_hook_json", "router"]

EVENT_HOOKS = "/api/v1/eventHooks"
router = APIRouter(prefix=EVENT_HOOKS, tags=["Event hooks"])

_READ = ("okta.eventHooks.read", "okta.eventHooks.manage")
_MANAGE = "okta.eventHooks.manage"
_READ_LOGS = "okta.logs.read"
REPLAY_NEEDS_LOGS = "Replaying history into an event hook also requires the okta.logs.read scope."


def _inlined_body(model: type[Any]) -> dict[str, Any]:
    """``body_schema`` with the nested models inlined, so the published document has no dangling ``$ref``."""
    extra = body_schema(model)
    for media in extra["requestBody"]["content"].values():
        definitions = media["schema"].pop("$defs", {})
        media["schema"] = _inline(media["schema"], definitions)
    return extra


def _inline(node: Any, definitions: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            return _inline(definitions[ref.rsplit("/", 1)[1]], definitions)
        return {key: _inline(value, definitions) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline(value, definitions) for value in node]
    return node


def _link(href: str, *methods: str) -> dict[str, Any]:
    return {"href": href, "hints": {"allow": list(methods)}}


def event_hook_json(view: HookView, base: str) -> dict[str, Any]:
    """An event hook as Okta shows it (the auth header's value is write-only), with its delivery health."""
    hook, health = view.hook, view.delivery
    self_url = f"{base}{EVENT_HOOKS}/{hook.id}"
    paused = health.paused_ms is not None
    links: dict[str, Any] = {
        "self": _link(self_url, "GET", "PUT", "DELETE"),
        "verify": _link(f"{self_url}/lifecycle/verify", "POST"),
    }
    if hook.status == HookStatus.ACTIVE:
        links["deactivate"] = _link(f"{self_url}/lifecycle/deactivate", "POST")
    if hook.status != HookStatus.ACTIVE or paused:
        links["activate"] = _link(f"{self_url}/lifecycle/activate", "POST")
    links["replay"] = _link(f"{self_url}/lifecycle/replay", "POST")
    links["skips"] = _link(f"{self_url}/skips", "GET")
    auth = None if hook.auth_key is None else {"type": "HEADER", "key": hook.auth_key}
    return {
        "id": hook.id,
        "status": hook.status,
        "verificationStatus": hook.verification_status,
        "name": hook.name,
        "description": hook.description,
        "created": format_ms(hook.created_ms),
        "createdBy": hook.created_by,
        "lastUpdated": format_ms(hook.last_updated_ms),
        "events": {"type": "EVENT_TYPE", "items": list(hook.event_types)},
        "channel": {
            "type": "HTTP",
            "version": "1.0.0",
            "config": {
                "uri": hook.uri,
                "headers": [{"key": key, "value": value} for key, value in hook.headers],
                "method": "POST",
                "authScheme": auth,
            },
        },
        "delivery": {
            "backlog": health.backlog,
            "paused": paused,
            "pausedAt": format_ms(health.paused_ms),
            "consecutiveFailures": health.consecutive_failures,
            "failingSince": format_ms(health.failing_since_ms),
            "nextAttempt": format_ms(health.next_attempt_ms) if health.consecutive_failures else None,
            "lastSuccess": format_ms(health.last_success_ms),
            "lastError": health.last_error,
            "lastErrorAt": format_ms(health.last_error_ms),
            "skipped": health.skipped,
        },
        "_links": links,
    }


@router.post("", openapi_extra=_inlined_body(EventHookBody))
async def create_event_hook(request: Request, deps: ServiceDeps, token: CurrentToken) -> Response:
    """Create an event hook (ACTIVE, UNVERIFIED); 200, as Okta answers."""
    require_scope(token, _MANAGE)
    body = await request.body()
    base = base_url(request)
    view = await run_in_threadpool(svc.create, deps, body, created_by=token.user.id, base_url=base)
    return json_response(event_hook_json(view, base))


@router.get("")
def list_event_hooks(request: Request, deps: ServiceDeps, token: CurrentToken) -> Response:
    """List event hooks (a JSON array, as Okta returns it)."""
    require_scope(token, *_READ)
    base = base_url(request)
    return json_response([event_hook_json(view, base) for view in svc.list_all(deps)])


@router.get("/{hook_id}")
def get_event_hook(request: Request, hook_id: str, deps: ServiceDeps, token: CurrentToken) -> Response:
    """Retrieve an event hook."""
    require_scope(token, *_READ)
    return json_response(event_hook_json(svc.get(deps, hook_id), base_url(request)))


@router.put("/{hook_id}", openapi_extra=_inlined_body(EventHookBody))
async def replace_event_hook(
    request: Request, hook_id: str, deps: ServiceDeps, token: CurrentToken
) -> Response:
    """Replace an event hook; an omitted ``authScheme.value`` keeps the stored one."""
    require_scope(token, _MANAGE)
    body = await request.body()
    may_read_logs = _READ_LOGS in token.scopes
    view = await run_in_threadpool(svc.replace_hook, deps, hook_id, body, may_read_logs=may_read_logs)
    return json_response(event_hook_json(view, base_url(request)))


@router.delete("/{hook_id}", status_code=204)
def delete_event_hook(hook_id: str, deps: ServiceDeps, token: CurrentToken) -> Response:
    """Delete an INACTIVE event hook."""
    require_scope(token, _MANAGE)
    svc.delete(deps, hook_id)
    return Response(status_code=204)


@router.post("/{hook_id}/lifecycle/activate")
def activate_event_hook(request: Request, hook_id: str, deps: ServiceDeps, token: CurrentToken) -> Response:
    """Activate an event hook, or resume one paused after failing deliveries."""
    require_scope(token, _MANAGE)
    return json_response(event_hook_json(svc.activate(deps, hook_id), base_url(request)))


@router.post("/{hook_id}/lifecycle/deactivate")
def deactivate_event_hook(request: Request, hook_id: str, deps: ServiceDeps, token: CurrentToken) -> Response:
    """Deactivate an event hook."""
    require_scope(token, _MANAGE)
    return json_response(event_hook_json(svc.deactivate(deps, hook_id), base_url(request)))


@router.post("/{hook_id}/lifecycle/verify")
async def verify_event_hook(
    request: Request, hook_id: str, deps: ServiceDeps, token: CurrentToken
) -> Response:
    """Verify an event hook: one GET carrying ``x-okta-verification-challenge``, which must be echoed."""
    require_scope(token, _MANAGE)
    # Verifications wait for one of their own threads (asynchronously), never for a request thread: hanging
    # receivers hold at most REGISTRAR_HOOK_CONCURRENCY threads, each for at most the hook timeout.
    limiter = _verifications(request, deps.settings.hook_concurrency)
    view = await anyio.to_thread.run_sync(svc.verify, deps, hook_id, limiter=limiter)
    return json_response(event_hook_json(view, base_url(request)))


def _verifications(request: Request, size: int) -> anyio.CapacityLimiter:
    state = request.app.state
    limiter: anyio.CapacityLimiter | None = getattr(state, "hook_verifications", None)
    if limiter is None:
        limiter = anyio.CapacityLimiter(size)
        state.hook_verifications = limiter
    return limiter


def _skip_json(skip: HookSkip) -> dict[str, Any]:
    return {
        "eventUuid": skip.event_uuid,
        "eventType": skip.event_type,
        "size": skip.size_bytes,
        "reason": skip.reason,
        "skipped": format_ms(skip.skipped_ms),
    }


@router.get("/{hook_id}/skips")
def list_event_hook_skips(request: Request, hook_id: str, deps: ServiceDeps, token: CurrentToken) -> Response:
    """The events the hook skipped as too large for its receiver, with the reason, oldest first."""
    require_scope(token, *_READ)
    limit, after = page_params(request)
    items, next_cursor = svc.skips(deps, hook_id, limit=limit, after=after)
    return list_response(request, items, next_cursor, _skip_json)


@router.post("/{hook_id}/lifecycle/replay", openapi_extra=_inlined_body(ReplayBody))
async def replay_event_hook(
    request: Request, hook_id: str, deps: ServiceDeps, token: CurrentToken
) -> Response:
    """Move an event hook's position to ``after`` (a System Log cursor) or ``since`` (a time).

    It sends the log's history to the hook's receiver, so it needs ``okta.logs.read`` as well.
    """
    require_scope(token, _MANAGE)
    if _READ_LOGS not in token.scopes:
        raise PermissionDenied(causes=[REPLAY_NEEDS_LOGS], reason=REPLAY_NEEDS_LOGS)
    body = await request.body()
    view = await run_in_threadpool(svc.replay, deps, hook_id, body)
    return json_response(event_hook_json(view, base_url(request)))
