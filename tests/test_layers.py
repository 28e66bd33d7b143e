"""Lower layers never import higher ones: every ``import`` in ``src/registrar`` read with ``ast``.

The table is the layer order of the design ("Layers"): a module may import its own layer and the layers
below it. Every import counts, also one inside a function or under ``TYPE_CHECKING``: a deferred import
still reaches up. A module that the table does not place fails the test, so the table stays complete.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import registrar

ROOT = Path(registrar.__file__).parent

# Lowest first. Names are relative to ``registrar``; the longest name that prefixes a module places it, so
# a package's self-contained submodules (the transparency log's formats) can sit below the package.
LAYERS: tuple[tuple[str, ...], ...] = (
    # Foundations: identifiers, the one error tree, scopes, parameters, control characters, files, keys, and
    # the log's pure formats (Merkle tree math, tile layout and paths, signed notes).
    (
        "ids",
        "errors",
        "scopes",
        "params",
        "controls",
        "datadir",
        "crypto",
        "tlog._tree",
        "tlog._layout",
        "tlog._tiles",
        "tlog._note",
    ),
    ("config",),
    ("domain",),
    # Below events: an event is built from a request context, and the issue names context -> events as
    # the direction that runs against the layering (the design's list has the two the other way round).
    ("context",),
    ("events",),
    ("store",),
    ("syslog",),
    # outbound: bounded HTTP calls through discovery's SSRF guard, for hooks and witnesses.
    ("discovery", "capabilities", "kinds", "outbound"),
    # oauth: the org authorization server (service apps' assertions, access tokens), beside the services.
    ("services", "tlog", "integrity", "exports", "oauth"),
    ("hooks",),  # below jobs, which schedule the deliveries
    ("jobs",),
    ("api", "console", "cli", "__main__"),
)

RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}


def module_name(path: Path) -> str:
    """``registrar.a.b`` for ``a/b.py`` and ``a/b/__init__.py``."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(("registrar", *parts))


def is_module(name: str) -> bool:
    relative = Path(*name.split(".")[1:])
    return (ROOT / relative).with_suffix(".py").is_file() or (ROOT / relative / "__init__.py").is_file()


def imported(path: Path) -> Iterator[tuple[int, str]]:
    """The ``registrar`` modules that ``path`` imports, with the line of each import."""
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    seen: set[tuple[int, str]] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                # ``from registrar.tlog import _tree`` imports the submodule, not just the package.
                target = f"{base}.{alias.name}" if is_module(f"{base}.{alias.name}") else base
                if (node.lineno, target) not in seen:
                    seen.add((node.lineno, target))
                    yield node.lineno, target


def layer(module: str) -> str | None:
    """The table entry placing ``module`` (the longest one that prefixes it), or None."""
    parts = module.split(".")[1:]
    for size in range(len(parts), 0, -1):
        name = ".".join(parts[:size])
        if name in RANK:
            return name
    return None


def violations() -> tuple[list[str], list[str]]:
    """(imports reaching up, modules the table does not place)."""
    upward: list[str] = []
    unplaced: set[str] = set()
    for path in sorted(ROOT.rglob("*.py")):
        source = module_name(path)
        if source == "registrar":
            continue  # the top package's own ``__init__`` is outside every layer
        source_layer = layer(source)
        if source_layer is None:
            unplaced.add(source)
            continue
        for line, target in imported(path):
            if target != "registrar" and not target.startswith("registrar."):
                continue
            target_layer = layer(target)
            if target_layer is None:
                unplaced.add(target)
            elif RANK[target_layer] > RANK[source_layer]:
                where = path.relative_to(ROOT.parent)
                upward.append(f"{where}:{line}: {source_layer} imports {target} ({target_layer}, higher)")
    return upward, sorted(unplaced)


def test_no_layer_imports_a_higher_one() -> None:
    upward, _ = violations()
    assert not upward, "imports against the layering:\n" + "\n".join(upward)


def test_every_module_has_a_layer() -> None:
    _, unplaced = violations()
    assert not unplaced, "not in LAYERS (add them to the table):\n" + "\n".join(unplaced)


def test_the_table_names_no_module_twice() -> None:
    names = [name for names in LAYERS for name in names]
    assert len(names) == len(set(names))
