"""Logging for a ``registrar serve`` process: one stream, UTC timestamps, control characters escaped.

Every logger reports through the root logger at ``REGISTRAR_LOG_LEVEL`` (uvicorn's error and access
logs included, with the access log kept as uvicorn writes it), one line per record on stderr:
``2025-01-01T12:00:00.123Z INFO registrar.services.audit message``. SQLAlchemy stays at WARNING whatever
the level: at INFO it would log every statement with its parameters.

A message can carry text a client chose (a path, a header); control characters in it are written as
``\\xNN`` escapes so that a request can neither forge log lines nor send escape sequences to a terminal.
"""

from __future__ import annotations

import logging
import logging.config
import re
from datetime import UTC, datetime
from typing import Any

__all__ = ["LOG_FORMAT", "SafeFormatter", "configure_logging", "logging_config"]

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _escape(match: re.Match[str]) -> str:
    return f"\\x{ord(match.group()):02x}"


class SafeFormatter(logging.Formatter):
    """ISO 8601 UTC timestamps with milliseconds; control characters in messages escaped."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        """``YYYY-MM-DDTHH:mm:ss.SSSZ``, the timestamp format of the events themselves."""
        stamp = datetime.fromtimestamp(record.created, tz=UTC)
        return f"{stamp:%Y-%m-%dT%H:%M:%S}.{stamp.microsecond // 1000:03d}Z"

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        """The record's line, its message made safe (tracebacks keep their line breaks)."""
        record.message = _CONTROL.sub(_escape, record.message)
        return super().formatMessage(record)


def logging_config(level: str) -> dict[str, Any]:
    """The ``logging.config.dictConfig`` of a server process logging at ``level``."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"registrar": {"()": SafeFormatter, "fmt": LOG_FORMAT}},
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
            "uvicorn.access": {"level": level, "handlers": [], "propagate": True},
            "sqlalchemy": {"level": "WARNING"},
        },
    }


def configure_logging(level: str) -> None:
    """Route every logger of this process to stderr at ``level`` (DEBUG, INFO, WARNING, ERROR, CRITICAL)."""
    logging.config.dictConfig(logging_config(level))
