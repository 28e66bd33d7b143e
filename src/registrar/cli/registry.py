"""The commands that talk to a running server over HTTP, attached to the ``registrar`` app.

Registry groups (one per kind of resource server: ``api-servers``, ``mcp-servers``, ``a2a-servers``,
``virtual-mcp-servers``; and ``auth-servers``, ``client-auth-settings``, ``event-hooks``) become sub-apps;
the System Log query and ``tail`` join the ``logs`` group, which also holds the maintenance command
``logs export`` (:mod:`registrar.cli.logs`). Exit codes: :mod:`registrar.cli.client`.
"""

from __future__ import annotations

import typer

from .auth_servers import auth_servers
from .client import EXIT_CODES_HELP
from .client_auth_settings import client_auth_settings
from .event_hooks import event_hooks
from .logs_query import query_logs
from .logs_tail import tail
from .resource_servers import groups

__all__ = ["EXIT_CODES_HELP", "register"]

LOGS_HELP = (
    "The System Log: query it (`registrar logs --filter …`) and follow it live (`logs tail`) on a running "
    "server; `logs export` reads the database directly."
)


def register(app: typer.Typer, logs: typer.Typer) -> None:
    """Add the registry groups to ``app``; the query (the group's own command) and ``tail`` to ``logs``."""
    for name, group in groups():
        app.add_typer(group, name=name)
    app.add_typer(auth_servers, name="auth-servers")
    app.add_typer(client_auth_settings, name="client-auth-settings")
    app.add_typer(event_hooks, name="event-hooks")
    # `registrar logs [OPTIONS]` runs a query; `registrar logs tail|export` run the subcommands.
    logs.callback(invoke_without_command=True, no_args_is_help=False, help=LOGS_HELP)(query_logs)
    logs.command("tail")(tail)
