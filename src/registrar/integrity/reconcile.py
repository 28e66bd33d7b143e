"""Reconciling state with the log: every resource is explained by its events, every event by the state.

The successful events (by the ``outcome`` their stored bytes carry, not the indexed column) are replayed
in sequence order into a model of what should exist (and in which
status, under which name); the model is then compared with the resource tables. A row no event created,
an object the events say exists but the tables lack, or a status or name that differs, is a finding.
After a purge the replay starts mid-history, so objects first seen in purged events are left out.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Table, select
from sqlalchemy.engine import Connection

from registrar.store.schema import (
    client_auth_settings,
    log_events,
    log_head,
    resource_auth_servers,
    resource_servers,
)

from .scan import event_batches

__all__ = ["Mismatch", "reconcile"]


@dataclass(frozen=True, slots=True)
class Mismatch:
    kind: str  # the target type, e.g. ApiServer
    object_id: str
    message: str


@dataclass(frozen=True, slots=True)
class _Kind:
    table: Table
    columns: tuple[str, ...]  # compared columns, in the order of _expected()
    removed_by: frozenset[str]
    rows: ColumnElement[bool] | None = None  # which rows of the table are of this kind (None: all)


def _servers(kind: str) -> ColumnElement[bool]:
    return resource_servers.c.kind == kind


def _linked_to(*kinds: str) -> ColumnElement[bool]:
    owners = select(resource_servers.c.id).where(resource_servers.c.kind.in_(kinds))
    return resource_auth_servers.c.server_id.in_(owners)


_KINDS: dict[str, _Kind] = {
    "ApiServer": _Kind(
        resource_servers,
        ("status", "display_name"),
        frozenset({"resource_servers.api_server.delete"}),
        _servers("api"),
    ),
    "ApiAuthServer": _Kind(
        resource_auth_servers,
        ("issuer",),
        frozenset(
            {
                "resource_servers.api_server.auth_server.remove",
                "resource_servers.virtual_mcp_server.auth_server.remove",
            }
        ),
        _linked_to("api", "vmcp"),
    ),
    "ClientAuthSettings": _Kind(
        client_auth_settings, ("name",), frozenset({"resource_servers.client_authentication_settings.delete"})
    ),
    "McpServer": _Kind(
        resource_servers,
        ("status", "display_name"),
        frozenset({"resource_servers.mcp_server.delete"}),
        _servers("mcp"),
    ),
    "A2aServer": _Kind(
        resource_servers,
        ("status", "display_name"),
        frozenset({"resource_servers.a2a_server.delete"}),
        _servers("a2a"),
    ),
    "VirtualMcpServer": _Kind(
        resource_servers,
        ("status", "display_name"),
        frozenset({"resource_servers.virtual_mcp_server.delete"}),
        _servers("vmcp"),
    ),
    "ExternalAuthServer": _Kind(
        resource_auth_servers,
        ("status",),
        frozenset(
            {
                "resource_servers.mcp_server.auth_server.delete",
                "resource_servers.a2a_server.auth_server.remove",
            }
        ),
        _linked_to("mcp", "a2a"),
    ),
}
_API_STATUS = {
    "resource_servers.api_server.register": "INACTIVE",
    "resource_servers.api_server.activate": "ACTIVE",
    "resource_servers.api_server.deactivate": "INACTIVE",
}


def _events(conn: Connection) -> Iterator[dict[str, Any]]:
    for rows in event_batches(conn, log_events.c.body):
        for row in rows:
            # The outcome is read from the hashed bytes: the outcome_result column is not believed.
            event: dict[str, Any] = orjson.loads(row.body)
            if event["outcome"]["result"] == "SUCCESS":
                yield event


def _expected(
    kind: str, event_type: str, target: dict[str, Any], before: tuple[Any, ...] | None
) -> tuple[Any, ...]:
    detail = target.get("detailEntry") or {}
    if kind == "ApiServer":
        status = _API_STATUS.get(event_type, before[0] if before else None)
        return (status, target["displayName"])
    if kind == "ApiAuthServer":
        return (target["alternateId"],)
    if kind == "ClientAuthSettings":
        return (target["displayName"],)
    if kind == "McpServer":
        return (detail.get("mcpServerStatus"), target["displayName"])
    if kind == "A2aServer":
        return (detail.get("a2aServerStatus"), target["displayName"])
    if kind == "VirtualMcpServer":
        return (detail.get("virtualMcpServerStatus"), target["displayName"])
    return (detail.get("authServerStatus"),)


def reconcile(conn: Connection) -> list[Mismatch]:
    """Every disagreement between the resource tables and the log's account of them."""
    model: dict[tuple[str, str], tuple[Any, ...] | None] = {}
    for event in _events(conn):
        for target in event.get("target") or ():
            kind = target.get("type")
            spec = _KINDS.get(kind)
            if spec is None:
                continue
            key = (kind, target["id"])
            if event["eventType"] in spec.removed_by:
                model[key] = None
            else:
                model[key] = _expected(kind, event["eventType"], target, model.get(key))
    complete = int(conn.execute(select(log_head.c.first_seq)).scalar_one()) == 1
    mismatches: list[Mismatch] = []
    for kind, spec in _KINDS.items():
        rows = {
            r[0]: tuple(r[1:])
            for r in conn.execute(
                select(spec.table.c.id, *(spec.table.c[c] for c in spec.columns)).where(
                    *(() if spec.rows is None else (spec.rows,))
                )
            )
        }
        expected = {oid: state for (k, oid), state in model.items() if k == kind}
        for object_id, state in rows.items():
            if object_id not in expected:
                if complete:
                    mismatches.append(Mismatch(kind, object_id, "exists but no event created it"))
            elif expected[object_id] is None:
                mismatches.append(Mismatch(kind, object_id, "exists but its deletion was recorded"))
            elif expected[object_id] != state:
                mismatches.append(
                    Mismatch(kind, object_id, f"is {state} but its events leave it {expected[object_id]}")
                )
        for object_id, described in expected.items():
            if described is not None and object_id not in rows:
                mismatches.append(Mismatch(kind, object_id, "its events say it exists but it is not stored"))
    return mismatches
