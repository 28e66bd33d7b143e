"""``registrar verify``, ``registrar checkpoint``, ``registrar purge`` and ``registrar retention``.

Maintenance commands: they work on the database directly (``REGISTRAR_DATABASE_URL``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy import Connection, Engine, func, select

from registrar.config import Settings
from registrar.errors import RegistrarError
from registrar.integrity.freshness import checkpoint_freshness
from registrar.integrity.keys import SigningKeyRefused
from registrar.integrity.reconcile import reconcile as reconcile_state
from registrar.integrity.retention import get_policy, set_policy
from registrar.integrity.service import checkpoint_now, purge_now, signer_for
from registrar.integrity.signing import key_id_of
from registrar.integrity.verify import Finding, verification_keys, verify_derived, verify_log
from registrar.jobs.tlog_checkpoints import checkpoint_tree
from registrar.params import ascii_int
from registrar.store.repositories import org_id
from registrar.store.schema import log_events
from registrar.syslog.timeparse import parse_timestamp
from registrar.tlog import CheckpointRefused

from .database import database
from .options import TokenOption
from .verify_remote import run_remote

__all__ = ["register"]

err = Console(stderr=True)
# Verification output is evidence: never wrapped, cut or put in cells (a finding must copy whole).
out = Console(soft_wrap=True)


def _since_seq(conn: Connection, since: str | None) -> int | None:
    if since is None:
        return None
    if (seq := ascii_int(since)) is not None:
        return seq
    moment = parse_timestamp(since)
    if moment is None:
        err.print(f"[red]error:[/] --since must be a sequence number or an ISO 8601 timestamp, not {since!r}")
        raise typer.Exit(2)
    seq = conn.execute(
        select(func.min(log_events.c.seq)).where(log_events.c.published_ms >= int(moment.timestamp() * 1000))
    ).scalar()
    return int(seq) if seq is not None else None


def verify(
    since: Annotated[str | None, typer.Option(help="Start at this sequence number or timestamp.")] = None,
    key: Annotated[
        str | None,
        typer.Option(
            help="Public key (base64) to trust, current or retired; default this host's signing key. "
            "With --remote: a signed-note verifier key to pin."
        ),
    ] = None,
    reconcile: Annotated[
        bool,
        typer.Option("--reconcile", help="Also check that the resource tables match what the events say."),
    ] = False,
    remote: Annotated[
        str | None,
        typer.Option(
            "--remote",
            help="Verify the transparency log at this server URL (or exported directory) from what it "
            "publishes alone: checkpoint, verifier keys, tiles, entries.",
            rich_help_panel="Remote",
        ),
    ] = None,
    token: TokenOption = None,
    kept: Annotated[
        Path | None,
        typer.Option(
            "--checkpoint",
            help="With --remote: a checkpoint kept outside (a witness's, or --save-checkpoint's); the log "
            "must extend it.",
            rich_help_panel="Remote",
        ),
    ] = None,
    save_checkpoint: Annotated[
        Path | None,
        typer.Option(
            help="With --remote: keep the verified checkpoint in this file.", rich_help_panel="Remote"
        ),
    ] = None,
    witness: Annotated[
        list[str] | None,
        typer.Option(
            help="With --remote: a witness verifier key (type 0x04) whose cosignature is required.",
            rich_help_panel="Remote",
        ),
    ] = None,
) -> None:
    """Walk the event log and its checkpoints; report every edit, deletion, insertion or reordering."""
    if remote is not None:
        pinned = [key] if key else []
        run_remote(
            remote, token, pinned=pinned, witnesses=witness or [], kept_file=kept, save_file=save_checkpoint
        )
        return
    settings = Settings.from_env()
    public = key or _local_public_key(settings)
    with database(settings, maintenance=True) as engine, engine.connect() as conn:
        start = _since_seq(conn, since)
        total = conn.execute(
            select(func.count()).select_from(log_events).where(log_events.c.seq >= (start or 0))
        ).scalar_one()
        columns = (TextColumn("verifying"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with Progress(*columns, console=err, transient=True) as progress:
            task = progress.add_task("verify", total=total)
            findings = verify_log(conn, public, since_seq=start, progress=lambda n: progress.advance(task, n))
        # The Merkle tree, and every indexed column and target row, against the stored bytes.
        findings += verify_derived(conn, findings, since_seq=start)
        # Events that no signed checkpoint has covered for too long (nothing outside vouches for them).
        findings += checkpoint_freshness(
            conn, now_ms=int(time.time() * 1000), interval_seconds=settings.tlog_checkpoint_seconds
        )
        mismatches = reconcile_state(conn) if reconcile else []
        keys = verification_keys(conn, public)
    trust = f"trusting key {key_id_of(public) or repr(public)}" if public else "no trusted key (pass --key)"
    out.print(f"signing keys ({trust}):", highlight=False)
    for published in reversed(keys):
        out.print(f"  {published.key_id} {published.algorithm} {published.period()}", highlight=False)
    for mismatch in mismatches:
        findings.append(
            Finding("reconcile", None, f"{mismatch.kind} {mismatch.object_id} {mismatch.message}")
        )
    if not findings:
        checked = " and the resource tables reconcile with them" if reconcile else ""
        out.print(f"[green]ok[/]: {total} events, their Merkle tree, columns and checkpoints verify{checked}")
        return
    out.print(f"{len(findings)} problem(s) in the event log:", highlight=False)
    for finding in findings:
        where = "" if finding.seq is None else f" (seq {finding.seq})"
        out.print(f"  {finding.kind}{where}: {finding.message}", highlight=False, markup=False)
    raise typer.Exit(1)


def _local_public_key(settings: Settings) -> str | None:
    """This host's signing key, if it has one (verifying never creates a key)."""
    if settings.signing_key is None and not settings.signing_key_file.exists():
        return None
    return signer_for(settings).public_key_b64()


@contextmanager
def _signing() -> Iterator[tuple[Settings, Engine, str]]:
    """The settings, the database and its org for a command that signs; a refusal to sign ends it (exit 1)."""
    settings = Settings.from_env()
    try:
        with database(settings, maintenance=True) as engine:
            with engine.connect() as conn:
                org = org_id(conn)
            yield settings, engine, org
    except (SigningKeyRefused, CheckpointRefused) as error:
        err.print(f"[red]error:[/] {error}", highlight=False)
        raise typer.Exit(1) from None


def checkpoint() -> None:
    """Sign a checkpoint of the log's head now, and of its Merkle tree (a C2SP signed note, witnessed)."""
    with _signing() as (settings, engine, org):
        made = checkpoint_now(engine, settings, org)
        tree = checkpoint_tree(engine, settings, org)
    if made is not None:
        out.print(made.payload, highlight=False, markup=False)
    if tree is not None:
        out.print(tree.note, end="", highlight=False, markup=False)


def purge() -> None:
    """Delete events older than the retention period (keeping the log verifiable)."""
    with _signing() as (settings, engine, org):
        removed = purge_now(engine, settings, org)
    err.print(f"purged {removed} event(s)")


retention = typer.Typer(no_args_is_help=True, help="How long events are kept.")


@retention.command("show")
def retention_show() -> None:
    """Print the retention period and whether it is locked."""
    with database(maintenance=True) as engine, engine.connect() as conn:
        policy = get_policy(conn)
    out.print(f"{policy.days} days" + (" (locked: can only grow)" if policy.locked else ""))


@retention.command("set")
def retention_set(
    days: Annotated[int, typer.Option(help="Keep events this many days.")],
    lock: Annotated[bool, typer.Option(help="Lock the period: from now on it can only grow.")] = False,
) -> None:
    """Change the retention period (refused if it is locked and the new period is shorter)."""
    try:
        with database(maintenance=True) as engine, engine.begin() as conn:
            policy = set_policy(conn, days, lock=lock)
    except RegistrarError as error:
        err.print(f"[red]error {error.code}:[/] {error.reason}")
        raise typer.Exit(1) from None
    out.print(f"{policy.days} days" + (" (locked: can only grow)" if policy.locked else ""))


def register(app: typer.Typer) -> None:
    """Add the integrity commands to the ``registrar`` command."""
    app.command()(verify)
    app.command()(checkpoint)
    app.command()(purge)
    app.add_typer(retention, name="retention")
