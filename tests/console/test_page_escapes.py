"""Every console page shows control characters as visible escapes (DESIGN.md invariant 9)."""

from __future__ import annotations

from registrar.console._web import templates


def test_a_value_with_terminal_escapes_is_shown_escaped() -> None:
    page = templates.env.from_string("<td>{{ name }}</td>").render(name="evil\x1b[2J\x9b0m\u202eend")
    assert page == "<td>evil\\x1b[2J\\x9b0m\\u202eend</td>"


def test_line_breaks_in_a_form_value_round_trip() -> None:
    page = templates.env.from_string("<textarea>{{ text }}</textarea>").render(text="one\ntwo\tthree\r")
    assert page == "<textarea>one\ntwo\tthree\r</textarea>"


def test_html_is_still_escaped_after_the_control_characters() -> None:
    page = templates.env.from_string("{{ v }}").render(v="<b>\x00</b>")
    assert page == "&lt;b&gt;\\x00&lt;/b&gt;"
