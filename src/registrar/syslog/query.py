"""Parsing and validating a System Log request's parameters, as Okta does."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from registrar.errors import ValidationFailed
from registrar.ids import utcnow

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


def _limit(raw: str | None) -> int:
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if not 0 <= value <= MAX_LIMIT:
        raise ValidationFailed([f"limit: must be an integer between 0 and {MAX_LIMIT}"])
    return value


def parse_query(params: Mapping[str, str]) -> LogQuery:
    """A ``LogQuery`` from the request's parameters (first value of each), or a 400 in Okta's words."""
    received = {name: params[name] for name in PARAMETER_ORDER if name in params}
    order = (params.get("sortOrder") or "ASCENDING").upper()
    if order not in {"ASCENDING", "DESCENDING"}:
        raise ValidationFailed(["sortOrder: must be ASCENDING or DESCENDING"])
    until = _time(params, "until")
    since = _time(params, "since")
    now = utcnow()
    descending = order == "DESCENDING"
    if since is None:
        since = (until or now) - DEFAULT_WINDOW
    if until is not None and since > until:
        raise ValidationFailed(["since: must not be later than until"])
    raw_filter = params.get("filter")
    return LogQuery(
        since=since,
        until=until if until is not None or not descending else now,
        after=params.get("after") or None,
        filter=parse_filter(raw_filter) if raw_filter and raw_filter.strip() else None,
        keywords=parse_keywords(params.get("q")),
        limit=_limit(params.get("limit")),
        descending=descending,
        params=received,
    )
