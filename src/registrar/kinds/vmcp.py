"""Virtual MCP servers: a named set of tools of registered MCP servers, and admin-entered authorization
servers.

A capability names a tool of an MCP server (``{mcpServerId, name}``); it can be added only while that tool
is ``PRESENT`` in the server's last discovery. Registration and a PATCH of ``capabilities`` (the set is
replaced) audit each capability added or removed, deletion each one removed; when a discovery finds a tool
gone, changed or back (or its MCP server is deleted), every capability using it is flagged (``MISSING`` /
``ACTIVE``) with a ``capability.update`` event in that same transaction (``tools_changed``). Capability
events name the virtual server, the tool and its MCP server, in that order.

Adding checks a tool under a row lock, before any capability row is touched: a discovery that takes the
tool's row first is waited for (its verdict is then read), and one that comes second sees the new
capability; both take tool rows before capability rows, so neither waits on the other in a cycle.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field, StringConstraints
from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection

from registrar.domain.inputs import ServerMetadata, ServerMetadataPatch, _Body
from registrar.domain.resources import ResourceServer
from registrar.errors import ValidationFailed
from registrar.events import catalog as ev
from registrar.events.catalog import EventType, Target
from registrar.ids import VIRTUAL_CAPABILITY, VIRTUAL_MCP_SERVER, new_id, utcnow
from registrar.scopes import VMCP_MANAGE, VMCP_READ
from registrar.store import repositories as repo
from registrar.store.schema import mcp_tools, virtual_capabilities
from registrar.store.uow import UnitOfWork

from ._kind import Bodies, Changes, Entered, Kind, Names, events_named
from .mcp import KIND as MCP

__all__ = [
    "KIND",
    "MAX_CAPABILITIES",
    "Capability",
    "CapabilityRef",
    "CapabilityStatus",
    "VirtualMcpServerCreate",
    "VirtualMcpServerPatch",
    "capabilities_of",
    "source_deleted",
    "tools_changed",
]

MAX_CAPABILITIES = 100
_PRESENT = "PRESENT"  # a tool the MCP server listed in its last discovery (``mcp_tools.status``)


class CapabilityRef(_Body):
    """A tool of a registered MCP server, by the server's id and the tool's name."""

    mcpServerId: Annotated[str, StringConstraints(min_length=1, max_length=64)]  # noqa: N815
    name: Annotated[str, StringConstraints(min_length=1, max_length=128)]


Capabilities = Annotated[list[CapabilityRef], Field(max_length=MAX_CAPABILITIES)]


class VirtualMcpServerCreate(_Body):
    metadata: ServerMetadata
    capabilities: Capabilities = Field(default_factory=list)


class VirtualMcpServerPatch(_Body):
    metadata: ServerMetadataPatch | None = None
    capabilities: Capabilities | None = None  # the whole set; absent: unchanged


class CapabilityStatus(StrEnum):
    ACTIVE = "ACTIVE"
    MISSING = "MISSING"  # the source tool is gone (removed from its server, or its server deleted)


@dataclass(frozen=True, slots=True)
class Capability:
    """One tool of a virtual MCP server (id prefix ``vcp``)."""

    id: str
    virtual_server_id: str
    source_server_id: str
    tool_name: str
    status: str
    created_ms: int
    last_updated_ms: int

    @property
    def ref(self) -> tuple[str, str]:
        return self.source_server_id, self.tool_name

    def to_json(self) -> dict[str, Any]:
        """The API form."""
        return {
            "id": self.id,
            "mcpServerId": self.source_server_id,
            "name": self.tool_name,
            "status": self.status,
        }


def _now_ms() -> int:
    return int(utcnow().timestamp() * 1000)


def _capabilities(conn: Connection, *where: Any) -> list[Capability]:
    columns = [virtual_capabilities.c[f.name] for f in fields(Capability)]  # the fields are the columns
    query = select(*columns).where(*where).order_by(virtual_capabilities.c.pk)
    return [Capability(*row) for row in conn.execute(query)]


def capabilities_of(conn: Connection, server_id: str) -> list[Capability]:
    """A virtual MCP server's capabilities, in the order they were added."""
    return _capabilities(conn, virtual_capabilities.c.virtual_server_id == server_id)


class _Audit:
    """The targets of capability events within one transaction (servers and tools read once each)."""

    def __init__(self, uow: UnitOfWork):
        self.uow = uow
        self._org_id: str | None = None
        self._servers: dict[str, ResourceServer[Any] | None] = {}
        self._tools: dict[tuple[str, str], tuple[str, str] | None] = {}

    @property
    def org_id(self) -> str:
        if self._org_id is None:
            self._org_id = repo.org_id(self.uow.conn)
        return self._org_id

    def source(self, server_id: str) -> ResourceServer[Any] | None:
        if server_id not in self._servers:
            self._servers[server_id] = repo.get_server(self.uow.conn, MCP, server_id)
        return self._servers[server_id]

    def tool(self, ref: tuple[str, str], *, lock: bool = False) -> tuple[str, str] | None:
        """The tool's id and status, if the server has one of that name (``lock``: its row, for the rest)."""
        if ref not in self._tools or lock:
            query = select(mcp_tools.c.id, mcp_tools.c.status).where(
                mcp_tools.c.server_id == ref[0], mcp_tools.c.name == ref[1]
            )
            row = self.uow.conn.execute(query.with_for_update() if lock else query).first()
            self._tools[ref] = None if row is None else (row.id, row.status)
        return self._tools[ref]

    def present(self, ref: tuple[str, str]) -> bool:
        """Whether the server lists the tool now; its row stays locked until the transaction ends."""
        tool = self.tool(ref, lock=True)
        return tool is not None and tool[1] == _PRESENT

    def record(
        self,
        event_type: EventType,
        virtual: Target,
        capability: Capability,
        debug: dict[str, Any] | None = None,
    ) -> None:
        """One capability event: the virtual server, the tool, its MCP server.

        When the MCP server was deleted, the tool is named by its name only and the server by its id in
        ``debugData.mcpServerId``, not as a target: a target would say the server still exists.
        """
        source = self.source(capability.source_server_id)
        tool = self.tool(capability.ref)
        details = {"capabilityId": capability.id, **(debug or {})}
        if source is None or tool is None:
            gone = ev.mcp_server_tool_target("unknown", capability.tool_name, "unknown")
            details["mcpServerId"] = capability.source_server_id
            self.uow.record(event_type, [virtual, gone], debug=details)
            return
        source_orn = MCP.orn(self.org_id, source.id)
        tool_target = ev.mcp_server_tool_target(
            tool[0], capability.tool_name, f"{source_orn}:tools:{tool[0]}"
        )
        source_target = MCP.server_target(source, source_orn)
        self.uow.record(event_type, [virtual, tool_target, source_target], debug=details)


def _wanted(
    refs: Sequence[CapabilityRef], audit: _Audit, kept: Iterable[tuple[str, str]]
) -> list[tuple[str, str]]:
    """The set's tools in order, each new one checked (its row locked): a PRESENT tool of an MCP server."""
    problems: list[str] = []
    wanted: list[tuple[str, str]] = []
    known = set(kept)
    for index, ref in enumerate(refs):
        key = (ref.mcpServerId, ref.name)
        if key in wanted:
            problems.append(f"capabilities[{index}]: The same tool is named twice")
        elif key not in known and audit.source(ref.mcpServerId) is None:
            problems.append(f"capabilities[{index}].mcpServerId: No MCP server with this id is registered")
        elif key not in known and not audit.present(key):
            problems.append(
                f"capabilities[{index}].name: The MCP server lists no tool of this name "
                "(a capability must name a PRESENT tool of a registered MCP server)"
            )
        wanted.append(key)
    if problems:
        raise ValidationFailed(problems)
    return wanted


class _VirtualKind(Kind):
    def _target(self, audit: _Audit, server: ResourceServer[Any], changes: Changes | None = None) -> Target:
        return self.server_target(server, self.orn(audit.org_id, server.id), changes)

    def _replace(self, uow: UnitOfWork, server: ResourceServer[Any], refs: Sequence[CapabilityRef]) -> bool:
        """Make the server's capabilities the set ``refs`` names; True when it changed."""
        audit = _Audit(uow)
        current = capabilities_of(uow.conn, server.id)
        wanted = _wanted(refs, audit, (c.ref for c in current))
        target = self._target(audit, server)
        gone = [c for c in current if c.ref not in wanted]
        for capability in gone:
            repo.delete_row(uow.conn, virtual_capabilities, capability.id)
            audit.record(ev.VMCP_CAPABILITY_REMOVE, target, capability)
        have = {c.ref for c in current}
        now = _now_ms()
        added = [
            Capability(
                new_id(VIRTUAL_CAPABILITY), server.id, ref[0], ref[1], CapabilityStatus.ACTIVE, now, now
            )
            for ref in wanted
            if ref not in have
        ]
        for capability in added:
            repo.insert_row(uow.conn, virtual_capabilities, asdict(capability))
            audit.record(ev.VMCP_CAPABILITY_ADD, target, capability)
        return bool(gone or added)

    def on_registered(
        self, uow: UnitOfWork, server: ResourceServer[Any], orn: str, registration: Any
    ) -> None:
        self._replace(uow, server, registration.body.capabilities)

    def on_updated(self, uow: UnitOfWork, server: ResourceServer[Any], orn: str, patch: Any) -> bool:
        return patch.capabilities is not None and self._replace(uow, server, patch.capabilities)

    def on_delete(self, uow: UnitOfWork, server: ResourceServer[Any], orn: str) -> None:
        audit = _Audit(uow)
        for capability in capabilities_of(uow.conn, server.id):
            audit.record(ev.VMCP_CAPABILITY_REMOVE, self.server_target(server, orn), capability)
        uow.conn.execute(
            delete(virtual_capabilities).where(virtual_capabilities.c.virtual_server_id == server.id)
        )

    def extras(self, conn: Connection, servers: Sequence[ResourceServer[Any]]) -> dict[str, dict[str, Any]]:
        found: dict[str, list[dict[str, Any]]] = {server.id: [] for server in servers}
        if found:
            uses = virtual_capabilities.c.virtual_server_id.in_(list(found))
            for capability in _capabilities(conn, uses):
                found[capability.virtual_server_id].append(capability.to_json())
        return {server_id: {"capabilities": listed} for server_id, listed in found.items()}


def _target(server: ResourceServer[Any], orn: str, changes: Changes | None) -> Target:
    """``VirtualMcpServer``: no URL, so it is known by its ORN."""
    return ev.virtual_mcp_server_target(server.id, orn, server.display_name, server.status, changes)


KIND = _VirtualKind(
    Names(
        "vmcp",
        "virtual MCP server",
        "VirtualMcpServer",
        VIRTUAL_MCP_SERVER,
        (VMCP_READ, VMCP_MANAGE),
        segment="virtual-mcp",
        article="A",
        auth_entity="ApiAuthServer",
    ),
    events_named("virtual_mcp_server", register="create"),
    Bodies(VirtualMcpServerCreate, VirtualMcpServerPatch),
    Entered(_target),
)


# --- what a discovery of a source MCP server tells the virtual servers ------------------------------------

_REASONS = {
    "removed": "The MCP server no longer lists the tool",
    "changed": "The tool's definition changed",
    "reappeared": "The MCP server lists the tool again",
    "deleted": "The MCP server was deleted",
}


def _flag(uow: UnitOfWork, source_id: str, names: Sequence[str], status: str | None, why: str) -> None:
    """Each capability using one of ``names``: set to ``status`` (None: kept) with an update event."""
    if not names:
        return
    audit = _Audit(uow)
    uses = (virtual_capabilities.c.source_server_id == source_id) & virtual_capabilities.c.tool_name.in_(
        names
    )
    for capability in _capabilities(uow.conn, uses):
        if status is not None and capability.status == status:
            continue
        server = repo.get_server(uow.conn, KIND, capability.virtual_server_id)
        if server is None:
            continue
        changes: Changes | None = None
        if status is not None:
            changes = (
                {"capabilities": [capability.to_json()]},
                {"capabilities": [{**capability.to_json(), "status": status}]},
            )
            values = {"status": status, "last_updated_ms": _now_ms()}
            uow.conn.execute(
                update(virtual_capabilities).where(virtual_capabilities.c.id == capability.id).values(values)
            )
        target = KIND._target(audit, server, changes)
        audit.record(ev.VMCP_CAPABILITY_UPDATE, target, capability, {"reason": _REASONS[why]})


def tools_changed(
    uow: UnitOfWork,
    source: ResourceServer[Any],
    removed_names: Sequence[str],
    changed_names: Sequence[str],
    reappeared_names: Sequence[str],
) -> None:
    """Flag the capabilities using tools of ``source`` that a discovery found gone, changed or back."""
    _flag(uow, source.id, removed_names, CapabilityStatus.MISSING, "removed")
    _flag(uow, source.id, changed_names, None, "changed")
    _flag(uow, source.id, reappeared_names, CapabilityStatus.ACTIVE, "reappeared")


def source_deleted(uow: UnitOfWork, source: ResourceServer[Any]) -> None:
    """Flag MISSING every capability using a tool of ``source``, which is being deleted (before its tools)."""
    used = select(virtual_capabilities.c.tool_name).where(
        virtual_capabilities.c.source_server_id == source.id
    )
    names = sorted(set(uow.conn.execute(used).scalars()))
    _flag(uow, source.id, names, CapabilityStatus.MISSING, "deleted")
