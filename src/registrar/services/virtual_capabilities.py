"""What a tool discovery tells the virtual MCP servers that use the tools of the server it ran on.

``registrar.services.capabilities`` calls ``on_tools_changed`` in the discovery's transaction, with the
names of the tools that disappeared, changed definition or came back; each virtual capability using one is
flagged (``MISSING``, or ``ACTIVE`` again) with a ``virtual_mcp_server.capability.update`` event, so that
the change and its audit commit together with the discovery.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from registrar.domain.resources import ResourceServer
from registrar.kinds.vmcp import tools_changed
from registrar.store.uow import UnitOfWork

__all__ = ["on_tools_changed"]


def on_tools_changed(
    uow: UnitOfWork,
    server: ResourceServer[Any],
    removed_names: Sequence[str],
    changed_names: Sequence[str],
    reappeared_names: Sequence[str],
) -> None:
    """Flag the virtual capabilities using the tools of MCP server ``server`` that the discovery found
    removed (``MISSING``), changed (an update event, still ``ACTIVE``) or listed again (``ACTIVE``)."""
    tools_changed(uow, server, removed_names, changed_names, reappeared_names)
