"""Walking a System Log query page by page with the API's own reader, and counting it when that is cheap."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import Engine, func, select

from registrar.store.schema import log_events
from registrar.syslog.query import LogQuery
from registrar.syslog.reader import read_page

__all__ = ["count_events", "iter_pages"]


def iter_pages(engine: Engine, query: LogQuery) -> Iterator[list[bytes]]:
    """The stored bytes of every event ``query`` selects, one page (``query.limit`` events) at a time.

    Exactly the pages a client following the API's ``next`` links would get. A polling query (no
    ``until``) is in commit order and ends once it has caught up with the log; a bounded one is in
    ``published`` order and ends on its last page.
    """
    if query.limit == 0:
        return
    while True:
        page = read_page(engine, query)
        if page.bodies:
            yield page.bodies
        caught_up = query.polling and len(page.bodies) < query.limit
        if caught_up or page.next_cursor is None:
            return
        query = dataclasses.replace(query, after=str(page.next_cursor))


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def count_events(engine: Engine, query: LogQuery) -> int | None:
    """How many events ``query`` selects, when an index range answers it; ``None`` with a filter or ``q``.

    A filter or keyword count would scan what the export is about to read anyway (and repeat the
    reader's query logic), so those exports show progress without a total.
    """
    if query.filter is not None or query.keywords:
        return None
    published = log_events.c.published_ms
    conditions = [published >= _ms(query.since)]
    if query.until is not None:
        conditions.append(published < _ms(query.until))
    with engine.connect().execution_options(sqlite_immediate=False) as conn:
        return int(conn.execute(select(func.count()).select_from(log_events).where(*conditions)).scalar_one())
