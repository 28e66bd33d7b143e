"""``registrar logs tail``: follow the System Log live, polling the ``next`` link as an Okta log puller does.

A polling query (``since``, no ``until``) always has a ``next`` link; when the server is caught up it equals
``self``, and the command waits ``--interval`` seconds before asking again. A lost connection, a 5xx or a
429 is waited out (a 429 until the limit resets); any other error ends the command with its exit code.
Ctrl-C or SIGTERM stops it cleanly, with exit code 0.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from types import FrameType
from typing import Annotated

import httpx2
import orjson
import typer
from rich.console import Console

from .client import LOGS, ApiError, CannotConnect, RegistrarClient
from .logs_query import FilterOption, LogPage, QOption, event_line
from .options import DEFAULT_URL, TokenOption, UrlOption, connect
from .output import err_console, json_bytes, out_console

__all__ = ["tail"]

MAX_BACKOFF_SECONDS = 60.0


def _now() -> str:
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """Let SIGTERM stop the loop the way Ctrl-C does (signal handlers live in the main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _fetch(
    client: RegistrarClient,
    url: str,
    interval: float,
    warn: Console,
    sleep: Callable[[float], None] = time.sleep,
) -> httpx2.Response:
    """``GET`` a ``next`` link, waiting out what passes: lost connections, 5xx, 429."""
    delay = interval
    while True:
        try:
            return client.get(url)
        except ApiError as error:
            if error.status != 429 and error.status < 500:
                raise
            wait = delay if error.reset_at is None else max(1.0, error.reset_at - time.time())
            problem = error.line
        except CannotConnect as error:
            wait, problem = delay, error.line
        wait = min(wait, MAX_BACKOFF_SECONDS)
        warn.print(f"warning{problem.removeprefix('error')}; retrying in {wait:.3g}s", style="yellow")
        sleep(wait)
        delay = min(max(delay, 1.0) * 2, MAX_BACKOFF_SECONDS)


def _emit(page: LogPage, out: Console, jsonl: bool) -> None:
    for event in page.events:
        if jsonl:
            sys.stdout.buffer.write(json_bytes(orjson.dumps(event)) + b"\n")
            sys.stdout.buffer.flush()
        else:
            out.print(event_line(event), soft_wrap=True)


def tail(
    since: Annotated[
        str | None, typer.Option(help="Start here (ISO 8601) instead of now.", show_default=False)
    ] = None,
    filter_: FilterOption = None,
    q: QOption = None,
    interval: Annotated[
        float, typer.Option(min=0.01, help="Seconds to wait between polls once caught up.")
    ] = 2.0,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="Events per request.")] = 100,
    jsonl: Annotated[bool, typer.Option("--jsonl", help="Print events as JSON Lines, uncoloured.")] = False,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Follow the System Log live, one line per event coloured by outcome; Ctrl-C stops."""
    start = since or _now()
    params = {"since": start, "filter": filter_, "q": q, "limit": str(limit)}
    out, warn = out_console(), err_console()
    try:
        with _sigterm_interrupts(), connect(url, token) as client:
            response = client.get(LOGS, params)
            warn.print(f"following {client.url}{LOGS} since {start} (Ctrl-C to stop)", style="bright_black")
            while True:
                page = LogPage.of(response)
                _emit(page, out, jsonl)
                if page.next_url is None:  # only a bounded query ends; a polling one never does
                    return
                if page.caught_up or len(page.events) < limit:
                    time.sleep(interval)
                response = _fetch(client, page.next_url, interval, warn)
    except KeyboardInterrupt:
        warn.print("stopped", style="bright_black")
    except BrokenPipeError:  # the reader went away (`| head`): nothing left to do, nothing to report
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
