"""Bucketing events for the histogram (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

from registrar.console._histogram import MAX_BUCKETS, build_histogram

_H = 3_600_000


def _ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


def test_buckets_are_aligned_and_counts_split_by_type_and_outcome() -> None:
    since, until = _ms("2026-11-24T10:07:00"), _ms("2026-11-24T11:07:00")
    points = [
        (_ms("2026-11-24T10:07:30"), "resource_servers.mcp_server.register", "SUCCESS"),
        (_ms("2026-11-24T10:08:10"), "resource_servers.mcp_server.register", "FAILURE"),
        (_ms("2026-11-24T11:06:59"), "resource_servers.mcp_server.activate", "SUCCESS"),
        (_ms("2026-11-24T11:07:00"), "resource_servers.mcp_server.activate", "SUCCESS"),  # at `until`: out
        (_ms("2026-11-24T10:06:59"), "resource_servers.mcp_server.activate", "DENY"),  # before `since`: out
    ]
    histogram = build_histogram(points, since, until)
    assert histogram.bucket_ms == 60_000
    assert histogram.starts[0] == since and len(histogram.starts) == 60
    assert histogram.total == 3
    assert histogram.by_type["resource_servers.mcp_server.register"][:2] == [1, 1]
    assert histogram.by_outcome["SUCCESS"][0] == 1 and histogram.by_outcome["SUCCESS"][-1] == 1
    data = histogram.chart_data()
    assert [s["label"] for s in data["groups"]["eventType"]] == ["mcp_server.register", "mcp_server.activate"]
    assert [s["label"] for s in data["groups"]["outcome"]] == ["SUCCESS", "FAILURE"]
    assert data["bounds"][0] == ["2026-11-24T10:07:00.000Z", "2026-11-24T10:08:00.000Z"]
    assert data["labels"][0] == "10:07"


def test_the_width_keeps_any_range_within_the_bucket_limit() -> None:
    start = _ms("2026-11-24T10:07:13")
    for span in (15 * 60_000, _H, 6 * _H, 24 * _H, 7 * 24 * _H, 30 * 24 * _H, 365 * 24 * _H):
        histogram = build_histogram([], start, start + span)
        assert 1 <= len(histogram.starts) <= MAX_BUCKETS or histogram.bucket_ms == 7 * 24 * _H
        assert all(s % histogram.bucket_ms == 0 for s in histogram.starts)
        assert histogram.starts[0] <= start < histogram.starts[0] + histogram.bucket_ms
