"""The lockfiles the README's commands install from are in step with ``pyproject.toml``.

``requirements.lock`` pins the runtime dependencies, ``requirements-dev.lock`` the runtime ones and the
``dev`` extra; ``scripts/serve`` and ``scripts/test`` install them with hashes, then the project with
``--no-deps``. So a dependency added to ``pyproject.toml`` (or a specifier tightened) without re-locking
would be missing from every fresh install: these tests fail instead, naming the command that re-locks.
"""

from __future__ import annotations

import importlib.metadata
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
RELOCK = 'see "Installing and upgrading dependencies" in README.md to re-lock'

# A pin starts a line: ``name==version \`` (its hashes and ``# via`` lines are indented below it).
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s\\;]+)")


def _requirements(*, dev: bool) -> list[Requirement]:
    with (ROOT / "pyproject.toml").open("rb") as f:
        project: dict[str, Any] = tomllib.load(f)["project"]
    names: list[str] = project["dependencies"] + (project["optional-dependencies"]["dev"] if dev else [])
    return [Requirement(name) for name in names]


def _pins(lock: str) -> dict[NormalizedName, Version]:
    pins: dict[NormalizedName, Version] = {}
    for line in (ROOT / lock).read_text().splitlines():
        if match := PIN.match(line):
            pins[canonicalize_name(match["name"])] = Version(match["version"])
    return pins


def _applies(req: Requirement, extras: frozenset[str] = frozenset({""})) -> bool:
    """Whether ``req`` is needed on the platform the locks are made for (this one: Python 3.11, Linux)."""
    if req.marker is None:
        return True
    return any(req.marker.evaluate({"extra": extra}) for extra in extras)


LOCKS = [
    pytest.param("requirements.lock", False, id="runtime"),
    pytest.param("requirements-dev.lock", True, id="dev"),
]


@pytest.mark.parametrize(("lock", "dev"), LOCKS)
def test_every_dependency_of_pyproject_is_pinned_within_its_specifier(lock: str, dev: bool) -> None:
    pins = _pins(lock)
    problems = []
    for req in _requirements(dev=dev):
        if not _applies(req):
            continue
        pinned = pins.get(canonicalize_name(req.name))
        if pinned is None:
            problems.append(f"{req} is not in {lock}")
        elif not req.specifier.contains(pinned, prereleases=True):
            problems.append(f"{req} but {lock} pins {pinned}")
    assert not problems, f"{lock} is out of step with pyproject.toml ({RELOCK}): " + "; ".join(problems)


@pytest.mark.parametrize(("lock", "dev"), LOCKS)
def test_the_lock_holds_what_the_installed_dependencies_require(lock: str, dev: bool) -> None:
    """Walks the dependency closure through the metadata of what is installed (from the lock itself)."""
    pins = _pins(lock)
    missing: list[str] = []
    todo = [(req, frozenset({""})) for req in _requirements(dev=dev) if _applies(req)]
    seen: set[tuple[NormalizedName, frozenset[str]]] = set()
    while todo:
        req, parent_extras = todo.pop()
        name = canonicalize_name(req.name)
        if not _applies(req, parent_extras) or (name, frozenset(req.extras)) in seen:
            continue
        seen.add((name, frozenset(req.extras)))
        if name not in pins:
            missing.append(str(req))
            continue
        try:
            requires = importlib.metadata.distribution(name).requires or []
        except importlib.metadata.PackageNotFoundError:
            continue  # not installed here (a runtime-only venv walking the dev lock): nothing to read
        extras = frozenset({"", *req.extras})
        todo += [(Requirement(dep), extras) for dep in requires]
    assert not missing, f"{lock} lacks {', '.join(sorted(missing))} ({RELOCK})"


def test_the_dev_lock_pins_the_runtime_lock_as_it_is() -> None:
    runtime, dev = _pins("requirements.lock"), _pins("requirements-dev.lock")
    differing = {
        name: (version, dev.get(name)) for name, version in runtime.items() if dev.get(name) != version
    }
    assert not differing, f"requirements-dev.lock pins the runtime differently ({RELOCK}): {differing}"


@pytest.mark.parametrize("lock", ["requirements.lock", "requirements-dev.lock"])
def test_the_lock_is_portable_and_fully_hashed(lock: str) -> None:
    """Every pin carries hashes (pip's hash-checking mode refuses a lock where one lacks them), and no
    index, link or path of the machine that made the lock is baked in: pip's own configuration decides."""
    text = (ROOT / lock).read_text()
    header = [line for line in text.splitlines() if line.startswith("#")][:6]
    assert any(line.startswith("#    pip-compile ") for line in header), (
        "the header names how to regenerate it"
    )
    blocks = re.split(r"\n(?=\S)", text)
    unhashed = [b.split()[0] for b in blocks if PIN.match(b) and "--hash=sha256:" not in b]
    assert not unhashed, f"{lock}: pins without hashes: {unhashed}"
    options = [line for line in text.splitlines() if line.startswith("-") or "file:" in line]
    assert not options, f"{lock}: machine-specific options: {options}"
