"""Parsing and validating a System Log request's parameters, as Okta does."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from registrar.errors import ValidationFailed
from registrar.ids import utcnow
from registrar.params import bounded_int

from .filter import Expr, parse_filter
from .keywords import parse_keywords
from .timeparse import parse_timestamp

__all__ = ["PARAMETER_ORDER", "LogQuery", "parse_query"]

# The order the Okta SDKs send parameters in; links are written in it so they compare byte for byte.
PARAMETER_ORDER = ("since", "until", "after", "filter", "q", "limit", "sortOrder")
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
DEFAULT_WINDOW = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class LogQuery:
    """A validated System Log request."""

    since: datetime
    until: datetime | None  # None: polling (absent or empty `until`) or "now" for DESCENDING
    after: str | None
    filter: Expr | None
    keywords: list[str]
    limit: int
    descending: bool
    params: dict[str, str] = field(default_factory=dict)  # as received, for the links

    @property
    def polling(self) -> bool:
        """Okta's polling request: ASCENDING with no (or an empty) ``until``: infinite, commit-ordered."""
        return self.until is None and not self.descending


def _time(params: Mapping[str, str], name: str) -> datetime | None:
    raw = params.get(name)
    if raw is None or raw.strip() == "":
        return None
    moment = parse_timestamp(raw)
    if moment is None:
        raise ValidationFailed(
            [
                f"{name}: The date format in your query is not recognized. "
                "Please enter dates using ISO8601 string format.",
                f"{name}: must be a valid date-time or empty.",
            ],
            summary=f"Api validation failed: '{name}': The date format in your query is not recognized. "
            f"Please enter dates using ISO8601 string format. '{name}': must be a valid date-time or empty.",
        )
    return moment


def _default_since(until: datetime) -> datetime:
    """Seven days before ``until``, or the earliest representable time when that is earlier still."""
    earliest = datetime.min.replace(tzinfo=UTC)
    return until - DEFAULT_WINDOW if until - earliest >= DEFAULT_WINDOW else earliest


def parse_query(params: Mapping[str, str]) -> LogQuery:
    """A ``LogQuery`` from the request's parameters (first value of each), or a 400 in Okta's words."""
    received = {name: params[name] for name in PARAMETER_ORDER if name in params}
    raw_order = params.get("sortOrder") or "ASCENDING"
    # ASCII only: upper() maps a dotless i (U+0131) to "I", which would accept "ascend\u0131ng".
    order = raw_order.upper() if raw_order.isascii() else raw_order
    if order not in {"ASCENDING", "DESCENDING"}:
        raise ValidationFailed(["sortOrder: must be ASCENDING or DESCENDING"])
    until = _time(params, "until")
    since = _time(params, "since")
    now = utcnow()
    descending = order == "DESCENDING"
    if since is None:
        since = _default_since(until or now)
    if until is not None and since > until:
        raise ValidationFailed(["since: must not be later than until"])
    raw_filter = params.get("filter")
    return LogQuery(
        since=since,
        until=until if until is not None or not descending else now,
        after=params.get("after") or None,
        filter=parse_filter(raw_filter) if raw_filter and raw_filter.strip() else None,
        keywords=parse_keywords(params.get("q")),
        limit=bounded_int(params.get("limit"), "limit", low=0, high=MAX_LIMIT, default=DEFAULT_LIMIT),
        descending=descending,
        params=received,
    )
