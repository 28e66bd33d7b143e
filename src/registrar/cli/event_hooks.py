"""``registrar event-hooks``: Okta-style event hooks that push System Log events to an HTTPS endpoint.

The value of the authentication header is a secret: read from a hidden prompt, stdin or
``--auth-value-file``, never from an option value, and never returned by the server.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import RenderableType

from .client import EVENT_HOOKS, json_of
from .commands import (
    CONNECTION,
    JSON,
    Values,
    argument,
    command,
    delete_command,
    lifecycle_commands,
    option,
    segment,
    show_command,
    text_option,
)
from .options import connect, read_secret, usage
from .output import Column, detail, listing, show

__all__ = ["event_hooks"]

event_hooks = typer.Typer(no_args_is_help=True, help="Event hooks (System Log events pushed over HTTPS).")

AUTH_VALUE = "auth header value"
HOOK_ID = "The event hook's id (who…)."
EventTypes = Annotated[
    list[str] | None,
    typer.Option("--event-type", help="An event type to deliver (repeatable).", show_default=False),
]
Headers = Annotated[
    list[str] | None,
    typer.Option("--header", help="An extra header, 'Name: value' (repeatable).", show_default=False),
]
COLUMNS = (
    Column("ID", "id", no_wrap=True),
    Column("STATUS", "status", no_wrap=True),
    Column("VERIFICATION", "verificationStatus", no_wrap=True),
    Column("NAME", "name"),
    Column("URI", "channel.config.uri"),
    Column("EVENT TYPES", "events.items"),
    Column("BACKLOG", "delivery.backlog", no_wrap=True),
)


def _path(hook_id: str) -> str:
    return f"{EVENT_HOOKS}/{segment(hook_id)}"


def _path_of(values: Values) -> str:
    return _path(values["hook_id"])


def _headers(raw: list[str]) -> list[dict[str, str]]:
    headers = []
    for item in raw:
        key, sep, value = item.partition(":")
        if not sep or not key.strip():
            raise usage(f"--header wants 'Name: value', not {item!r}")
        headers.append({"key": key.strip(), "value": value.strip()})
    return headers


def view_hook(hook: dict[str, Any]) -> RenderableType:
    """An event hook as a table of its fields (the auth header's value is never among them)."""
    return detail(f"Event hook {hook.get('id', '')}", hook)


def view_hooks(hooks: list[dict[str, Any]]) -> RenderableType:
    """Event hooks as a table."""
    return listing(f"Event hooks ({len(hooks)})", COLUMNS, hooks)


_HOOK = argument("hook_id", HOOK_ID)
show_command(event_hooks, "list", "List event hooks.", (), lambda _: EVENT_HOOKS, view_hooks)
show_command(event_hooks, "get", "Show an event hook and its delivery health.", [_HOOK], _path_of, view_hook)


_EVENT_TYPES = option("event_types", EventTypes, None)
# The extra headers, and the auth header whose value is a secret: the same for create and update.
_HEADERS = (
    option("headers", Headers, None),
    text_option(
        "auth_header",
        "Name of the header carrying a secret (e.g. Authorization); its value is then read from "
        "--auth-value-file, a hidden prompt, or stdin.",
    ),
    text_option("auth_value_file", "Read the auth header's value from this file (- for stdin)."),
)


def _create(values: Values) -> None:
    event_types = values["event_types"]
    auth_header, auth_value_file = values["auth_header"], values["auth_value_file"]
    if not event_types:
        raise usage("give at least one --event-type (e.g. resource_servers.mcp_server.register)")
    if auth_value_file is not None and auth_header is None:
        raise usage("--auth-value-file needs --auth-header (the header's name)")
    config: dict[str, Any] = {
        "uri": values["uri"],
        "headers": _headers(values["headers"] or []),
        "method": "POST",
    }
    with connect(values["url"], values["token"]) as client:
        if auth_header is not None:
            secret = read_secret(auth_value_file, AUTH_VALUE)
            config["authScheme"] = {"type": "HEADER", "key": auth_header, "value": secret}
        body = {
            "name": values["name"],
            "description": values["description"],
            "events": {"type": "EVENT_TYPE", "items": event_types},
            "channel": {"type": "HTTP", "version": "1.0.0", "config": config},
        }
        show(client.post(EVENT_HOOKS, body), values["as_json"], view_hook)


def _update(values: Values) -> None:
    changes = ("name", "uri", "event_types", "description", "headers", "auth_header", "auth_value_file")
    if all(values[change] is None for change in changes):
        raise usage("nothing to update: give at least one option (see --help)")
    name, description, event_types = values["name"], values["description"], values["event_types"]
    auth_header, auth_value_file = values["auth_header"], values["auth_value_file"]
    with connect(values["url"], values["token"]) as client:
        hook = json_of(client.get(_path_of(values)))
        config = hook["channel"]["config"]
        if values["uri"] is not None:
            config["uri"] = values["uri"]
        if values["headers"] is not None:
            config["headers"] = _headers(values["headers"])
        if auth_header is not None or auth_value_file is not None:
            key = auth_header or (config.get("authScheme") or {}).get("key")
            if key is None:
                raise usage("the hook has no auth header yet: give --auth-header")
            config["authScheme"] = {
                "type": "HEADER",
                "key": key,
                "value": read_secret(auth_value_file, AUTH_VALUE),
            }
        body = {
            "name": hook["name"] if name is None else name,
            "description": hook.get("description") if description is None else description or None,
            "events": {
                "type": "EVENT_TYPE",
                "items": hook["events"]["items"] if event_types is None else event_types,
            },
            # Without a value the server keeps the stored secret.
            "channel": {"type": "HTTP", "version": hook["channel"]["version"], "config": config},
        }
        show(client.put(_path_of(values), body), values["as_json"], view_hook)


command(
    event_hooks,
    "create",
    "Create an event hook (ACTIVE, UNVERIFIED: run `verify` next).",
    [
        text_option("name", "A name for the hook.", required=True),
        text_option("uri", "Where events are POSTed (https).", required=True),
        _EVENT_TYPES,
        text_option("description", "Description."),
        *_HEADERS,
        JSON,
        *CONNECTION,
    ],
    _create,
)
command(
    event_hooks,
    "update",
    "Change an event hook; lists given here (--event-type, --header) replace the stored ones.",
    [
        _HOOK,
        text_option("name", "New name."),
        text_option("uri", "New URI."),
        _EVENT_TYPES,
        text_option("description", "New description."),
        *_HEADERS,
        JSON,
        *CONNECTION,
    ],
    _update,
)


delete_command(
    event_hooks,
    "Delete an event hook (it must be INACTIVE: deactivate it first).",
    [_HOOK],
    _path_of,
    lambda values: f"deleted event hook {values['hook_id']}",
)
lifecycle_commands(
    event_hooks,
    [
        ("activate", "Activate an event hook, or resume one paused after failing deliveries."),
        ("deactivate", "Deactivate an event hook: deliveries stop."),
        ("verify", "Verify an event hook: its endpoint must echo a one-time challenge."),
    ],
    [_HOOK],
    _path_of,
    view_hook,
)
