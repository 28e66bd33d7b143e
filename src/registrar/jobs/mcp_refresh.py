"""The scheduled MCP refresh: re-discover each MCP server once per interval, whichever replica runs it."""

from __future__ import annotations

import logging

from registrar.context import job_context
from registrar.discovery import FetchPolicy
from registrar.errors import RegistrarError
from registrar.ids import new_request_id
from registrar.kinds import mcp
from registrar.services import capabilities, mcp_refresh
from registrar.services.deps import Deps
from registrar.store import repositories as repo

from .claims import claim

__all__ = ["refresh_due_servers"]

log = logging.getLogger(__name__)
JOB = "mcp_refresh"


def refresh_due_servers(deps: Deps, interval_s: float) -> int:
    """Refresh every MCP server not refreshed (by any replica) within ``interval_s``; returns how many."""
    policy = FetchPolicy.from_settings(deps.settings)
    with deps.engine.connect().execution_options(sqlite_immediate=False) as conn:
        server_ids = repo.server_ids(conn, mcp.KIND)
    refreshed = 0
    for server_id in server_ids:
        if not claim(deps.engine, JOB, server_id, interval_s):
            continue
        try:
            # One job context per server: its events share one transaction id, as a request's do.
            mcp_refresh.refresh(deps, job_context(new_request_id()), server_id, policy)
        except RegistrarError as error:  # e.g. deleted meanwhile: audited by the operation itself
            log.info("scheduled refresh of %s: %s", server_id, error.reason)
        capabilities.rediscover_server(deps, server_id, policy)  # and its tools, with each credential
        refreshed += 1
    return refreshed
