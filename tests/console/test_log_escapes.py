"""The log viewer shows control characters visibly escaped (issue 11), whatever version wrote the event."""

from __future__ import annotations

import html
import re

import orjson
from sqlalchemy import Engine

from registrar.console._jsonview import visible_json

from ..events.legacy import TERMINAL_ATTACK, legacy_event
from .conftest import EMAIL, Console

RAW = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202e]")  # HTML keeps its TAB, LF, CR


def test_an_older_events_control_characters_are_shown_escaped(console: Console, engine: Engine) -> None:
    event = legacy_event(engine, EMAIL, TERMINAL_ATTACK)

    page = console.client.get("/system-log?range=1h")

    assert page.status_code == 200
    assert f'id="ev-{event["uuid"]}"' in page.text
    assert RAW.search(page.text) is None, [m.group() for m in RAW.finditer(page.text)]
    text = html.unescape(re.sub(r"<[^>]+>", "", page.text))
    # The row: the reason and the target's name, escaped as the CLI shows them.
    assert "reason \\x1b[2J\\x1b]0;pwned\\x07\\x9b31m\\u202eevil\\rfake" in text
    assert "legacy \\x1b[2J" in text
    # The JSON: still the event's JSON, every invisible character as a \u escape.
    assert '"displayName": "legacy \\u001b[2J\\u001b]0;pwned\\u0007\\u009b31m\\u202eevil\\rfake"' in text


def test_the_json_view_is_the_same_value() -> None:
    value = {"a": TERMINAL_ATTACK + "\x7f\u2028é"}
    shown = visible_json(value)
    assert orjson.loads(shown) == value
    assert RAW.search(shown) is None and "\u2028" not in shown and "é" in shown
