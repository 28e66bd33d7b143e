"""Which service apps may still use their access tokens, known per process without reading the database
on every request.

Each process remembers, per database, what it learnt about each client id (live or not), for one
revocation generation of :func:`registrar.store.tokens.revocation_watch`: the generation API-token
revocations move, which ``registrar service-apps revoke`` moves too. A remembered answer is used only while
the generation is the one it was learnt under; when the generation changes, everything is forgotten and
each app is read again on its next request. The generation is read *before* the database is, so an answer
read while a revocation was committing is filed under a generation the revocation has left behind, and is
never used (the token API's cache works the same way). Without a watch (an in-memory SQLite database, a
PostgreSQL listener that is down), the database is read on every request.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable

from sqlalchemy import Engine

from registrar.store.per_engine import PerEngine
from registrar.store.service_apps import get_service_app
from registrar.store.tokens import RevocationWatch, revocation_watch

__all__ = ["LiveApps", "live_apps"]

_SIZE = 10_000


class LiveApps:
    """Each client id's app name while it is live (known and not revoked), for one revocation generation at
    a time; ``None`` for a client id that is not live."""

    def __init__(self, watch: RevocationWatch | None, size: int = _SIZE):
        self.watch = watch
        self._size = size
        self._lock = threading.Lock()
        self._generation: Hashable | None = None
        self._known: dict[str, str | None] = {}

    def live_name(self, engine: Engine, client_id: str) -> str | None:
        """The name of ``client_id``'s app if its tokens may be used now, else None (read from the database
        when not known)."""
        generation = None if self.watch is None else self.watch.generation()
        if generation is not None:
            with self._lock:
                if generation != self._generation:
                    self._known.clear()
                    self._generation = generation
                elif client_id in self._known:
                    return self._known[client_id]
        with engine.connect().execution_options(sqlite_immediate=False) as conn:
            app = get_service_app(conn, client_id)
        live = app.name if app is not None and app.revoked_ms is None else None
        if generation is not None:
            with self._lock:
                if generation == self._generation:
                    if len(self._known) >= self._size:
                        self._known.clear()
                    self._known[client_id] = live
        return live


_registries = PerEngine(lambda engine: LiveApps(revocation_watch(engine)))


def live_apps(engine: Engine) -> LiveApps:
    """This process's knowledge of ``engine``'s service apps (made on first use)."""
    return _registries(engine)
