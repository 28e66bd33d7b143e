"""The data directory: outside the work tree by default, 0700, every file in it 0600; exposed keys refused."""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from registrar.config import Settings
from registrar.crypto import load_key
from registrar.datadir import InsecureKeyFile
from registrar.integrity.service import signer_for

from .conftest import TEST_SECRET_KEY
from .live import free_port, registrar_command


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """Umask 0: files come out private because we ask for it, not because the umask happens to help."""
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def test_defaults_follow_xdg_then_home(tmp_path: Path) -> None:
    home = tmp_path / "home"
    settings = Settings.from_env({"HOME": str(home)})
    data = home / ".local" / "share" / "registrar"
    assert settings.data_dir == data
    assert settings.database_url == f"sqlite:///{data / 'registrar.db'}"
    assert settings.secret_key_file == data / "registrar.key"
    assert settings.signing_key_file == data / "registrar-signing.key"
    xdg = Settings.from_env({"HOME": str(home), "XDG_DATA_HOME": str(tmp_path / "xdg")})
    assert xdg.data_dir == tmp_path / "xdg" / "registrar"
    # A relative XDG_DATA_HOME is invalid by the spec and ignored.
    assert Settings.from_env({"HOME": str(home), "XDG_DATA_HOME": "rel"}).data_dir == data
    assert not home.exists()  # reading a given mapping creates nothing


def test_explicit_settings_win(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "HOME": str(tmp_path / "home"),
            "REGISTRAR_DATA_DIR": str(tmp_path / "data"),
            "REGISTRAR_SIGNING_KEY_FILE": str(tmp_path / "elsewhere" / "sign.key"),
        }
    )
    assert settings.data_dir == tmp_path / "data"
    assert settings.database_url == f"sqlite:///{tmp_path / 'data' / 'registrar.db'}"
    assert settings.secret_key_file == tmp_path / "data" / "registrar.key"
    assert settings.signing_key_file == tmp_path / "elsewhere" / "sign.key"
    other = Settings.from_env(
        {
            "REGISTRAR_DATA_DIR": str(tmp_path / "data"),
            "REGISTRAR_DATABASE_URL": "postgresql://db/registrar",
            "REGISTRAR_SECRET_KEY_FILE": str(tmp_path / "sealing.key"),
        }
    )
    assert other.database_url == "postgresql://db/registrar"
    assert other.secret_key_file == tmp_path / "sealing.key"
    assert Settings(data_dir=tmp_path).signing_key_file == tmp_path / "registrar-signing.key"


def test_a_starting_process_makes_the_data_dir_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, loose_umask: None
) -> None:
    for name in [n for n in os.environ if n.startswith("REGISTRAR_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    settings = Settings.from_env()
    data = tmp_path / "xdg" / "registrar"
    assert mode(data) == 0o700
    assert mode(data / "registrar.db") == 0o600  # before SQLite creates it 0644 (-wal/-shm copy it)
    load_key(None, settings.secret_key_file)
    signer_for(settings)
    assert {p.name: mode(p) for p in data.iterdir()} == {
        "registrar.db": 0o600,
        "registrar.key": 0o600,
        "registrar-signing.key": 0o600,
    }


def test_a_new_key_file_gets_a_private_directory(tmp_path: Path, loose_umask: None) -> None:
    key_file = tmp_path / "new" / "dir" / "registrar.key"
    load_key(None, key_file)
    assert (mode(key_file.parent), mode(key_file)) == (0o700, 0o600)


@pytest.mark.parametrize("loose", [0o644, 0o640, 0o604, 0o660, 0o606, 0o620])
def test_a_key_file_others_can_read_or_write_is_refused(tmp_path: Path, loose: int) -> None:
    sealing, signing = tmp_path / "registrar.key", tmp_path / "registrar-signing.key"
    load_key(None, sealing)
    load_key(None, signing)
    for path in (sealing, signing):
        path.chmod(loose)
    with pytest.raises(InsecureKeyFile, match=f"chmod 600 {sealing}"):
        load_key(None, sealing)
    with pytest.raises(InsecureKeyFile, match=f"{signing} has mode {loose:04o}"):
        signer_for(Settings(data_dir=tmp_path))


def test_private_key_files_are_accepted(tmp_path: Path) -> None:
    key_file = tmp_path / "registrar.key"
    key = load_key(None, key_file)
    key_file.chmod(0o400)
    assert load_key(None, key_file) == key


def test_serve_and_the_cli_refuse_an_exposed_key_file(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {"PATH": "/usr/bin:/bin", "REGISTRAR_DATA_DIR": str(data), "HOME": str(tmp_path)}
    subprocess.run(registrar_command("checkpoint"), env=env, cwd=tmp_path, capture_output=True, check=True)
    load_key(None, data / "registrar.key")
    for name in ("registrar-signing.key", "registrar.key"):
        (data / name).chmod(0o644)
        command = "verify" if name == "registrar-signing.key" else "serve"
        # serve exits before it listens: the key is read while the app is built.
        result = subprocess.run(
            registrar_command(command, *(["--port", str(free_port())] if command == "serve" else [])),
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 2, result.stderr
        assert f"chmod 600 {data / name}" in result.stderr
        assert "Traceback" not in result.stderr
        (data / name).chmod(0o600)


def test_settings_repr_hides_the_keys() -> None:
    text = repr(Settings(secret_key=TEST_SECRET_KEY, signing_key="c2VlZA=="))
    assert TEST_SECRET_KEY not in text and "c2VlZA==" not in text
