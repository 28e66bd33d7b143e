"""The log viewer's histogram: events per time bucket, split by event type or by outcome. Pure."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from registrar.ids import format_timestamp

__all__ = ["MAX_BUCKETS", "Histogram", "bucket_width_ms", "build_histogram"]

MAX_BUCKETS = 60
_MINUTE = 60_000
# Bucket widths people read at a glance; the smallest that keeps the chart within MAX_BUCKETS is used.
_WIDTHS = [
    _MINUTE,
    5 * _MINUTE,
    15 * _MINUTE,
    30 * _MINUTE,
    60 * _MINUTE,
    3 * 60 * _MINUTE,
    6 * 60 * _MINUTE,
    12 * 60 * _MINUTE,
    24 * 60 * _MINUTE,
    7 * 24 * 60 * _MINUTE,
]
OUTCOME_COLOURS = {"SUCCESS": "#3fb68b", "FAILURE": "#e8a33d", "DENY": "#e5534b"}
_OTHER = "#8b949e"
# Distinguishable on a dark background, and in this order also for the common colour-vision deficiencies.
_PALETTE = [
    "#4c9aff",
    "#f5a623",
    "#36c5b0",
    "#e5534b",
    "#b083f0",
    "#8fd14f",
    "#f778ba",
    "#d4b93c",
    "#56d4dd",
    "#ff8a65",
]
_PREFIX = "resource_servers."


@dataclass(frozen=True, slots=True)
class Histogram:
    """Counts per bucket; ``truncated`` when the range held more events than were read."""

    bucket_ms: int
    starts: list[int]
    by_type: dict[str, list[int]]
    by_outcome: dict[str, list[int]]
    total: int
    truncated: bool

    def chart_data(self) -> dict[str, Any]:
        """What ``console.js`` draws: labels, and one stacked dataset per type or per outcome."""
        types = sorted(self.by_type, key=lambda name: (-sum(self.by_type[name]), name))
        outcomes = sorted(self.by_outcome, key=lambda name: [*OUTCOME_COLOURS, name].index(name))
        return {
            "labels": [self._label(start) for start in self.starts],
            "titles": [self._title(start) for start in self.starts],
            "bounds": [[_iso(start), _iso(start + self.bucket_ms)] for start in self.starts],
            "groups": {
                "eventType": [
                    {
                        "label": name.removeprefix(_PREFIX),
                        "data": self.by_type[name],
                        "color": _PALETTE[i] if i < len(_PALETTE) else _OTHER,
                    }
                    for i, name in enumerate(types)
                ],
                "outcome": [
                    {"label": name, "data": self.by_outcome[name], "color": OUTCOME_COLOURS.get(name, _OTHER)}
                    for name in outcomes
                ],
            },
            "total": self.total,
            "truncated": self.truncated,
        }

    def _label(self, start: int) -> str:
        moment = datetime.fromtimestamp(start / 1000, tz=UTC)
        if self.bucket_ms >= 24 * 60 * _MINUTE:
            return moment.strftime("%b %d")
        span = self.starts[-1] - self.starts[0] if self.starts else 0
        return moment.strftime("%H:%M" if span < 24 * 60 * _MINUTE else "%b %d %H:%M")

    def _title(self, start: int) -> str:
        begin = datetime.fromtimestamp(start / 1000, tz=UTC)
        end = datetime.fromtimestamp((start + self.bucket_ms) / 1000, tz=UTC)
        return f"{begin:%Y-%m-%d %H:%M} to {end:%H:%M} UTC"


def _iso(ms: int) -> str:
    return format_timestamp(datetime.fromtimestamp(ms / 1000, tz=UTC))


def bucket_width_ms(since_ms: int, until_ms: int) -> int:
    """The smallest nice bucket width that divides ``[since, until)`` into at most ``MAX_BUCKETS``."""
    for width in _WIDTHS:
        first = since_ms - since_ms % width  # buckets start on multiples of the width (UTC-aligned)
        if -(-(max(until_ms, first + 1) - first) // width) <= MAX_BUCKETS:
            return width
    return _WIDTHS[-1]


def build_histogram(
    points: Iterable[tuple[int, str, str]], since_ms: int, until_ms: int, *, truncated: bool = False
) -> Histogram:
    """Count ``(published_ms, eventType, outcome)`` points over ``[since, until)`` in UTC-aligned buckets."""
    width = bucket_width_ms(since_ms, until_ms)
    first = since_ms - since_ms % width
    starts = list(range(first, max(until_ms, first + 1), width))
    types: dict[str, Counter[int]] = {}
    outcomes: dict[str, Counter[int]] = {}
    total = 0
    for published, event_type, outcome in points:
        if not since_ms <= published < until_ms:
            continue
        index = (published - first) // width
        types.setdefault(event_type, Counter())[index] += 1
        outcomes.setdefault(outcome, Counter())[index] += 1
        total += 1

    def series(counts: dict[str, Counter[int]]) -> dict[str, list[int]]:
        return {name: [c[i] for i in range(len(starts))] for name, c in counts.items()}

    return Histogram(width, starts, series(types), series(outcomes), total, truncated)
