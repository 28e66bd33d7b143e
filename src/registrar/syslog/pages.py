"""Serving System Log pages: from the read engine (a replica when there is one), immutable ones cached.

A full polling page (``limit`` events after a cursor, or after an explicit ``since``, all committed) can
never change: later events come after it in commit order. Such pages are kept in a :class:`ByteCache`
under the request's parameters as received (so filters, keywords, limits and cursors never share an
entry; every token that may read the log reads the same log). Only the body and the next cursor are kept:
``Link`` headers are built for each request from its own scheme and host.

Before a kept page is served again, one indexed lookup checks that the log still backs it: a retention
purge has not removed its first event, and the event it ends with still has the chain hash it had (which
covers every event up to it, so a log restored from a backup, or altered, misses the cache).
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import Counter
from sqlalchemy import Engine, select

from registrar.store.replica import Reads
from registrar.store.schema import log_events, log_head

from .cache import ByteCache
from .cursor import Cursor
from .query import LogQuery
from .reader import Span, read_page

__all__ = ["PageCache", "ServedPage", "json_array"]


@dataclass(frozen=True, slots=True)
class ServedPage:
    """A page as the API sends it: the JSON array of the stored events, and the next cursor."""

    body: bytes
    next_cursor: Cursor | None


@dataclass(frozen=True, slots=True)
class _Kept:
    page: ServedPage
    span: Span


def json_array(bodies: list[bytes]) -> bytes:
    """The stored event bytes as one JSON array, without re-serializing them."""
    # One allocation per page, not three (a 1,000-event page is ~2 MB): the brackets ride on the ends.
    items = list(bodies) or [b""]
    items[0] = b"[" + items[0]
    items[-1] = items[-1] + b"]"
    return b",".join(items)


def _key(query: LogQuery) -> tuple[str, tuple[tuple[str, str], ...]] | None:
    """The cache key of a query whose full pages are immutable, or None.

    A polling page without a cursor starts at ``since``: only an explicit one is fixed (the default
    window moves with the clock). Bounded pages are never kept.
    """
    if not query.polling or query.limit == 0:
        return None
    if query.after is None and not query.params.get("since", "").strip():
        return None
    return ("logs", tuple(query.params.items()))


def _backs(engine: Engine, span: Span) -> bool | None:
    """Whether the log of ``engine`` still holds the events ``span`` was read from, unchanged; None when
    it does not hold the last of them (yet: a replica that lags; or no more: a truncated log)."""
    statement = (
        select(log_head.c.first_seq, log_events.c.hash)
        .select_from(log_head.outerjoin(log_events, log_events.c.seq == span.last_seq))
        .where(log_head.c.singleton == 1)
    )
    with engine.connect().execution_options(sqlite_immediate=False) as conn:
        row = conn.execute(statement).one()
    if row.hash is None:
        return None
    return row.hash == span.last_hash and int(row.first_seq) <= span.first_seq


# hit: a kept page, still backed by the log; miss: a page the cache could keep, read from the log (not
# kept yet, or no longer backed); uncached: a page it never keeps (a partial or bounded one, or no budget).
_PAGES = Counter(
    "registrar_log_page_cache_requests",
    "System Log pages asked for, by what the page cache did: hit, miss, uncached.",
    ["result"],
)
_HIT, _MISS, _UNCACHED = (_PAGES.labels(result) for result in ("hit", "miss", "uncached"))  # bound once


class PageCache:
    """System Log pages for queries, the immutable ones kept in ``cache``."""

    def __init__(self, cache: ByteCache[object]):
        self._cache = cache

    def page(self, reads: Reads, query: LogQuery) -> ServedPage:
        """The page ``query`` asks for, as a fresh read of the log would give it now."""
        key = _key(query) if self._cache.max_bytes else None
        if key is not None:
            kept = self._cache.get(key)
            if isinstance(kept, _Kept):
                backed = reads.run(lambda engine: _backs(engine, kept.span))
                if backed:
                    _HIT.inc()
                    return kept.page
                if backed is not None:
                    self._cache.discard(key)
        page = reads.catch_up(lambda engine, horizon: read_page(engine, query, horizon=horizon))
        served = ServedPage(json_array(page.bodies), page.next_cursor)
        if key is not None and page.span is not None:
            self._cache.put(key, _Kept(served, page.span), len(served.body))
            _MISS.inc()
        else:
            _UNCACHED.inc()
        return served
