"""The outermost ASGI layer: request ids, rate-limit headers, 429s, and last-resort 500s.

Pure ASGI (no BaseHTTPMiddleware) because it wraps every request, including the hot ones.
"""

from __future__ import annotations

import hashlib
import logging
from email.utils import formatdate

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from registrar.errors import RateLimited, RegistrarError
from registrar.ids import new_request_id

from .errors import error_response
from .ratelimit import DatabaseRateLimiter, RateLimiter

__all__ = ["RegistrarMiddleware"]

log = logging.getLogger(__name__)


def _caller_key(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"authorization":
            return "t:" + hashlib.sha256(value.split(None, 1)[-1] if b" " in value else value).hexdigest()
    client = scope.get("client")
    return "ip:" + (client[0] if client else "unknown")


class RegistrarMiddleware:
    """Stamps ``X-Okta-Request-Id`` and ``X-Rate-Limit-*`` on every response and enforces the budget."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter | DatabaseRateLimiter):
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id
        key = _caller_key(scope)
        verdict = (
            await run_in_threadpool(self.limiter.hit, key) if self.limiter.blocking else self.limiter.hit(key)
        )
        # Date on every response (uvicorn's own is switched off): Okta clients need it next to the reset time.
        extra = [
            (b"x-okta-request-id", request_id.encode()),
            (b"date", formatdate(usegmt=True).encode()),
            *verdict.headers(),
        ]
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        if not verdict.allowed:
            await error_response(RateLimited())(scope, receive, send_with_headers)
            return
        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            log.exception("unhandled error (request %s)", request_id)
            if started:
                raise
            await error_response(RegistrarError())(scope, receive, send_with_headers)
