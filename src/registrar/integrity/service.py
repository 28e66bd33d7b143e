"""Entry points used by the jobs, the CLI and the API: one transaction each."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, select

from registrar.config import Settings
from registrar.crypto import read_key_file, swap_key_file, write_key_file
from registrar.ids import utcnow
from registrar.store.schema import log_head

from .checkpoints import Checkpoint, create_checkpoint
from .keys import PublishedKey, published_keys, retire_and_replace, to_ms
from .retention import purge
from .signing import Signer

__all__ = [
    "KeyRotationRefused",
    "Rotation",
    "checkpoint_now",
    "purge_now",
    "rotate_signing_key",
    "signer_for",
]

_SIGNERS: dict[tuple[object, ...], Signer] = {}
_SIGNERS_LOCK = threading.Lock()


class KeyRotationRefused(RuntimeError):
    """A rotation that this process cannot carry out as asked (the message says what to do instead)."""


def _file_stamp(path: Path) -> tuple[object, ...] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (path, st.st_dev, st.st_ino, st.st_mtime_ns, st.st_mode)


def signer_for(settings: Settings) -> Signer:
    """The checkpoint signer of these settings (the key file is loaded, or made with mode 0600, once).

    A key file is read again when it changes (a ``registrar keys rotate`` on this host), so a running
    server signs with the new key from its next checkpoint on, without a restart.
    """
    path = settings.signing_key_file
    stamp = ("env", settings.signing_key) if settings.signing_key else _file_stamp(path)
    signer = _SIGNERS.get(stamp) if stamp is not None else None
    if signer is None:
        signer = Signer.load(settings.signing_key, path)
        with _SIGNERS_LOCK:
            if len(_SIGNERS) > 64:
                _SIGNERS.clear()
            _SIGNERS[stamp or _file_stamp(path) or (path,)] = signer
    return signer


def checkpoint_now(
    engine: Engine, settings: Settings, org_id: str, *, min_interval_s: float = 0
) -> Checkpoint | None:
    """Sign the head now (or skip, when another replica signed less than ``min_interval_s`` ago)."""
    with engine.begin() as conn:
        return create_checkpoint(
            conn, signer_for(settings), org_id, min_interval_ms=int(min_interval_s * 1000)
        )


def purge_now(engine: Engine, settings: Settings, org_id: str) -> int:
    """Apply the retention policy now; returns the number of events removed."""
    with engine.begin() as conn:
        return purge(conn, signer_for(settings), org_id)


@dataclass(frozen=True, slots=True)
class Rotation:
    """What ``registrar keys rotate`` did: the retired key's final row and the new signer."""

    retired: PublishedKey
    current: Signer
    key_file: Path | None  # where the new seed was written; None when it must be handed to the operator
    resumed: bool = False  # True when this only finished a rotation interrupted after its commit


def rotate_signing_key(
    engine: Engine, settings: Settings, *, hand_over: Callable[[bytes], None] | None = None
) -> Rotation:
    """Retire the current signing key and publish a new one (the old public key stays published).

    With a key file, the new seed is written beside it first (``<file>.next``), the rotation committed,
    then the file swapped and the old seed's bytes overwritten. With ``REGISTRAR_SIGNING_KEY`` the seed
    cannot be rewritten: refused unless ``hand_over`` is given, which receives the new seed inside the
    rotation's transaction (if it raises, nothing is rotated): the operator puts it in
    ``REGISTRAR_SIGNING_KEY`` on every replica.
    """
    if settings.signing_key and hand_over is None:
        raise KeyRotationRefused(
            "the signing key comes from REGISTRAR_SIGNING_KEY, which `registrar keys rotate` cannot "
            "rewrite. Either run `registrar keys rotate --print-seed` and put the printed seed in "
            "REGISTRAR_SIGNING_KEY on every replica (it is shown once), or move the seed into a key file "
            f"(REGISTRAR_SIGNING_KEY_FILE, default {settings.signing_key_file}, mode 0600), unset "
            "REGISTRAR_SIGNING_KEY and rotate again"
        )
    if hand_over is not None and not settings.signing_key:
        raise KeyRotationRefused(
            f"the signing key is in {settings.signing_key_file}: rotation writes the new key there, so "
            "--print-seed (for REGISTRAR_SIGNING_KEY) would only copy a secret to the terminal"
        )
    old = signer_for(settings)
    if hand_over is not None:
        new, give = Signer.generate(), hand_over
        return Rotation(_commit(engine, old, new, lambda: give(new.seed)), new, None)
    key_file = settings.signing_key_file
    pending = key_file.with_name(f"{key_file.name}.next")
    resumed = _resume(engine, pending, key_file)
    if resumed is not None:
        return resumed
    new = Signer.generate()
    write_key_file(pending, new.seed)
    try:
        retired = _commit(engine, old, new)
    except BaseException:
        pending.unlink(missing_ok=True)
        raise
    swap_key_file(pending, key_file)
    return Rotation(retired, new, key_file)


def _commit(
    engine: Engine, old: Signer, new: Signer, before_commit: Callable[[], None] = lambda: None
) -> PublishedKey:
    with engine.begin() as conn:
        # The log head lock orders the rotation with every replica's checkpoint signing.
        conn.execute(select(log_head).where(log_head.c.singleton == 1).with_for_update()).one()
        retired = retire_and_replace(conn, old, new, to_ms(utcnow()))
        before_commit()
        return retired


def _resume(engine: Engine, pending: Path, key_file: Path) -> Rotation | None:
    """Finish a rotation that committed but crashed before the swap; drop one that never committed."""
    try:
        seed = read_key_file(pending)
    except FileNotFoundError:
        return None
    candidate = Signer(seed)
    with engine.connect() as conn:
        keys = published_keys(conn)
    current = next((key for key in keys if key.current), None)
    if current is None or current.key_id != candidate.key_id or len(keys) < 2:
        os.unlink(pending)
        return None
    swap_key_file(pending, key_file)
    return Rotation(keys[-2], candidate, key_file, resumed=True)
