"""The discovery package's public surface is exactly its ``__all__``; the modules behind it stay private."""

from __future__ import annotations

import types

import registrar.discovery as discovery


def test_all_lists_the_public_names() -> None:
    public = sorted(
        name
        for name, value in vars(discovery).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    )
    assert public == sorted(discovery.__all__)


def test_the_implementation_modules_are_private() -> None:
    modules = [name for name, value in vars(discovery).items() if isinstance(value, types.ModuleType)]
    assert modules and all(name.startswith("_") for name in modules)
