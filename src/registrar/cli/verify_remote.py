"""``registrar verify --remote``: the transparency log checked from the HTTP API (or an exported directory).

Only what the log publishes is used: ``checkpoint``, ``verifier-keys``, hash tiles and entry bundles under
``/api/v1/logs/tlog/`` (fetched with the token, ``SSWS``), or the same files in a directory written by
``registrar logs export --format tiles``. Exit 0 when everything verifies, 1 naming each failure.
"""

from __future__ import annotations

import base64
import os
import tempfile
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from registrar.integrity.remote import Fetch, RemoteReport, verify_remote

from .client import ApiError, RegistrarClient
from .options import connect

__all__ = ["run_remote"]

TLOG = "/api/v1/logs/tlog/"

err = Console(stderr=True)
# Verification output is evidence: never wrapped, cut or put in cells (a key or a finding must copy whole).
out = Console(soft_wrap=True)


def _directory(root: Path) -> Fetch:
    def fetch(path: str) -> bytes | None:
        target = root / path
        return target.read_bytes() if target.is_file() else None

    return fetch


def _http(client: RegistrarClient) -> Fetch:
    def fetch(path: str) -> bytes | None:
        try:
            return client.get(TLOG + path).content
        except ApiError as error:
            if error.status == 404:
                return None
            raise

    return fetch


def _read_kept(path: Path | None) -> bytes | None:
    if path is None:
        return None
    try:
        return path.read_bytes()
    except OSError as error:
        err.print(f"[red]error:[/] cannot read --checkpoint {path}: {error.strerror}", highlight=False)
        raise typer.Exit(2) from None


def _save(path: Path, note: bytes) -> None:
    """Write the note beside ``path`` and rename it over, so a kept checkpoint is never half-written."""
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(note)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _run(fetch: Fetch, pinned: list[str], witnesses: list[str], kept: bytes | None) -> RemoteReport:
    columns = (TextColumn("verifying"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err, transient=True) as progress:
        task = progress.add_task("verify", total=None)

        def sized(size: int) -> None:
            progress.update(task, total=size)

        return verify_remote(
            fetch,
            pinned=pinned,
            witnesses=witnesses,
            kept=kept,
            progress=lambda n: progress.advance(task, n),
            on_size=sized,
        )


def _print(report: RemoteReport, pinned: bool) -> None:
    trust = "the pinned key" if pinned else "the keys the log serves (pin one with --key)"
    out.print(f"verifier keys (trusting {trust}):", highlight=False)
    for key in report.trusted:
        out.print(f"  {key}", highlight=False)
    if report.size is not None and report.root is not None:
        root = base64.b64encode(report.root).decode()
        out.print(f"checkpoint: {report.origin} size {report.size} root {root}", highlight=False)
    if report.cosigners:
        out.print(f"cosigned by: {', '.join(report.cosigners)}", highlight=False)


def run_remote(
    remote: str,
    token: str | None,
    *,
    pinned: list[str],
    witnesses: list[str],
    kept_file: Path | None,
    save_file: Path | None,
) -> None:
    """Verify the log at ``remote`` (a server URL or an exported directory); exit 1 on any finding."""
    kept = _read_kept(kept_file)
    if not remote.startswith(("http://", "https://")) and Path(remote).is_dir():
        report = _run(_directory(Path(remote)), pinned, witnesses, kept)
    else:
        with connect(remote, token) as client:
            report = _run(_http(client), pinned, witnesses, kept)
    _print(report, bool(pinned))
    if report.findings:
        out.print(f"{len(report.findings)} problem(s) in the transparency log:", highlight=False)
        for finding in report.findings:
            out.print(f"  {finding.kind}: {finding.message}", highlight=False, markup=False)
        if save_file is not None:
            err.print(f"not saving the checkpoint to {save_file}: it did not verify", highlight=False)
        raise typer.Exit(1)
    pruned = f" ({report.pruned} pruned: checked by their hashes only)" if report.pruned else ""
    extends = ""
    if report.kept_size is not None:
        extends = f"; it extends the kept checkpoint of size {report.kept_size}"
    out.print(
        f"[green]ok[/]: {report.entries} entries{pruned} and every tile verify against the checkpoint"
        f"{extends}",
        highlight=False,
    )
    if save_file is not None and report.note is not None:
        _save(save_file, report.note)
        err.print(f"saved the checkpoint to {save_file}", highlight=False)
