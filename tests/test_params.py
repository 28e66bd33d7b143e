"""``ascii_int``: only ASCII digits make a number (headers, CLI arguments), whatever ``str.isdigit`` says."""

from __future__ import annotations

import pytest

from registrar.params import ascii_int


@pytest.mark.parametrize("raw", ["²", "\u0661\u0660", " 7", "7 ", "1_0", "+5", "-1", "", "1" * 20, "7\n"])
def test_anything_but_ascii_digits_is_no_number(raw: str) -> None:
    assert ascii_int(raw) is None


def test_ascii_digits_are_a_number() -> None:
    assert ascii_int("0") == 0
    assert ascii_int("9" * 19) == int("9" * 19)
