"""``registrar.exports`` exposes exactly what its ``__all__`` lists; everything else is private."""

from __future__ import annotations

import registrar.exports as exports


def test_all_lists_the_public_names() -> None:
    public = [name for name in vars(exports) if not name.startswith("_")]
    assert sorted(exports.__all__) == sorted(public)
