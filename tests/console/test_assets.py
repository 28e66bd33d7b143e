"""The vendored browser libraries are the files the vendor README and the npm lockfile name."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import registrar.console

VENDOR = Path(registrar.console.__file__).parent / "static" / "vendor"


def test_vendored_files_match_their_readme_and_lockfile() -> None:
    readme = (VENDOR / "README.md").read_text()
    lock = json.loads((VENDOR / "package-lock.json").read_text())["packages"]
    rows = re.findall(
        r"^\| `([^`]+)` \| `([^`]+)`[^|]*\| ([0-9.]+) \|[^|]*\| `([0-9a-f]{64})` \|$", readme, re.M
    )
    assert {name for name, *_ in rows} == {"htmx.min.js", "chart.umd.min.js"}
    for name, package, version, digest in rows:
        data = (VENDOR / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == digest, name
        assert lock[f"node_modules/{package}"]["version"] == version, name
    assert (
        b"Chart.js v" + lock["node_modules/chart.js"]["version"].encode()
        in (VENDOR / "chart.umd.min.js").read_bytes()
    )
    assert (VENDOR / "htmx.LICENSE.txt").is_file()
    assert (VENDOR / "chart.js.LICENSE.md").is_file()
    assert (VENDOR / "kurkle-color.LICENSE.md").is_file()
