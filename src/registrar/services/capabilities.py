"""MCP tool discovery (``resource_servers.mcp_server.capability.discover``) and tool drift.

A discovery authenticates as one client authentication setting of the MCP server: the setting's client
credentials buy a token at the server's authorization server, and the ``mcp`` SDK client lists the tools
(``registrar.capabilities``). That network I/O runs before the transaction, and only for a caller holding
the scope. Then, in one audited unit of work:

- the tools on record follow the listing (new ones stored ``PRESENT``, changed ones replaced, vanished ones
  marked ``REMOVED``), and the discovery is recorded as the latest for its credential;
- one ``capability.discover`` event per tool that appeared, disappeared or changed, its ``McpServerTool``
  target holding the old and the new definition in ``changeDetails``; one event without a tool target
  when nothing changed; each with ``debugData.capabilityCount``;
- under ``REGISTRAR_TOOL_DRIFT_POLICY=deactivate``, an ACTIVE server one of whose known tools changed or
  vanished is deactivated: an ``mcp_server.deactivate`` event by the system actor (whoever asked for the
  discovery), ``debugData.reason`` saying why;
- a virtual MCP server naming a tool that vanished, changed or came back hears of it
  (``virtual_capabilities.on_tools_changed``, when that module is installed).

A failed discovery (token refused, MCP server unreachable or unfit) is a FAILURE event, as ``perform``
writes for every operation, and the discovery is then stored FAILED in a transaction of its own.

Tools are per server: credentials that see different tool sets make each other's tools appear and vanish.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Annotated, Any, Literal, Protocol, cast

import orjson
from prometheus_client import Counter
from pydantic import StringConstraints

from registrar.capabilities import ClientCredentials, Drift, ToolDefinition, ToolTarget, discover_tools, drift
from registrar.context import RequestContext, job_context
from registrar.discovery import FetchPolicy
from registrar.domain.entities import ClientAuthSettings
from registrar.domain.inputs import _Body, parse_body
from registrar.domain.resources import AuthServer, ResourceServer
from registrar.domain.statuses import Status
from registrar.errors import DiscoveryFailed, NotFound, RegistrarError, ValidationFailed
from registrar.events import catalog as ev
from registrar.events.catalog import Target, unknown_target
from registrar.ids import MCP_DISCOVERY, MCP_TOOL, new_id, new_request_id
from registrar.kinds.mcp import KIND
from registrar.store import repositories as repo
from registrar.store.uow import UnitOfWork, unit_of_work

from ._run import load, now_ms, read_connection, run_with_discovery
from .audit import AuditTrail
from .capabilities_store import (
    COMPLETED,
    FAILED,
    PRESENT,
    REMOVED,
    StoredTool,
    ToolDiscovery,
    discoveries_of,
    save_discovery,
    save_tool,
    tools_of,
    touch_present,
)
from .deps import Deps, client_auth_settings_orn

__all__ = [
    "DEACTIVATE",
    "DiscoveryCreate",
    "ToolsChanged",
    "discover",
    "list_discoveries",
    "list_tools",
    "rediscover",
    "rediscover_server",
    "tool_orn",
]

log = logging.getLogger(__name__)
_DISCOVERIES = Counter("registrar_tool_discoveries", "MCP tool discoveries run, by outcome.", ["outcome"])

DEACTIVATE = "deactivate"  # REGISTRAR_TOOL_DRIFT_POLICY: deactivate an ACTIVE server on drift
AUTH_TYPE = "CLIENT_AUTH_SETTINGS"
_SETTINGS = "ClientAuthSettings"
_NAMES_SHOWN = 5  # tool names a deactivation's reason lists before "and N more"


class Credential(_Body):
    """``credential`` of a discovery request (wire names)."""

    authType: Literal["CLIENT_AUTH_SETTINGS"]  # noqa: N815
    clientAuthSettingsId: Annotated[str, StringConstraints(min_length=1, max_length=64)]  # noqa: N815


class DiscoveryCreate(_Body):
    credential: Credential


class ToolsChanged(Protocol):
    """What the virtual MCP servers are told, in the discovery's transaction (tool names per change)."""

    def __call__(
        self,
        uow: UnitOfWork,
        server: ResourceServer[Any],
        removed_names: Sequence[str],
        changed_names: Sequence[str],
        reappeared_names: Sequence[str],
    ) -> None: ...


def _tools_changed_hook() -> ToolsChanged | None:
    """``registrar.services.virtual_capabilities.on_tools_changed``, if that module is installed."""
    try:
        module = importlib.import_module("registrar.services.virtual_capabilities")
    except ModuleNotFoundError as missing:
        if missing.name != "registrar.services.virtual_capabilities":
            raise
        return None
    return cast(ToolsChanged | None, getattr(module, "on_tools_changed", None))


def tool_orn(org_id: str, server_id: str, tool_id: str) -> str:
    """A tool's ORN: its MCP server's, then ``:tools:<toolId>``."""
    return f"{KIND.orn(org_id, server_id)}:tools:{tool_id}"


@dataclass(slots=True)
class _Attempt:
    """What ``prepare`` has established, kept for recording a failed discovery afterwards."""

    settings: ClientAuthSettings | None = None
    started_ms: int = 0
    tools: tuple[ToolDefinition, ...] = ()


def _settings_target(deps: Deps, settings: ClientAuthSettings) -> Target:
    orn = client_auth_settings_orn(deps.org_id, settings.id)
    return ev.client_auth_setting_resource_target(settings.id, settings.name, orn)


def _settings_for(conn: Any, deps: Deps, server: ResourceServer[Any], settings_id: str) -> ClientAuthSettings:
    """The client authentication setting the body names; it must be one of this server's."""
    settings = repo.get_client_auth_settings(conn, settings_id)
    field = "credential.clientAuthSettingsId"
    if settings is None:
        raise ValidationFailed([f"{field}: No client authentication settings with this id exist."])
    if settings.resource_orn != KIND.orn(deps.org_id, server.id):
        raise ValidationFailed([f"{field}: These client authentication settings are for another resource."])
    return settings


def _token_endpoint(auth_servers: Sequence[AuthServer[Any]]) -> str:
    """The token endpoint of the first ACTIVE authorization server, preferring one that lists the grant."""
    usable = [a for a in auth_servers if a.status == Status.ACTIVE and a.token_endpoint]
    usable.sort(key=lambda a: "client_credentials" not in a.grant_types)  # stable: discovery order kept
    if not usable:
        raise DiscoveryFailed("the MCP server has no ACTIVE authorization server with a token endpoint")
    return str(usable[0].token_endpoint)


def discover(
    deps: Deps, ctx: RequestContext, server_id: str, body: bytes, policy: FetchPolicy
) -> ToolDiscovery:
    """Run a tool discovery with the credential the body names, and record what it found."""
    attempt = _Attempt()

    def prepare(trail: AuditTrail) -> _Attempt:
        data, _ = parse_body(body, DiscoveryCreate)
        with read_connection(deps) as conn:
            server = repo.get_server(conn, KIND, server_id)
            if server is None:
                raise NotFound(server_id, KIND.entity)
            trail.targets = [KIND.server_target(server, KIND.orn(deps.org_id, server.id))]
            settings = _settings_for(conn, deps, server, data.credential.clientAuthSettingsId)
            trail.targets.append(_settings_target(deps, settings))
            attempt.settings, attempt.started_ms = settings, now_ms()
            token_endpoint = _token_endpoint(repo.list_auth_servers(conn, [server.id])[server.id])
            secret = deps.box.open(repo.sealed_secret(conn, settings.id), settings.id)
        credentials = ClientCredentials(
            settings.client_id, secret, settings.token_endpoint_auth_method, settings.scopes
        )
        attempt.tools = discover_tools(policy, ToolTarget(server.url, token_endpoint, credentials))
        _DISCOVERIES.labels("success").inc()
        return attempt

    def action(uow: UnitOfWork, trail: AuditTrail, found: _Attempt) -> ToolDiscovery:
        assert found.settings is not None  # set before any discovery
        server = load(uow, trail, deps, KIND, server_id)
        settings = _settings_for(uow.conn, deps, server, found.settings.id)  # still there, still this one's
        trail.targets.append(_settings_target(deps, settings))
        return _record(uow, deps, server, settings, found)

    try:
        return run_with_discovery(
            deps,
            ctx,
            ev.MCP_CAPABILITY_DISCOVER,
            prepare,
            action,
            targets=[unknown_target(server_id, KIND.entity)],
        )
    except DiscoveryFailed as failure:
        if attempt.settings is not None:
            _DISCOVERIES.labels("failure").inc()
            _record_failed(deps, ctx, server_id, attempt, failure.cause)
        raise


def rediscover(
    deps: Deps, ctx: RequestContext, server_id: str, settings_id: str, policy: FetchPolicy
) -> ToolDiscovery:
    """Run the discovery of a credential again (the scheduled refresh), exactly as a request would."""
    body = orjson.dumps({"credential": {"authType": AUTH_TYPE, "clientAuthSettingsId": settings_id}})
    return discover(deps, ctx, server_id, body, policy)


def rediscover_server(deps: Deps, server_id: str, policy: FetchPolicy) -> int:
    """The scheduled refresh's part: rediscover with every credential on record for the server, each as
    the system (a job context of its own); returns how many ran. Failures are audited, and logged here.

    A credential deleted (or moved to another resource) since is skipped: it would fail every time.
    """
    orn = KIND.orn(deps.org_id, server_id)
    with read_connection(deps) as conn:
        on_record = [found.client_auth_settings_id for found in discoveries_of(conn, server_id)]
        settings = [repo.get_client_auth_settings(conn, settings_id) for settings_id in on_record]
    credentials = [found.id for found in settings if found is not None and found.resource_orn == orn]
    for settings_id in credentials:
        try:
            rediscover(deps, job_context(new_request_id()), server_id, settings_id, policy)
        except RegistrarError as error:
            log.info("scheduled tool discovery of %s with %s: %s", server_id, settings_id, error.reason)
    return len(credentials)


def _record(
    uow: UnitOfWork, deps: Deps, server: ResourceServer[Any], settings: ClientAuthSettings, found: _Attempt
) -> ToolDiscovery:
    now = now_ms()
    stored = {tool.definition.name: tool for tool in tools_of(uow.conn, server.id)}
    changes = drift([tool.known for tool in stored.values()], found.tools)
    moved = {change.name for change in changes.changes}
    tools: dict[str, StoredTool] = {}
    for definition in found.tools:
        old = stored.get(definition.name)
        if old is None:
            tools[definition.name] = StoredTool(
                new_id(MCP_TOOL), server.id, definition, PRESENT, now, now, now
            )
            save_tool(uow.conn, tools[definition.name], new=True)
        elif definition.name in moved:
            tools[definition.name] = replace(old, definition=definition, status=PRESENT, changed_ms=now)
            save_tool(uow.conn, tools[definition.name], new=False)
    for change in changes.disappeared:
        tools[change.name] = replace(stored[change.name], status=REMOVED, changed_ms=now)
        save_tool(uow.conn, tools[change.name], new=False)
    touch_present(uow.conn, server.id, now)
    discovery = ToolDiscovery(
        new_id(MCP_DISCOVERY), server.id, settings.id, COMPLETED, found.started_ms, now,
        len(found.tools), None,
    )  # fmt: skip
    save_discovery(uow.conn, discovery)
    _record_events(uow, deps, server, settings, changes, tools, len(found.tools))
    _tell_virtual_servers(uow, server, changes)
    if deps.settings.tool_drift_policy == DEACTIVATE and server.status == Status.ACTIVE:
        _deactivate_on_drift(uow, deps, server, changes)
    return discovery


def _record_events(
    uow: UnitOfWork,
    deps: Deps,
    server: ResourceServer[Any],
    settings: ClientAuthSettings,
    changes: Drift,
    tools: dict[str, StoredTool],
    count: int,
) -> None:
    server_target = KIND.server_target(server, KIND.orn(deps.org_id, server.id))
    settings_target = _settings_target(deps, settings)
    debug = {"capabilityCount": count}
    if not changes.changes:
        uow.record(ev.MCP_CAPABILITY_DISCOVER, [server_target, settings_target], debug=debug)
    for change in changes.changes:
        tool = tools[change.name]
        tool_target = ev.mcp_server_tool_target(
            tool.id, change.name, tool_orn(deps.org_id, server.id, tool.id), (change.before, change.after)
        )
        uow.record(ev.MCP_CAPABILITY_DISCOVER, [server_target, tool_target, settings_target], debug=debug)


def _tell_virtual_servers(uow: UnitOfWork, server: ResourceServer[Any], changes: Drift) -> None:
    removed = [change.name for change in changes.disappeared]
    changed = [change.name for change in changes.changed]
    reappeared = [change.name for change in changes.appeared if change.reappeared]
    hook = _tools_changed_hook() if removed or changed or reappeared else None
    if hook is not None:
        hook(uow, server, removed, changed, reappeared)


def _names(names: Sequence[str]) -> str:
    shown = ", ".join(names[:_NAMES_SHOWN])
    return shown if len(names) <= _NAMES_SHOWN else f"{shown} and {len(names) - _NAMES_SHOWN} more"


def _deactivate_on_drift(uow: UnitOfWork, deps: Deps, server: ResourceServer[Any], changes: Drift) -> None:
    """The ``deactivate`` drift policy: the server goes INACTIVE, the system actor records it."""
    if not changes.known_tool_changed:
        return
    parts = [
        f"{label} {_names([c.name for c in group])}"
        for label, group in (("changed:", changes.changed), ("disappeared:", changes.disappeared))
        if group
    ]
    reason = f"Tool drift ({'; '.join(parts)}) under REGISTRAR_TOOL_DRIFT_POLICY=deactivate"
    inactive = replace(server, status=str(Status.INACTIVE), last_updated_ms=now_ms())
    repo.update_server(uow.conn, inactive)
    uow.record(
        KIND.events["deactivate"],
        [KIND.server_target(inactive, KIND.orn(deps.org_id, inactive.id))],
        debug={"reason": reason},
        ctx=job_context(uow.ctx.request_id),  # same transaction, the system's act
    )


def _record_failed(deps: Deps, ctx: RequestContext, server_id: str, attempt: _Attempt, cause: str) -> None:
    """Store the discovery FAILED, after its FAILURE event, in a transaction of its own."""
    assert attempt.settings is not None
    failed = ToolDiscovery(
        new_id(MCP_DISCOVERY), server_id, attempt.settings.id, FAILED, attempt.started_ms,
        now_ms(), None, cause,
    )  # fmt: skip
    try:
        with unit_of_work(deps.engine, ctx) as uow:
            if repo.get_server(uow.conn, KIND, server_id, for_update=True) is not None:
                save_discovery(uow.conn, failed)
    except Exception:  # the caller still gets the discovery's own error
        log.exception("could not store the failed discovery of %s (request %s)", server_id, ctx.request_id)


def _server(deps: Deps, server_id: str) -> ResourceServer[Any]:
    with read_connection(deps) as conn:
        server = repo.get_server(conn, KIND, server_id)
    if server is None:
        raise NotFound(server_id, KIND.entity)
    return server


def list_discoveries(deps: Deps, server_id: str) -> list[ToolDiscovery]:
    """The latest discovery per credential of an MCP server."""
    server = _server(deps, server_id)
    with read_connection(deps) as conn:
        return discoveries_of(conn, server.id)


def list_tools(deps: Deps, server_id: str) -> list[StoredTool]:
    """Every tool on record for an MCP server (``REMOVED`` ones too), in discovery order."""
    server = _server(deps, server_id)
    with read_connection(deps) as conn:
        return tools_of(conn, server.id)
