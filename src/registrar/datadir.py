"""The data directory: where one installation keeps its database and keys, private to its user.

The default lies outside any work tree (``$XDG_DATA_HOME/registrar``, else ``~/.local/share/registrar``),
so running Registrar from a clone never leaves a key or a database where ``git add`` could pick it up.
The directory is created with mode 0700 and every file in it with mode 0600.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Mapping
from pathlib import Path

from sqlalchemy.engine import make_url

__all__ = [
    "InsecureKeyFile",
    "default_data_dir",
    "ensure_private_dir",
    "prepare_sqlite_file",
    "require_private",
]


class InsecureKeyFile(PermissionError):
    """A key file that users other than its owner may read or write: Registrar will not use it."""

    def __init__(self, path: Path, mode: int):
        self.path = path
        super().__init__(
            f"key file {path} has mode {mode:04o}: group or others may read or write it, so the key may "
            f"already be known to someone else. Run `chmod 600 {path}` (and consider `registrar keys "
            "rotate` for the signing key) before starting Registrar."
        )


def default_data_dir(env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_DATA_HOME/registrar`` when that is an absolute path, else ``~/.local/share/registrar``."""
    env = os.environ if env is None else env
    xdg = (env.get("XDG_DATA_HOME") or "").strip()
    # The XDG spec says relative values are invalid and must be ignored.
    if xdg and Path(xdg).is_absolute():
        return Path(xdg) / "registrar"
    home = (env.get("HOME") or "").strip()
    return (Path(home) if home else Path.home()) / ".local" / "share" / "registrar"


def ensure_private_dir(path: Path) -> None:
    """Create ``path`` (and missing parents) with mode 0700; an existing directory is left as it is."""
    if path.is_dir():
        return
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    # mkdir's mode is filtered by the umask; a umask never widens 0700, but say exactly what we mean.
    path.chmod(0o700)


def require_private(path: Path, fd: int) -> None:
    """Raise :class:`InsecureKeyFile` when the open file ``fd`` (at ``path``) is group/other accessible."""
    mode = stat.S_IMODE(os.fstat(fd).st_mode)
    if mode & 0o077:
        raise InsecureKeyFile(path, mode)


def prepare_sqlite_file(database_url: str) -> None:
    """Create an SQLite database file with mode 0600 before SQLite does (its -wal/-shm files copy it).

    SQLite creates files 0644 (less the umask); an empty file is a valid empty database. Only files whose
    directory exists are created here: a wrong path should still fail with SQLite's own message.
    """
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return
    path = Path(url.database)
    if not path.parent.is_dir():
        return
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
