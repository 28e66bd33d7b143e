"""HTTP commands built from parts: the parameters Typer shows, the request they send, how the answer prints.

The registry groups (resource servers of every kind, their authorization servers, client authentication
settings, event hooks) are mostly the same few commands over different paths: show one object, list a
collection page by page, delete, act on a lifecycle. Each is made here once; a group supplies what differs
(the id arguments and their help, the path, the view, the body).

A command's parameters are ``inspect.Parameter`` objects Typer reads as the handler's signature, so a
group decides which options exist (an ``--activate`` flag for one kind, ``--capability`` for another)
without a near-copy of the function; the handler receives the values by parameter name.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any
from urllib.parse import quote

import typer
from rich.console import RenderableType

from .client import MERGE_PATCH
from .options import DEFAULT_URL, AllOption, JsonOption, LimitOption, TokenOption, UrlOption, connect
from .output import err_console, show, show_list

__all__ = [
    "CONNECTION",
    "JSON",
    "Values",
    "argument",
    "command",
    "delete_command",
    "identifier",
    "lifecycle_commands",
    "list_command",
    "option",
    "segment",
    "show_command",
    "text_option",
    "under",
]

Values = Mapping[str, Any]
"""A command's parameter values, by parameter name."""

Path = Callable[[Values], str]
Body = Callable[[Values], Any]

_EMPTY = inspect.Parameter.empty


def _parameter(name: str, annotation: Any, default: Any = _EMPTY) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default)


def argument(name: str, help_text: str) -> inspect.Parameter:
    """A required positional argument (an id), shown with ``help_text``."""
    return _parameter(name, Annotated[str, typer.Argument(help=help_text, show_default=False)])


def identifier(name: str, noun: str, prefix: str) -> inspect.Parameter:
    """The id argument of a ``noun``: ``The API server's id (aps…).``"""
    return argument(name, f"The {noun}'s id ({prefix}…).")


def option(name: str, annotation: Any, default: Any = _EMPTY) -> inspect.Parameter:
    """An option (``annotation``: ``Annotated[type, typer.Option(...)]``); without a default, required."""
    return _parameter(name, annotation, default)


def text_option(name: str, help_text: str, *, required: bool = False) -> inspect.Parameter:
    """An option taking text, named for ``name`` (``--client-auth-settings``); without it: ``None``."""
    declared = typer.Option(f"--{name.replace('_', '-')}", help=help_text, show_default=False)
    if required:
        return option(name, Annotated[str, declared])
    return option(name, Annotated[str | None, declared], None)


JSON = option("as_json", JsonOption, False)
CONNECTION = (option("url", UrlOption, DEFAULT_URL), option("token", TokenOption, None))
_PAGING = (option("limit", LimitOption, None), option("all_pages", AllOption, False))


def segment(value: str) -> str:
    """An id as one path segment (quoted: it may not smuggle a path)."""
    return quote(value, safe="")


def under(path: Path, tail: str) -> Path:
    """``path``, then ``tail``."""
    return lambda values: f"{path(values)}{tail}"


def command(
    group: typer.Typer,
    name: str,
    doc: str,
    params: Sequence[inspect.Parameter],
    run: Callable[[Values], None],
) -> None:
    """Add ``name`` to ``group``: Typer shows ``params`` and ``doc``; ``run`` gets the values."""

    def handler(**values: Any) -> None:
        run(values)

    handler.__signature__ = inspect.Signature(list(params))  # type: ignore[attr-defined]
    handler.__doc__ = doc
    handler.__name__ = handler.__qualname__ = name.replace("-", "_")
    group.command(name)(handler)


def show_command(
    group: typer.Typer,
    name: str,
    doc: str,
    params: Sequence[inspect.Parameter],
    path: Path,
    view: Callable[[Any], RenderableType],
    *,
    method: str = "GET",
    body: Body | None = None,
    query: Callable[[Values], Mapping[str, str]] | None = None,
) -> None:
    """A command that sends one request and prints the object answered: ``view`` of it, or its JSON.

    ``path`` and ``body`` are made from the values before any connection is, so either may refuse them
    with a usage error (exit code 2) whatever the server would say.
    """

    def run(values: Values) -> None:
        target = path(values)
        content = None if body is None else body(values)
        params = None if query is None else query(values) or None
        content_type = MERGE_PATCH if method == "PATCH" else "application/json"
        with connect(values["url"], values["token"]) as client:
            response = client.request(method, target, json=content, params=params, content_type=content_type)
            show(response, values["as_json"], view)

    command(group, name, doc, [*params, JSON, *CONNECTION], run)


def list_command(
    group: typer.Typer,
    doc: str,
    params: Sequence[inspect.Parameter],
    path: Path,
    view: Callable[[list[Any]], RenderableType],
    *,
    name: str = "list",
    queries: Sequence[inspect.Parameter] = (),
    paged: bool = True,
) -> None:
    """A command that lists a collection: a table, or the server's JSON; ``--all`` follows next links.

    ``queries`` are options sent as query parameters of their own name; ``paged`` adds ``--limit`` and
    ``--all``.
    """
    paging = _PAGING if paged else ()

    def run(values: Values) -> None:
        given = {param.name: values[param.name] for param in queries}
        limit = values.get("limit")
        params = given | ({"limit": str(limit) if limit is not None else None} if paged else {})
        target, all_pages = path(values), bool(values.get("all_pages"))
        with connect(values["url"], values["token"]) as client:
            show_list(client, target, params, as_json=values["as_json"], all_pages=all_pages, view=view)

    command(group, name, doc, [*params, *queries, *paging, JSON, *CONNECTION], run)


def delete_command(
    group: typer.Typer,
    doc: str,
    params: Sequence[inspect.Parameter],
    path: Path,
    done: Callable[[Values], str],
    *,
    name: str = "delete",
) -> None:
    """A command that sends ``DELETE`` and says ``done`` on stderr (nothing on stdout)."""

    def run(values: Values) -> None:
        target = path(values)
        with connect(values["url"], values["token"]) as client:
            client.delete(target)
        err_console().print(done(values))

    command(group, name, doc, [*params, *CONNECTION], run)


def lifecycle_commands(
    group: typer.Typer,
    actions: Sequence[tuple[str, str]],
    params: Sequence[inspect.Parameter],
    path: Path,
    view: Callable[[Any], RenderableType],
) -> None:
    """A command per ``(action, doc)``: ``POST {path}/lifecycle/{action}``, the object answered shown."""
    for action, doc in actions:
        show_command(group, action, doc, params, under(path, f"/lifecycle/{action}"), view, method="POST")
