"""``registrar keys``: the checkpoint signing keys (rotate, list). Works on the database directly.

``rotate`` retires the current key and publishes a new one; every old public key stays published with its
validity period, so checkpoints signed before the rotation still verify. With a key file (the default, in
the data directory) the new seed replaces the old one there and the old seed's bytes are overwritten.
With ``REGISTRAR_SIGNING_KEY`` the seed cannot be rewritten, so rotation is refused unless
``--print-seed`` is given: the new seed is then printed, alone, on stdout (once) for the operator to put in
``REGISTRAR_SIGNING_KEY`` on every replica. Replicas still holding the old key refuse to sign until then.
"""

from __future__ import annotations

import base64
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from registrar.config import Settings
from registrar.ids import format_timestamp
from registrar.integrity.keys import from_ms, published_keys
from registrar.integrity.service import KeyRotationRefused, rotate_signing_key

from .database import database

__all__ = ["keys"]

keys = typer.Typer(no_args_is_help=True, help="Checkpoint signing keys.")
err = Console(stderr=True)
out = Console()


@keys.command("rotate")
def rotate(
    print_seed: Annotated[
        bool,
        typer.Option(
            "--print-seed",
            help="With REGISTRAR_SIGNING_KEY: print the new seed on stdout (once) for you to install.",
        ),
    ] = False,
) -> None:
    """Retire the signing key and make a new one; old public keys stay published with their periods."""
    settings = Settings.from_env()
    try:
        with database(settings) as engine:
            rotation = rotate_signing_key(engine, settings, hand_over=_print_seed if print_seed else None)
    except KeyRotationRefused as refused:
        err.print(f"[red]error:[/] {refused}", highlight=False)
        raise typer.Exit(2) from None
    retired = rotation.retired
    if rotation.resumed:
        err.print(
            f"finished an interrupted rotation: {rotation.key_file} now holds key {rotation.current.key_id}"
        )
        return
    err.print(
        f"retired signing key {retired.key_id} ({retired.period()}); "
        f"new signing key {rotation.current.key_id} from "
        f"{format_timestamp(from_ms(retired.not_after_ms or 0))}",
        highlight=False,
    )
    if rotation.key_file is not None:
        err.print(f"the new seed is in {rotation.key_file}; the old one was overwritten", highlight=False)
        return
    err.print(
        "put the seed printed on stdout in REGISTRAR_SIGNING_KEY on every replica and restart them: it is "
        "not stored anywhere and is not shown again; until then they refuse to sign checkpoints",
        highlight=False,
    )


def _print_seed(seed: bytes) -> None:
    """Hand the new seed over before the rotation commits: if stdout fails, nothing is rotated."""
    sys.stdout.write(base64.b64encode(seed).decode() + "\n")
    sys.stdout.flush()


@keys.command("list")
def list_keys() -> None:
    """The published signing keys, current first, with their validity periods."""
    with database() as engine, engine.connect() as conn:
        published = published_keys(conn)
    table = Table("key id", "algorithm", "valid", "public key")
    for key in reversed(published):
        table.add_row(key.key_id, key.algorithm, key.period(), key.public_key)
    out.print(table)
