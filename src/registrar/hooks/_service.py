"""The event hook operations behind ``/api/v1/eventHooks``: create, read, replace, delete, lifecycle, replay.

A hook's position in the log is set when it is created and afterwards moves only by delivery or by a
replay. While a hook cannot receive (INACTIVE, UNVERIFIED or paused) its events wait, visible as its
backlog, and go out once it can again: an outbox loses nothing. To skip them, replay from ``since`` now.
These operations are not among the 19 audited types, so they write no LogEvent.

Events committed before a hook was created are history: only a caller who may read the log
(``okta.logs.read``) can have a hook deliver them. A replay needs that scope (the route checks it), and so
does redirecting a hook (a new URI or new event types) whose position a replay has put in that history.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from registrar.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from registrar.ids import EVENT_HOOK, new_id
from registrar.services.deps import Deps
from registrar.store.repositories import decode_cursor, encode_cursor
from registrar.store.schema import event_hook_deliveries, log_events, log_head
from registrar.syslog.cursor import Cursor

from . import _store as store
from ._delivery import wall_clock_ms
from ._http import hook_client
from ._inputs import parse_hook_body, parse_replay_body
from ._model import DeliveryHealth, EventHook, HookSkip, HookSpec, HookStatus, VerificationStatus
from ._verify import verify_endpoint

__all__ = [
    "HookView",
    "activate",
    "create",
    "deactivate",
    "delete",
    "get",
    "list_all",
    "replace_hook",
    "replay",
    "skips",
    "verify",
]

KIND = "EventHook"
DELETE_ACTIVE_REASON = "Cannot delete an event hook in ACTIVE status. Deactivate it first."
_NOTHING_PENDING = {"pending_upto_seq": None, "pending_event_id": None, "pending_event_time_ms": None}
# Activation also resumes a paused hook: its failure streak starts over and it is due at once, and the body
# size its receiver refused is forgotten (the receiver may have been reconfigured meanwhile).
_RESUMED: dict[str, Any] = {
    "paused_ms": None,
    "consecutive_failures": 0,
    "failing_since_ms": None,
    "body_limit_bytes": None,
}
REDIRECT_HISTORY_REASON = (
    "A replay put this hook's position before its creation: changing its URI or event types while that "
    "history is undelivered requires the okta.logs.read scope."
)


@dataclass(frozen=True, slots=True)
class HookView:
    """A hook and its delivery health, as the API shows them."""

    hook: EventHook
    delivery: DeliveryHealth


@contextmanager
def _reading(deps: Deps) -> Iterator[Connection]:
    with deps.engine.connect().execution_options(sqlite_immediate=False) as conn, conn.begin():
        yield conn


def _load(conn: Connection, hook_id: str, *, for_update: bool = False) -> EventHook:
    hook = store.get_hook(conn, hook_id, for_update=for_update)
    if hook is None:
        raise NotFound(hook_id, KIND)
    return hook


def _view(conn: Connection, hook: EventHook) -> HookView:
    return HookView(hook, store.health(conn, hook))


def _sealed_value(deps: Deps, hook_id: str, spec: HookSpec, current: bytes | None) -> bytes | None:
    if spec.auth_key is None:
        return None
    if spec.auth_value is not None:
        return deps.box.seal(spec.auth_value, hook_id)
    if current is None:
        raise ValidationFailed(["channel.config.authScheme.value: The field cannot be left blank"])
    return current  # a client that read the hook back cannot send the write-only value: keep it


def create(deps: Deps, body: bytes, *, created_by: str, base_url: str) -> HookView:
    """Create a hook: ACTIVE and UNVERIFIED (as in Okta); it receives the events committed from now on."""
    spec = parse_hook_body(body, allow_http=deps.settings.discovery_allow_http)
    hook_id = new_id(EVENT_HOOK)
    sealed = _sealed_value(deps, hook_id, spec, None)
    now = wall_clock_ms()
    hook = EventHook(
        id=hook_id,
        status=HookStatus.ACTIVE,
        verification_status=VerificationStatus.UNVERIFIED,
        **spec.hook_fields(),
        source=f"{base_url}/api/v1/eventHooks/{hook_id}",
        created_by=created_by,
        created_ms=now,
        last_updated_ms=now,
    )
    with deps.engine.begin() as conn:
        store.insert_hook(conn, hook, sealed, cursor_seq=store.head_seq(conn))
        return _view(conn, hook)


def list_all(deps: Deps) -> list[HookView]:
    """Every hook, oldest first."""
    with _reading(deps) as conn:
        return [_view(conn, hook) for hook in store.list_hooks(conn)]


def get(deps: Deps, hook_id: str) -> HookView:
    """One hook."""
    with _reading(deps) as conn:
        return _view(conn, _load(conn, hook_id))


def replace_hook(deps: Deps, hook_id: str, body: bytes, *, may_read_logs: bool) -> HookView:
    """Replace a hook's name, description, events and channel; a new URI must be verified again.

    Without ``may_read_logs`` a hook whose undelivered events reach back before its creation (a replay put
    them there) keeps its URI and event types: 403 otherwise, so history goes only where a log reader sent it.
    """
    spec = parse_hook_body(body, allow_http=deps.settings.discovery_allow_http)
    with deps.engine.begin() as conn:
        hook = _load(conn, hook_id, for_update=True)
        redirected = spec.uri != hook.uri or spec.event_types != hook.event_types
        if redirected and not may_read_logs and _in_history(conn, hook_id):
            raise PermissionDenied(causes=[REDIRECT_HISTORY_REASON], reason=REDIRECT_HISTORY_REASON)
        sealed = _sealed_value(deps, hook_id, spec, store.sealed_auth(conn, hook_id))
        verification = hook.verification_status if spec.uri == hook.uri else VerificationStatus.UNVERIFIED
        updated = replace(
            hook,
            **spec.hook_fields(),
            verification_status=verification,
            last_updated_ms=wall_clock_ms(),
        )
        store.update_hook(conn, hook_id, {**store.hook_row(updated), "auth_value_sealed": sealed})
        if updated.event_types != hook.event_types:
            # A pending batch was cut for the old subscription: cut the next one afresh.
            store.update_delivery(conn, hook_id, _NOTHING_PENDING)
        if updated.uri != hook.uri:
            store.update_delivery(conn, hook_id, {"body_limit_bytes": None})  # learned from another receiver
        return _view(conn, updated)


def _in_history(conn: Connection, hook_id: str) -> bool:
    d = event_hook_deliveries.c
    row = conn.execute(select(d.cursor_seq, d.origin_seq).where(d.hook_id == hook_id)).one()
    return int(row.cursor_seq) < int(row.origin_seq)


def delete(deps: Deps, hook_id: str) -> None:
    """Delete a hook; only an INACTIVE one (as in Okta)."""
    with deps.engine.begin() as conn:
        hook = _load(conn, hook_id, for_update=True)
        if hook.status == HookStatus.ACTIVE:
            raise Conflict(DELETE_ACTIVE_REASON)
        store.delete_hook(conn, hook_id)


def _set_status(deps: Deps, hook_id: str, status: HookStatus) -> HookView:
    with deps.engine.begin() as conn:
        hook = _load(conn, hook_id, for_update=True)
        paused = store.health(conn, hook).paused_ms is not None
        if hook.status == status and not (status == HookStatus.ACTIVE and paused):
            return _view(conn, hook)
        now = wall_clock_ms()
        updated = replace(hook, status=str(status), last_updated_ms=now)
        store.update_hook(conn, hook_id, {"status": updated.status, "last_updated_ms": now})
        if status == HookStatus.ACTIVE:
            store.update_delivery(conn, hook_id, {**_RESUMED, "next_attempt_ms": now})
        return _view(conn, updated)


def activate(deps: Deps, hook_id: str) -> HookView:
    """Activate a hook, or resume one that delivery paused after failing for too long."""
    return _set_status(deps, hook_id, HookStatus.ACTIVE)


def deactivate(deps: Deps, hook_id: str) -> HookView:
    """Deactivate a hook: nothing is delivered to it until it is activated again."""
    return _set_status(deps, hook_id, HookStatus.INACTIVE)


def verify(deps: Deps, hook_id: str) -> HookView:
    """Challenge the hook's URI: VERIFIED when the challenge is echoed, else a 400 saying why not."""
    with _reading(deps) as conn:
        hook = _load(conn, hook_id)
        sealed = store.sealed_auth(conn, hook_id)
    auth_value = None if sealed is None else deps.box.open(sealed, hook_id)
    # The request runs outside any transaction: a slow receiver must not hold a database lock.
    with hook_client(deps.settings) as client:
        verify_endpoint(client, hook, auth_value, timeout=deps.settings.hook_timeout_seconds)
    with deps.engine.begin() as conn:
        current = _load(conn, hook_id, for_update=True)
        if current.uri != hook.uri:
            raise Conflict("The hook's URI changed during verification; verify it again.")
        if current.verification_status != VerificationStatus.VERIFIED:
            now = wall_clock_ms()
            current = replace(current, verification_status=VerificationStatus.VERIFIED, last_updated_ms=now)
            store.update_hook(
                conn, hook_id, {"verification_status": current.verification_status, "last_updated_ms": now}
            )
        return _view(conn, current)


def replay(deps: Deps, hook_id: str, body: bytes) -> HookView:
    """Move a hook's position back (or forward) to a System Log cursor or a time, within retention."""
    with deps.engine.begin() as conn:
        _load(conn, hook_id, for_update=True)
        head = conn.execute(
            select(log_head.c.seq, log_head.c.first_seq).where(log_head.c.singleton == 1)
        ).one()
        wanted = parse_replay_body(body, int(head.seq))
        if isinstance(wanted, Cursor):
            position = wanted.seq
        else:
            first = conn.execute(
                select(func.min(log_events.c.seq)).where(log_events.c.published_ms >= wanted)
            ).scalar()
            position = int(head.seq) if first is None else int(first) - 1
        # Before the retained log there is nothing left to send: start at its first event.
        position = max(position, int(head.first_seq) - 1)
        store.update_delivery(
            conn, hook_id, {**_NOTHING_PENDING, "cursor_seq": position, "next_attempt_ms": wall_clock_ms()}
        )
        return _view(conn, _load(conn, hook_id))


def skips(deps: Deps, hook_id: str, *, limit: int, after: str | None) -> tuple[list[HookSkip], str | None]:
    """A page of the events ``hook_id`` skipped as too large, oldest first, and the next page's cursor."""
    after_pk = 0 if after is None else decode_cursor(after)
    with _reading(deps) as conn:
        _load(conn, hook_id)
        found = store.list_skips(conn, hook_id, after_pk=after_pk, limit=limit + 1)
    page = found[:limit]
    return page, encode_cursor(page[-1].pk) if len(found) > limit else None
