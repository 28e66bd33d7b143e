"""Every console page shows control characters as visible escapes (DESIGN.md invariant 9), and HTML in
remote values (metadata, agent cards, tool definitions, capability names) as text: autoescape, no
``|safe``, on every kind's pages."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from registrar.capabilities import ToolDefinition
from registrar.console._kinds import views
from registrar.console._web import templates
from registrar.domain.a2a import AgentCardMetadata
from registrar.domain.mcp import AuthServerMetadata, ResourceMetadata
from registrar.domain.resources import AuthServer, EnteredEndpoints, ResourceServer
from registrar.ids import new_id
from registrar.kinds import KINDS
from registrar.services.capabilities_store import (
    FAILED,
    PRESENT,
    StoredTool,
    ToolDiscovery,
    save_discovery,
    save_tool,
)
from registrar.store import repositories as repo
from registrar.store.schema import virtual_capabilities

from .conftest import Console


def test_a_value_with_terminal_escapes_is_shown_escaped() -> None:
    page = templates.env.from_string("<td>{{ name }}</td>").render(name="evil\x1b[2J\x9b0m\u202eend")
    assert page == "<td>evil\\x1b[2J\\x9b0m\\u202eend</td>"


def test_line_breaks_in_a_form_value_round_trip() -> None:
    page = templates.env.from_string("<textarea>{{ text }}</textarea>").render(text="one\ntwo\tthree\r")
    assert page == "<textarea>one\ntwo\tthree\r</textarea>"


def test_html_is_still_escaped_after_the_control_characters() -> None:
    page = templates.env.from_string("{{ v }}").render(v="<b>\x00</b>")
    assert page == "&lt;b&gt;\\x00&lt;/b&gt;"


# --- every kind's pages, with hostile values stored as a remote server (or an older version) left them ---

_HTML = '<script>alert("x")</script><img src=x onerror=alert(1)>'
_HTML_SHOWN = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"
# (stored, shown): HTML alone (which a `|safe` would let through), and HTML with terminal escapes.
HOSTILE = {
    "html": (_HTML, _HTML_SHOWN),
    "controls": (_HTML + "\x1b[2J\x9b31m\u202eevil", _HTML_SHOWN + "\\x1b[2J\\x9b31m\\u202eevil"),
}
RAW = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202e]")  # HTML keeps its TAB, LF and CR
VIEWS = {view.key: view for view in views()}


def _stored(engine: Engine, key: str, value: str) -> str:
    """A server of the kind ``key`` whose every remote value is ``value``; returns its id."""
    kind = KINDS[key]
    server_id = new_id(kind.id_prefix)
    detected: Any = kind.nothing_detected()
    if key == "mcp":
        detected = ResourceMetadata(value, (value,))
    elif key == "a2a":
        detected = AgentCardMetadata.from_json(
            {"name": value, "description": value, "version": value, "url": value,
             "securitySchemes": [value], "cardUrl": value, "skillsCount": 1}
        )  # fmt: skip
    url = None if key == "vmcp" else f"https://hostile.example.com/{value}"
    server = ResourceServer(server_id, url, value, value, "INACTIVE", detected, 1, 1, 1)
    if kind.auth_add == "entered":
        metadata: Any = EnteredEndpoints(value, value, (value,))
    else:
        metadata = AuthServerMetadata(value, value, (value,), (value,))
    with engine.begin() as conn:
        repo.insert_server(conn, kind, server)
        repo.insert_auth_server(conn, AuthServer(new_id("eas"), server_id, value, "ACTIVE", metadata, 1, 1))
        if key == "mcp":
            schema = {"type": "object", "description": value}
            definition = ToolDefinition(value, value, value, schema, None, {"title": value}, "f" * 64)
            save_tool(conn, StoredTool(new_id("emt"), server_id, definition, PRESENT, 1, 1, 2), new=True)
            failed = ToolDiscovery(new_id("emd"), server_id, new_id("cas"), FAILED, 1, 2, None, value)
            save_discovery(conn, failed)
        if key == "vmcp":
            repo.insert_row(
                conn,
                virtual_capabilities,
                {"id": new_id("vcp"), "virtual_server_id": server_id, "source_server_id": new_id("mcp"),
                 "tool_name": value, "status": "MISSING", "created_ms": 1, "last_updated_ms": 1},
            )  # fmt: skip
    return server_id


@pytest.mark.parametrize("hostile", list(HOSTILE))
@pytest.mark.parametrize("key", list(VIEWS))
def test_every_kinds_pages_show_remote_values_escaped(
    key: str, hostile: str, console: Console, engine: Engine
) -> None:
    view = VIEWS[key]
    stored, shown = HOSTILE[hostile]
    server_id = _stored(engine, key, stored)
    paths = [view.base, f"{view.base}/{server_id}", f"{view.base}/{server_id}/confirm/delete"]
    if view.kind.auth_remove:
        auth_id = re.findall(r'id="as-(eas\w+)"', console.client.get(f"{view.base}/{server_id}").text)[0]
        paths.append(f"{view.base}/{server_id}/authorization-servers/{auth_id}/confirm-remove")
    for path in paths:
        page = console.client.get(path)
        assert page.status_code == 200, path
        assert RAW.search(page.text) is None, (path, [m.group() for m in RAW.finditer(page.text)])
        assert "<script>alert" not in page.text and "<img src=x" not in page.text, path
        assert shown in page.text, path
    detail = console.client.get(f"{view.base}/{server_id}").text
    # Each remote value is shown (escaped) where the kind's page shows it.
    assert detail.count(shown) == {"api": 14, "mcp": 18, "a2a": 18, "vmcp": 13}[key]


def test_no_console_template_marks_a_value_safe() -> None:
    folder = Path(templates.env.loader.searchpath[0])  # type: ignore[union-attr]
    marked = [
        p.name for p in folder.rglob("*.html") if re.search(r"\|\s*safe\b|autoescape\s+false", p.read_text())
    ]
    assert marked == []
