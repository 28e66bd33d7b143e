"""A real PostgreSQL streaming replica of the test server, for the read-replica tests.

``pg_basebackup -R`` copies the test server's cluster into a temporary directory and the copy is started
as a hot standby on a free port, streaming from the test server. PostgreSQL refuses to run as root, so
when the tests run as root the copy belongs to, and runs as, the ``postgres`` OS user.

The test server may not allow replication connections (its ``pg_hba.conf`` names databases only): then
one ``host replication`` line for loopback is added for as long as the copy takes, and removed again once
the standby streams (an established replication connection is not re-checked). Setting up is serialized
across the pytest workers of one machine by a lock file, so one worker never removes the line another one
is about to use.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

__all__ = ["Standby", "StandbyUnavailable", "running_standby"]

_SETUP_LOCK = Path(tempfile.gettempdir()) / "registrar-tests-standby.lock"
_GRANT = "host replication postgres 127.0.0.1/32 trust  # registrar tests: pg_basebackup (removed after)"
# Settings a hot standby must have at least as high as its primary (it refuses to start otherwise).
_AT_LEAST_PRIMARY = (
    "max_connections",
    "max_worker_processes",
    "max_wal_senders",
    "max_prepared_transactions",
    "max_locks_per_transaction",
)


class StandbyUnavailable(Exception):
    """This machine cannot run a standby of the test server (not local, no binaries, not allowed)."""


@dataclass
class Standby:
    """A running hot standby: where it listens and what it runs from."""

    port: int
    directory: Path

    def url(self, primary_url: str) -> str:
        """``primary_url`` (a database on the test server) as the same database on this standby."""
        return str(make_url(primary_url).set(port=self.port).render_as_string(hide_password=False))


def _as_postgres(*command: str) -> list[str]:
    """``command`` run as the ``postgres`` OS user (PostgreSQL will not run as root)."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else list(command)


def _run(*command: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _as_postgres(*command), capture_output=True, text=True, timeout=timeout, check=False
    )


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise StandbyUnavailable(f"{name} is not on PATH")
    return found


def _free_port() -> int:
    # The kernel picks one that nothing listens on right now.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def _setup_lock() -> Iterator[None]:
    with _SETUP_LOCK.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _settings(admin: Engine, names: tuple[str, ...]) -> dict[str, str]:
    with admin.connect() as conn:
        rows = conn.execute(
            text("SELECT name, setting FROM pg_settings WHERE name = ANY(:names)"), {"names": list(names)}
        )
        return {str(name): str(value) for name, value in rows}


def _replication_allowed(hba_text: str) -> bool:
    ours = _GRANT.split("#", 1)[0].split()
    for line in hba_text.splitlines():
        fields = line.split("#", 1)[0].split()
        # Our own line, left behind by a run that was killed, does not count: it is removed again.
        if len(fields) >= 2 and "replication" in fields[1].split(",") and fields != ours:
            return True
    return False


@contextmanager
def _replication_granted(admin: Engine) -> Iterator[None]:
    """Replication from loopback allowed while the body runs (added to pg_hba.conf if it was not)."""
    hba = Path(_settings(admin, ("hba_file",))["hba_file"])
    before = hba.read_text()
    if _replication_allowed(before):
        yield
        return
    if not os.access(hba, os.W_OK):
        raise StandbyUnavailable(f"{hba} allows no replication connection and is not writable here")
    original = "".join(line for line in before.splitlines(keepends=True) if line.rstrip("\n") != _GRANT)
    hba.write_text(original + ("" if original.endswith("\n") or not original else "\n") + _GRANT + "\n")
    _reload(admin)
    try:
        yield
    finally:
        hba.write_text(original)
        _reload(admin)


def _reload(admin: Engine) -> None:
    with admin.connect() as conn:
        conn.execute(text("SELECT pg_reload_conf()"))


def _base_backup(data: Path, host: str, port: int) -> None:
    command = (_tool("pg_basebackup"), "-h", host, "-p", str(port), "-U", "postgres", "-D", str(data))
    deadline = time.monotonic() + 15
    while True:  # a reload reaches the server's pg_hba.conf a moment after pg_reload_conf() returns
        done = _run(*command, "-R", "-X", "stream", "-c", "fast")
        if done.returncode == 0:
            return
        if "pg_hba.conf" not in done.stderr or time.monotonic() > deadline:
            raise RuntimeError(f"pg_basebackup failed: {done.stderr.strip()}")
        shutil.rmtree(data, ignore_errors=True)
        time.sleep(0.2)


def _configure(data: Path, port: int, socket_dir: Path, limits: dict[str, str]) -> None:
    lines = [
        f"port = {port}",
        "listen_addresses = '127.0.0.1'",
        f"unix_socket_directories = '{socket_dir}'",
        "hot_standby = on",
        "shared_buffers = 32MB",
        "fsync = off",  # a throwaway copy
        "max_standby_streaming_delay = 5s",  # replay waits at most this long for a conflicting query
        *(f"{name} = {value}" for name, value in limits.items()),
    ]
    (data / "postgresql.conf").write_text("\n".join(lines) + "\n")
    (data / "pg_hba.conf").write_text("local all all trust\nhost all all 127.0.0.1/32 trust\n")
    (data / "pg_ident.conf").write_text("")


def _wait_streaming(url: str, log: Path, deadline: float) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        while True:
            try:
                with engine.connect() as conn:
                    status = conn.execute(text("SELECT status FROM pg_stat_wal_receiver")).scalar()
                if status == "streaming":
                    return
            except Exception:  # noqa: BLE001, S110 - starting up: not accepting connections yet
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the standby did not start streaming:\n{log.read_text(errors='replace')}")
            time.sleep(0.1)
    finally:
        engine.dispose()


@contextmanager
def running_standby(admin_url: str) -> Iterator[Standby]:
    """A hot standby of the server ``admin_url`` (a superuser, trust auth, on loopback) until exit."""
    parsed = make_url(admin_url)
    host, primary_port = parsed.host or "127.0.0.1", parsed.port or 5432
    if host not in {"127.0.0.1", "localhost"}:
        raise StandbyUnavailable(f"the test server at {host} is not on this machine")
    pg_ctl = _tool("pg_ctl")
    if os.geteuid() == 0:
        _tool("runuser")
    directory = Path(tempfile.mkdtemp(prefix="registrar-standby-"))
    data = directory / "data"
    log = directory / "standby.log"
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    directory.chmod(0o700)
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    started = False
    try:
        port = _free_port()
        with _setup_lock():
            limits = _settings(admin, _AT_LEAST_PRIMARY)
            with _replication_granted(admin):
                _base_backup(data, host, primary_port)
                _configure(data, port, directory, limits)
                if os.geteuid() == 0:  # written by root: postgres must own its data directory's files
                    for path in (data / "postgresql.conf", data / "pg_hba.conf", data / "pg_ident.conf"):
                        shutil.chown(path, "postgres", "postgres")
                done = _run(pg_ctl, "-D", str(data), "-l", str(log), "-w", "-t", "60", "start")
                started = done.returncode == 0
                if not started:
                    output = log.read_text(errors="replace") if log.exists() else ""
                    raise RuntimeError(f"pg_ctl start failed: {done.stdout}{done.stderr}\n{output}")
                standby_url = str(
                    parsed.set(host="127.0.0.1", port=port).render_as_string(hide_password=False)
                )
                _wait_streaming(standby_url, log, time.monotonic() + 60)
        yield Standby(port, directory)
    finally:
        admin.dispose()
        if started:
            _run(pg_ctl, "-D", str(data), "-m", "fast", "-w", "-t", "60", "stop")
        shutil.rmtree(directory, ignore_errors=True)
