"""Every test has a time limit: a hang fails that test, its fixtures still tear down, and the run goes on.

The limit comes from ``[tool.pytest.ini_options]`` (pytest-timeout, ``signal`` method); tests that need
longer say so with ``@pytest.mark.timeout``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

_HANGING = """
import threading
from pathlib import Path

import pytest


@pytest.fixture
def server(tmp_path_factory):
    yield
    Path({marker!r}).write_text("stopped")  # what a live-server fixture does: stop its process


def test_polls_forever(server):
    threading.Event().wait()  # a poller whose cursor never catches up


def test_after_the_hang():
    pass
"""


def test_the_suite_has_a_default_time_limit_per_test(request: pytest.FixtureRequest) -> None:
    assert float(request.config.getini("timeout")) > 0
    assert request.config.getini("timeout_method") == "signal"


def test_a_hanging_test_fails_its_fixtures_tear_down_and_the_run_goes_on(tmp_path: Path) -> None:
    marker = tmp_path / "torn-down"
    test_file = tmp_path / "test_hanging.py"
    test_file.write_text(_HANGING.format(marker=str(marker)))
    ini = str(ROOT / "pyproject.toml")
    options = ["-p", "no:cacheprovider", "-o", "timeout=1", "-q"]
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-c", ini, "--rootdir", str(tmp_path), *options, str(test_file)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert "Failed: Timeout (>1.0s) from pytest-timeout" in run.stdout
    assert "1 failed, 1 passed" in run.stdout
    assert marker.read_text() == "stopped"
