"""Authenticating API tokens and service apps' access tokens, and turning a request into the context its
events are built from.

``SSWS``/``Bearer`` carry either an API token or, shaped as a JWT, an access token from
``POST /oauth2/v1/token`` (:mod:`registrar.oauth`): checked by its signature and claims, and against the
process's knowledge of revoked apps, which the same revocation generation as the cache below keeps fresh.

Live tokens are cached per database (a bounded LRU of :data:`CACHE_SIZE` entries, by token hash), so a
request with a known token reads nothing from the database. The cache is only as good as its watch
(:func:`registrar.store.tokens.revocation_watch`): every lookup first reads the watch's revocation
generation, and a cache filled under another generation is emptied before it is used. Expiry needs no
watch (a token's expiry never changes): it is checked against the clock on every use.

The generation is read *before* a token is looked up in the database and the entry is filed under it, so
a lookup that raced a revocation (it read the token before the revocation committed) is filed under a
generation the revocation has since left behind, and is never served.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Hashable

from fastapi import Request
from sqlalchemy import Engine

from registrar.context import RequestContext, context_from_request
from registrar.domain.entities import ApiToken, User
from registrar.domain.service_apps import ServiceAppToken
from registrar.errors import InvalidToken, PermissionDenied
from registrar.ids import utcnow
from registrar.oauth import authority_for, live_apps, looks_like_jwt
from registrar.store.per_engine import PerEngine
from registrar.store.tokens import (
    LiveToken,
    RevocationWatch,
    hash_token,
    lookup_token,
    note_token_use,
    revocation_watch,
)

from .responses import base_url

__all__ = [
    "CACHE_SIZE",
    "TokenCache",
    "authenticate",
    "authenticate_access_token",
    "read_token",
    "request_context",
    "require_scope",
    "token_cache",
]

CACHE_SIZE = 10_000


class TokenCache:
    """Live tokens of one database by hash, valid for one revocation generation at a time."""

    def __init__(self, watch: RevocationWatch | None, size: int = CACHE_SIZE):
        self.watch = watch
        self._size = size
        self._lock = threading.Lock()
        self._generation: Hashable | None = None
        self._entries: OrderedDict[str, LiveToken] = OrderedDict()

    def generation(self) -> Hashable | None:
        """The watch's generation now; ``None``: do not use the cache."""
        return None if self.watch is None else self.watch.generation()

    def get(self, key: str, generation: Hashable) -> LiveToken | None:
        """The entry for ``key`` if the cache holds ``generation``'s entries (else it is emptied for it)."""
        with self._lock:
            if generation != self._generation:
                self._entries.clear()
                self._generation = generation
                return None
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key: str, token: LiveToken, generation: Hashable) -> None:
        """File ``token``, looked up under ``generation``; dropped if the cache has moved on meanwhile."""
        with self._lock:
            if generation != self._generation:
                return
            self._entries[key] = token
            self._entries.move_to_end(key)
            if len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def discard(self, key: str) -> None:
        """Forget ``key`` (its token expired)."""
        with self._lock:
            self._entries.pop(key, None)

    def __len__(self) -> int:
        return len(self._entries)


_caches = PerEngine(lambda engine: TokenCache(revocation_watch(engine)))


def token_cache(engine: Engine) -> TokenCache:
    """The token cache of ``engine``'s database in this process (made on first use)."""
    return _caches(engine)


def read_token(header: str | None) -> str | None:
    """The token of an ``Authorization`` header: ``SSWS <t>``, ``SSWS<t>`` (Okta's SDK) or ``Bearer <t>``."""
    if not header:
        return None
    for scheme in ("SSWS", "Bearer"):
        if header[: len(scheme)].lower() == scheme.lower():
            token = header[len(scheme) :].strip()
            return token or None
    return None


def authenticate(engine: Engine, request: Request) -> ApiToken:
    """The live token (neither revoked nor expired) the request carries; else 401 ``E0000011``, unaudited.

    A token shaped like a JWT is a service app's access token (:func:`authenticate_access_token`).
    """
    secret = read_token(request.headers.get("authorization"))
    if secret is not None and looks_like_jwt(secret):
        return authenticate_access_token(engine, request, secret)
    if secret is None or len(secret) > 512:
        raise InvalidToken()
    key = hash_token(secret)
    cache = token_cache(engine)
    generation = cache.generation()  # before the lookup: see the module docstring
    now_ms = int(utcnow().timestamp() * 1000)
    found = None if generation is None else cache.get(key, generation)
    if found is None:
        with engine.connect().execution_options(sqlite_immediate=False) as conn:
            found = lookup_token(conn, key, now_ms)
        if found is None:
            raise InvalidToken()
        if generation is not None:
            cache.put(key, found, generation)
    elif not found.live_at(now_ms):
        cache.discard(key)
        raise InvalidToken()
    note_token_use(engine, found.token.id)  # at most one short write per token per minute, not in a caller's
    return found.token


def authenticate_access_token(engine: Engine, request: Request, token: str) -> ServiceAppToken:
    """The service app an access token (``Bearer <jwt>``) stands for; else 401 ``E0000011``, unaudited.

    Nothing is read from the database while the process knows the app is live: the signature, the claims
    (issued by this installation for the origin the request reached, not expired) and the revocation
    generation decide (:mod:`registrar.oauth._live`).
    """
    deps = request.app.state.deps
    claims = authority_for(deps.settings).verify(token, base_url(request), int(time.time()))
    name = None if claims is None else live_apps(engine).live_name(engine, claims.client_id)
    if claims is None or name is None:
        raise InvalidToken()
    return ServiceAppToken(
        id=claims.client_id,
        name=name,
        user=User(id=claims.client_id, email=claims.client_id, display_name=name),
        scopes=claims.scopes,
        session_id=claims.jti,
        client_id=claims.client_id,
    )


def require_scope(token: ApiToken, *scopes: str) -> None:
    """403 ``E0000006`` unless the token holds one of ``scopes`` (for reads; writes are audited elsewhere)."""
    if not token.scopes.intersection(scopes):
        raise PermissionDenied()


def request_context(request: Request, token: ApiToken) -> RequestContext:
    """The event context of an authenticated API request."""
    return context_from_request(request.scope, token, request.app.state.enricher)
