"""Writing a System Log query to a byte stream as JSON Lines: the stored events, or their OCSF records."""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from typing import IO

import orjson
from sqlalchemy import Engine

from registrar.syslog.query import LogQuery

from ._ocsf import to_ocsf
from ._pages import iter_pages

__all__ = ["ExportFormat", "export_log"]


class ExportFormat(enum.StrEnum):
    """What each line of an export is."""

    JSONL = "jsonl"  # the event's stored canonical JSON, byte for byte what /api/v1/logs serves
    OCSF = "ocsf"  # the event's OCSF 1.3.0 record
    TILES = "tiles"  # not a stream: a tlog-tiles directory of the whole log (``export_tiles``)


def _jsonl(body: bytes) -> bytes:
    # Compact canonical JSON never contains a raw newline, so one event is exactly one line.
    return body + b"\n"


def _ocsf(body: bytes) -> bytes:
    return orjson.dumps(to_ocsf(body)) + b"\n"


_ENCODERS: Mapping[ExportFormat, Callable[[bytes], bytes]] = {
    ExportFormat.JSONL: _jsonl,
    ExportFormat.OCSF: _ocsf,
}


def export_log(
    engine: Engine,
    query: LogQuery,
    export_format: ExportFormat,
    sink: IO[bytes],
    *,
    on_page: Callable[[int], None] | None = None,
) -> int:
    """Write every event ``query`` selects to ``sink``, one line each, a page at a time; the count written.

    Only one page (at most ``query.limit`` events) is in memory at once, whatever the size of the log.
    ``on_page`` is told how many events each page added, for progress reporting.
    """
    if export_format not in _ENCODERS:
        raise ValueError(f"{export_format.value} is a directory export: use export_tiles")
    encode = _ENCODERS[export_format]
    written = 0
    for bodies in iter_pages(engine, query):
        sink.write(b"".join(encode(body) for body in bodies))
        written += len(bodies)
        if on_page is not None:
            on_page(len(bodies))
    return written
