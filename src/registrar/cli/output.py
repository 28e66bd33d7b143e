"""What the HTTP commands print: Rich tables with coloured status badges, or the server's JSON verbatim.

Data goes to stdout, everything else (errors, hints, progress) to stderr, so ``--json`` output pipes cleanly
into ``jq``. A single object or page is printed as the server sent it; ``--all`` joins the pages' ``data``
into one document, ``{"data": [...]}``.

What a server sends is not trusted to be kind to a terminal (remote MCP metadata reaches it): in tables and
lines every control character is shown escaped (``\\x1b``, ``\\n``, ``\\u202e``: ``escape_controls``), both
where the cell text is made and, as a net, on every segment the consoles of this module write; JSON keeps
its bytes except that DEL and C1 characters, which JSON allows raw, are written as ``\\u`` escapes
(``json_bytes``): the same document, still valid JSON, and nothing a terminal acts on (orjson and the
server already escape C0).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx2
import orjson
from rich import box
from rich.console import (
    Console,
    ConsoleOptions,
    ConsoleRenderable,
    RenderableType,
    RenderHook,
    RenderResult,
)
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

from registrar.controls import escape_controls

from .client import Params, RegistrarClient, json_of

__all__ = [
    "STATUS_STYLES",
    "Column",
    "badge",
    "detail",
    "dig",
    "err_console",
    "json_bytes",
    "listing",
    "out_console",
    "print_document",
    "safe_text",
    "show",
    "show_list",
]

# Statuses of registry objects and event hooks, and System Log outcomes.
STATUS_STYLES = {
    "ACTIVE": "bold green",
    "INACTIVE": "bright_black",
    "INVALID": "bold red",
    "VERIFIED": "green",
    "UNVERIFIED": "yellow",
    "SUCCESS": "green",
    "FAILURE": "red",
    "DENY": "yellow",
    "ALLOW": "green",
}


PIPE_WIDTH = 200

# DEL and C1 (U+0080-U+009F: UTF-8 C2 80..C2 9F), which JSON strings may carry raw.
_RAW_CONTROLS = re.compile(rb"\x7f|\xc2[\x80-\x9f]")


def safe_text(value: object) -> str:
    """``value`` as text with its control characters visibly escaped: what a table cell or a line shows."""
    return escape_controls("" if value is None else str(value))


def json_bytes(data: bytes) -> bytes:
    """A JSON document with raw DEL and C1 characters written as ``\\u`` escapes (same value, valid JSON)."""
    return _RAW_CONTROLS.sub(lambda match: b"\\u%04x" % ord(match.group().decode()), data)


class _Escaped:
    """A renderable whose rendered text has its control characters escaped (rich's own codes kept)."""

    def __init__(self, renderable: ConsoleRenderable) -> None:
        self.renderable = renderable

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for segment in console.render(self.renderable, options):
            if segment.control:
                yield segment
            else:
                lines = segment.text.split("\n")
                text = "\n".join(escape_controls(line) for line in lines)
                yield segment if text == segment.text else Segment(text, segment.style)


class _EscapeHook(RenderHook):
    """The net under every print: server text that reached a renderable unescaped is escaped here."""

    def process_renderables(self, renderables: list[ConsoleRenderable]) -> list[ConsoleRenderable]:
        return [_Escaped(renderable) for renderable in renderables]


def _guarded(console: Console) -> Console:
    console.push_render_hook(_EscapeHook())
    return console


def out_console() -> Console:
    """A console on stdout (made per command, so it sees the terminal as it is now).

    Into a pipe or a file, rows get room to stay on one line (for ``grep``), unless ``COLUMNS`` says
    otherwise; on a terminal, its width.
    """
    console = Console(highlight=False, markup=False)  # server data is text, never markup
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = PIPE_WIDTH
    return _guarded(console)


def err_console() -> Console:
    """A console on stderr."""
    return _guarded(Console(stderr=True, highlight=False, markup=False, soft_wrap=True))


def badge(value: object) -> Text:
    """A status or outcome in its colour."""
    text = safe_text(value)
    return Text(text, style=STATUS_STYLES.get(text, ""))


def dig(item: Any, path: str) -> Any:
    """The value at a dotted ``path`` in nested mappings (``None`` where it stops)."""
    for part in path.split("."):
        if not isinstance(item, Mapping):
            return None
        item = item.get(part)
    return item


def _plain(value: Any) -> Text:
    if value is None or value == []:
        return Text("—", style="bright_black")
    if isinstance(value, list) and all(isinstance(v, str | int | float | bool) for v in value):
        return Text(safe_text(", ".join(str(v) for v in value)))
    if isinstance(value, Mapping | list):
        return Text(safe_text(orjson.dumps(value).decode()))
    return Text(safe_text(value))


def _cell(key: str, value: Any) -> Text:
    if key.rsplit(".", 1)[-1] in {"status", "verificationStatus", "result"}:
        return badge(value)
    return _plain(value)


def _flatten(obj: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in obj.items():
        if key.startswith("_"):  # _links and _embedded: navigation, shown separately if at all
            continue
        if isinstance(value, Mapping) and value:
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def detail(title: str, obj: Mapping[str, Any]) -> Table:
    """One object as a two-column table of its (dotted) fields."""
    table = Table(title=safe_text(title), title_justify="left", show_header=False, box=box.SIMPLE)
    table.add_column("field", style="bold", no_wrap=True)
    table.add_column("value", overflow="fold")
    for key, value in _flatten(obj):
        table.add_row(safe_text(key), _cell(key, value))
    return table


@dataclass(frozen=True, slots=True)
class Column:
    """A column of a list table: its header and the dotted path of the value in each item."""

    header: str
    path: str
    no_wrap: bool = False


def listing(title: str, columns: Sequence[Column], items: Iterable[Mapping[str, Any]]) -> Table:
    """Items as a table, statuses as badges."""
    table = Table(title=safe_text(title), title_justify="left", box=box.SIMPLE_HEAD)
    for column in columns:
        table.add_column(column.header, no_wrap=column.no_wrap, overflow="fold")
    for item in items:
        table.add_row(*(_cell(column.path, dig(item, column.path)) for column in columns))
    return table


def print_document(content: bytes) -> None:
    """Write a JSON document to stdout, newline-terminated, byte for byte but for ``json_bytes``."""
    data = json_bytes(content.rstrip(b"\n")) + b"\n"
    sys.stdout.flush()
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:  # a text-only stdout (an embedding application's)
        sys.stdout.write(data.decode())
    else:
        buffer.write(data)
        buffer.flush()


def show(response: httpx2.Response, as_json: bool, view: Callable[[Any], RenderableType]) -> None:
    """Print one object: the server's JSON, or ``view`` of it."""
    if as_json:
        print_document(response.content)
    else:
        out_console().print(view(json_of(response)))


def show_list(
    client: RegistrarClient,
    path: str,
    params: Params,
    *,
    as_json: bool,
    all_pages: bool,
    view: Callable[[list[Any]], RenderableType],
) -> None:
    """Print a registry list (``{data, _links}``), one page or, with ``all_pages``, every page."""
    items: list[Any] = []
    more = False
    for page in client.pages(path, params, follow=all_pages):
        if as_json and not all_pages:
            print_document(page.content)
            return
        document = json_of(page)
        items.extend(document.get("data", []))
        more = "next" in document.get("_links", {})
    if as_json:
        print_document(orjson.dumps({"data": items}))
        return
    out_console().print(view(items))
    if more:
        err_console().print("more on the next page: add --all to list everything", style="bright_black")
