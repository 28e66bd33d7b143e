"""Events of the kinds Okta added since the seed (MCP tool discovery, A2A and virtual MCP servers), built as
the product builds them: the catalog's target builders and the real event builder, shaped as the design
says (targets, their order, ``changeDetails`` of a tool, the system actor of a drift deactivation).

``KindLog`` gives each event the next second, so rules that look at time (correlations) see an order, and
stores the events through the event log on any backend.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Engine

from registrar.context import Actor, ClientInfo, RequestContext, job_context
from registrar.events import catalog as ev
from registrar.events.builder import Outcome, build_event, canonical_bytes
from registrar.events.catalog import EventType, Target
from registrar.ids import new_request_id
from registrar.store.eventlog import append_history

__all__ = [
    "NEWER_TYPES",
    "ORG",
    "KindLog",
    "a2a",
    "admin",
    "credential",
    "entered_auth_server",
    "every_newer_type",
    "external_auth_server",
    "mcp",
    "tool",
    "tool_definition",
    "vmcp",
]

ORG = "00o0000000000000test"
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
# The ten types Okta's catalog gained after the seed's 19, and Registrar's extension types.
NEWER_TYPES = frozenset(
    {
        ev.MCP_CAPABILITY_DISCOVER.name,
        ev.VMCP_CAPABILITY_ADD.name,
        ev.VMCP_CAPABILITY_REMOVE.name,
        ev.VMCP_CAPABILITY_UPDATE.name,
        ev.VMCP_AUTH_SERVER_ADD.name,
        ev.VMCP_AUTH_SERVER_REMOVE.name,
        ev.A2A_SERVER_REGISTER.name,
        ev.A2A_SERVER_DELETE.name,
        ev.A2A_AUTH_SERVER_ADD.name,
        ev.A2A_AUTH_SERVER_REMOVE.name,
        *ev.EXTENSION_EVENT_TYPES,
    }
)


def admin(name: str) -> RequestContext:
    """A request by the administrator ``name`` (``<name>@example.com``), from a public address."""
    return RequestContext(
        request_id=new_request_id(),
        actor=Actor(f"00u{name.lower():0>17}", "User", f"{name.lower()}@example.com", f"{name} Admin"),
        client=ClientInfo("8.8.8.8", "registrar-tests/1.0"),
        request_uri="/resource-servers/api/v1",
        url="/resource-servers/api/v1",
    )


def _orn(segment: str, server_id: str) -> str:
    return f"orn:registrar:directory:{ORG}:resource-servers:{segment}:{server_id}"


def mcp(server_id: str, status: str) -> Target:
    """An MCP server target (``McpServerResourceDetails``) in ``status``."""
    metadata = orjson.dumps({"resourceName": "tools", "scopesSupported": ["tools:read"]}).decode()
    return ev.mcp_server_target(server_id, f"https://{server_id}.example/mcp", server_id, status, metadata)


def tool_definition(name: str, description: str) -> dict[str, Any]:
    """A tool's definition as a ``changeDetails`` side shows it (with its fingerprint)."""
    return {
        "name": name,
        "title": None,
        "description": description,
        "inputSchema": {"type": "object", "properties": {"path": {"type": "string"}}},
        "outputSchema": None,
        "annotations": None,
        "fingerprint": orjson.dumps([name, description]).hex()[:64],
    }


def tool(
    server_id: str, tool_id: str, name: str, before: Mapping[str, Any], after: Mapping[str, Any]
) -> Target:
    """A tool of an MCP server (``McpServerToolResourceDetails``), its old and new definition."""
    orn = f"{_orn('mcp', server_id)}:tools:{tool_id}"
    return ev.mcp_server_tool_target(tool_id, name, orn, (before, after))


def credential(settings_id: str) -> Target:
    """The client authentication settings a discovery authenticated with."""
    orn = f"orn:registrar:idp:{ORG}:client-auth-settings:{settings_id}"
    return ev.client_auth_setting_resource_target(settings_id, "discovery client", orn)


def a2a(
    server_id: str, status: str, changes: tuple[Mapping[str, Any], Mapping[str, Any]] | None = None
) -> Target:
    """An A2A server target; its detected metadata is what its agent card declared."""
    card = orjson.dumps({"name": "Echo agent", "version": "1.0.0", "skillCount": 1}).decode()
    url = f"https://{server_id}.example/"
    return ev.a2a_server_target(server_id, url, server_id, status, card, changes)


def vmcp(
    server_id: str, status: str, changes: tuple[Mapping[str, Any], Mapping[str, Any]] | None = None
) -> Target:
    """A virtual MCP server target: no URL, so its ORN is the ``alternateId``."""
    return ev.virtual_mcp_server_target(server_id, _orn("virtual-mcp", server_id), server_id, status, changes)


def external_auth_server(auth_id: str, issuer: str) -> Target:
    """An authorization server found for a server (``ExternalAuthServer``), as A2A agent cards name them."""
    metadata = orjson.dumps(
        {"tokenEndpoint": f"{issuer}token", "grantTypesSupported": ["client_credentials"]}
    )
    return ev.external_auth_server_target(auth_id, issuer, "ACTIVE", metadata.decode())


def entered_auth_server(auth_id: str, issuer: str) -> Target:
    """An authorization server an admin entered (``ApiAuthServer``), as for a virtual MCP server."""
    return ev.api_auth_server_target(
        auth_id, issuer, f"{issuer}authorize", f"{issuer}token", ["client_credentials"]
    )


class KindLog:
    """Events one second apart, as stored (the canonical JSON read back)."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self._published: list[datetime] = []

    def add(
        self,
        event_type: EventType,
        ctx: RequestContext,
        targets: list[Target],
        *,
        outcome: Outcome = "SUCCESS",
        debug: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Build the next event; returns it as it will be stored."""
        published = T0 + timedelta(seconds=len(self.events))
        reason = None if outcome == "SUCCESS" else "refused"
        event = build_event(event_type, ctx, targets, published, outcome=outcome, reason=reason, debug=debug)
        stored: dict[str, Any] = orjson.loads(canonical_bytes(event))
        self.events.append(stored)
        self._published.append(published)
        return stored

    def drift(self, ctx: RequestContext, server_id: str, tool_target: Target, count: int) -> None:
        """A discovery that found one tool changed on ``server_id`` (ACTIVE), and the system deactivating
        it under the ``deactivate`` policy, in the discovery's transaction."""
        self.add(
            ev.MCP_CAPABILITY_DISCOVER,
            ctx,
            [mcp(server_id, "ACTIVE"), tool_target, credential("rsc00000000000drift")],
            debug={"capabilityCount": count},
        )
        reason = (
            f"Tool drift (changed: {tool_target['displayName']}) under REGISTRAR_TOOL_DRIFT_POLICY=deactivate"
        )
        self.add(
            ev.MCP_SERVER_DEACTIVATE,
            job_context(ctx.request_id),
            [mcp(server_id, "INACTIVE")],
            debug={"reason": reason},
        )

    def store(self, engine: Engine) -> None:
        """Append the events to the log (in this order, with these times)."""
        with engine.begin() as conn:
            append_history(conn, list(zip(self.events, self._published, strict=True)))


def every_newer_type() -> KindLog:
    """One event of each of ``NEWER_TYPES`` (and a discovery that changed nothing, and a refused one)."""
    log, alice = KindLog(), admin("Alice")
    server, vserver, agent = "mcp000000000000tools", "vms00000000000000ops", "a2a0000000000000echo"
    cred = "rsc000000000000cred"
    old, new = tool_definition("read_file", "Reads a file."), tool_definition("read_file", "Reads any file.")
    tool_target = tool(server, "emt0000000read_file", "read_file", old, new)
    count = {"capabilityCount": 3}
    log.add(
        ev.MCP_CAPABILITY_DISCOVER, alice, [mcp(server, "ACTIVE"), tool_target, credential(cred)], debug=count
    )
    log.add(ev.MCP_CAPABILITY_DISCOVER, alice, [mcp(server, "ACTIVE"), credential(cred)], debug=count)
    log.add(ev.MCP_CAPABILITY_DISCOVER, alice, [ev.unknown_target(server, "McpServer")], outcome="FAILURE")
    capability = [
        vmcp(vserver, "ACTIVE"),
        tool(server, "emt0000000read_file", "read_file", {}, {}),
        mcp(server, "ACTIVE"),
    ]
    log.add(ev.VMCP_SERVER_CREATE, alice, [vmcp(vserver, "INACTIVE")])
    log.add(ev.VMCP_CAPABILITY_ADD, alice, capability)
    log.add(ev.VMCP_CAPABILITY_UPDATE, job_context(alice.request_id), capability)
    log.add(ev.VMCP_CAPABILITY_REMOVE, alice, capability)
    linked = [
        vmcp(vserver, "ACTIVE"),
        entered_auth_server("eas00000000000vmcpas", "https://login.example.com/"),
    ]
    log.add(ev.VMCP_AUTH_SERVER_ADD, alice, linked)
    log.add(ev.VMCP_AUTH_SERVER_REMOVE, alice, linked)
    log.add(
        ev.VMCP_SERVER_UPDATE,
        alice,
        [vmcp(vserver, "INACTIVE", ({"displayName": "a"}, {"displayName": "b"}))],
    )
    log.add(ev.VMCP_SERVER_ACTIVATE, alice, [vmcp(vserver, "ACTIVE")])
    log.add(ev.VMCP_SERVER_DEACTIVATE, alice, [vmcp(vserver, "INACTIVE")])
    log.add(ev.VMCP_SERVER_DELETE, alice, [vmcp(vserver, "INACTIVE")])
    log.add(ev.A2A_SERVER_REGISTER, alice, [a2a(agent, "INACTIVE")])
    card_as = [
        a2a(agent, "INACTIVE"),
        external_auth_server("eas000000000000a2aas", "https://login.example.com/"),
    ]
    log.add(ev.A2A_AUTH_SERVER_ADD, alice, card_as)
    log.add(
        ev.A2A_SERVER_UPDATE, alice, [a2a(agent, "INACTIVE", ({"description": None}, {"description": "x"}))]
    )
    log.add(ev.A2A_SERVER_ACTIVATE, alice, [a2a(agent, "ACTIVE")])
    log.add(ev.A2A_SERVER_DEACTIVATE, alice, [a2a(agent, "INACTIVE")])
    log.add(ev.A2A_AUTH_SERVER_REMOVE, alice, card_as)
    log.add(ev.A2A_SERVER_DELETE, alice, [a2a(agent, "INACTIVE")])
    return log
