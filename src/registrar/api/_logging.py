"""Logging for a ``registrar serve`` process: one stream, UTC timestamps, control characters escaped.

Every logger reports through the root logger at ``REGISTRAR_LOG_LEVEL``, one line per record on stderr,
in one of two formats (``REGISTRAR_LOG_FORMAT``):

- ``text`` (the default): ``2025-01-01T12:00:00.123Z INFO registrar.services.audit message``, uvicorn's
  access log included as uvicorn writes it.
- ``json``: one JSON object per record, ``{"time", "level", "logger", "message"}``, plus ``requestId``
  for records logged while a request is served, ``exception`` for a traceback, and the fields of the
  record's ``fields`` attribute. uvicorn's access log is replaced by the application's own (logger
  ``registrar.access``, :mod:`registrar.api.middleware`): method, route template, status, duration,
  client address and request id, which uvicorn does not know.

SQLAlchemy stays at WARNING whatever the level: at INFO it would log every statement with its parameters.

A message can carry text a client chose (a path, a header); in the text format its control characters are
written as ``\\xNN`` escapes, and the JSON format writes every character outside printable ASCII as a
``\\uXXXX`` escape, so that a request can neither forge log lines nor send escape sequences to a terminal.
"""

from __future__ import annotations

import json
import logging
import logging.config
import re
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "LOG_FORMAT",
    "REQUEST_ID",
    "JsonFormatter",
    "SafeFormatter",
    "configure_logging",
    "logging_config",
]

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")

REQUEST_ID: ContextVar[str | None] = ContextVar("registrar_request_id", default=None)
"""The id of the request being served (set by the middleware; threads the request runs on inherit it)."""


def _escape(match: re.Match[str]) -> str:
    return f"\\x{ord(match.group()):02x}"


def _timestamp(record: logging.LogRecord) -> str:
    """``YYYY-MM-DDTHH:mm:ss.SSSZ``, the timestamp format of the events themselves."""
    stamp = datetime.fromtimestamp(record.created, tz=UTC)
    return f"{stamp:%Y-%m-%dT%H:%M:%S}.{stamp.microsecond // 1000:03d}Z"


class SafeFormatter(logging.Formatter):
    """ISO 8601 UTC timestamps with milliseconds; control characters in messages escaped."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        """The event timestamp format."""
        return _timestamp(record)

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        """The record's line, its message made safe (tracebacks keep their line breaks)."""
        record.message = _CONTROL.sub(_escape, record.message)
        return super().formatMessage(record)


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line, ASCII only."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON object (see the module docstring for its members)."""
        line: dict[str, Any] = {
            "time": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = REQUEST_ID.get()
        if request_id is not None:
            line["requestId"] = request_id
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update(fields)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        # ensure_ascii: control characters, C1, and the line and bidi separators all become \\u escapes.
        return json.dumps(line, ensure_ascii=True, default=str)


def logging_config(level: str, log_format: str = "text") -> dict[str, Any]:
    """The ``logging.config.dictConfig`` of a server process logging at ``level`` in ``log_format``."""
    json_lines = log_format == "json"
    text: dict[str, Any] = {"()": SafeFormatter, "fmt": LOG_FORMAT}
    formatter: dict[str, Any] = {"()": JsonFormatter} if json_lines else text
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"registrar": formatter},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "registrar",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {
            # uvicorn's own configuration would give these their own handlers; here they propagate.
            "uvicorn": {"level": level, "handlers": [], "propagate": True},
            "uvicorn.error": {"level": level, "handlers": [], "propagate": True},
            # With JSON lines the application's registrar.access replaces it (in every worker process too).
            "uvicorn.access": {"level": level, "handlers": [], "propagate": not json_lines},
            "sqlalchemy": {"level": "WARNING"},
        },
    }


def configure_logging(level: str, log_format: str = "text") -> None:
    """Route every logger of this process to stderr at ``level`` (DEBUG, INFO, WARNING, ERROR, CRITICAL),
    as ``text`` or ``json`` lines."""
    logging.config.dictConfig(logging_config(level, log_format))
    logging.captureWarnings(True)  # a warning is a record like any other (logger py.warnings), one line
