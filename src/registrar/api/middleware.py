"""The outermost ASGI layer: request ids, rate limits and their headers, the body cap, last-resort 500s;
each request's metrics and (with JSON logs) its access-log line.

Pure ASGI (no BaseHTTPMiddleware) because it wraps every request, including the hot ones. The load
balancer's probes (``/healthz``, ``/readyz``) spend no rate-limit budget: a probe every second from one
address must never be refused, and on PostgreSQL a budget costs a database round trip.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from email.utils import formatdate

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from registrar.context.forwarding import read_forwarding, resolve_client
from registrar.context.networks import NetworkSet
from registrar.errors import RateLimited, RegistrarError
from registrar.ids import new_request_id

from ._logging import REQUEST_ID
from ._metrics import RATE_LIMITED, observe_request, route_template
from .errors import error_response
from .limits import BodyMeter, BodyTooLarge, declared_length
from .ratelimit import DatabaseRateLimiter, RateLimiter, Verdict
from .security import read_token

__all__ = ["Caller", "RegistrarMiddleware"]

log = logging.getLogger(__name__)
access_log = logging.getLogger("registrar.access")

_DEFAULT_MAX_BODY = 1024 * 1024
_CLOSE = (b"connection", b"close")
_PROBES = frozenset({"/healthz", "/readyz"})  # never rate limited


@dataclass(frozen=True, slots=True)
class Caller:
    """Who a request's budgets belong to: its token (hashed) if it has one, and its client address."""

    token_hash: str | None
    address: str

    @classmethod
    def of(cls, scope: Scope, trusted_proxies: NetworkSet) -> Caller:
        """The caller of ``scope``: the parsed token, and the address resolved through trusted proxies."""
        headers = scope["headers"]
        authorization = next((v for k, v in headers if k == b"authorization"), None)
        token = read_token(authorization.decode("latin-1")) if authorization is not None else None
        client = scope.get("client")
        address = resolve_client(read_forwarding(headers), client[0] if client else None, trusted_proxies)
        return cls(
            token_hash=hashlib.sha256(token.encode()).hexdigest() if token is not None else None,
            address=str(address.client) if address.client is not None else "unknown",
        )

    @property
    def bucket(self) -> str:
        """The request bucket: the token's, else the address's."""
        return f"t:{self.token_hash}" if self.token_hash is not None else f"ip:{self.address}"

    @property
    def failures(self) -> str | None:
        """The failure bucket that a request with a token answers to (``None``: no token, no guessing)."""
        return f"f:{self.address}" if self.token_hash is not None else None


class RegistrarMiddleware:
    """Stamps ``X-Okta-Request-Id`` and ``X-Rate-Limit-*`` on every response and enforces the budgets."""

    def __init__(
        self,
        app: ASGIApp,
        limiter: RateLimiter | DatabaseRateLimiter,
        trusted_proxies: NetworkSet | None = None,
        max_body_bytes: int = _DEFAULT_MAX_BODY,
        *,
        access_log: bool = False,
    ):
        self.app = app
        self.limiter = limiter
        self.trusted_proxies = trusted_proxies or NetworkSet()
        self.max_body_bytes = max_body_bytes
        self.access_log = access_log  # a ``registrar.access`` record per request (the JSON log format)

    async def _hit(self, caller: Caller) -> Verdict:
        if self.limiter.blocking:
            return await run_in_threadpool(self.limiter.hit, caller.bucket, caller.failures)
        return self.limiter.hit(caller.bucket, caller.failures)

    async def _fail(self, guard: str) -> None:
        if self.limiter.blocking:
            await run_in_threadpool(self.limiter.fail, guard)
        else:
            self.limiter.fail(guard)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        arrived = time.perf_counter()
        request_id = new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id
        bound = REQUEST_ID.set(request_id)
        caller = Caller.of(scope, self.trusted_proxies)
        answered: list[int] = []
        try:
            await self._serve(scope, receive, send, request_id, caller, answered)
        finally:
            self._done(scope, caller, request_id, answered[0] if answered else None, arrived)
            REQUEST_ID.reset(bound)

    def _done(
        self, scope: Scope, caller: Caller, request_id: str, status: int | None, arrived: float
    ) -> None:
        """Count the answered request and write its access-log line."""
        seconds = time.perf_counter() - arrived
        route = route_template(scope)
        if status is not None:
            observe_request(scope["method"], route, status, seconds)
        if self.access_log:
            fields = {
                "method": scope["method"],
                "route": route,
                "status": status,
                "durationMs": round(seconds * 1000, 3),
                "client": caller.address,
                "requestId": request_id,
            }
            access_log.info(
                "%s %s %s %.1f ms", scope["method"], route, status, seconds * 1000, extra={"fields": fields}
            )

    async def _serve(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        request_id: str,
        caller: Caller,
        answered: list[int],
    ) -> None:
        verdict = None if scope["path"] in _PROBES else await self._hit(caller)
        # Date on every response (uvicorn's own is switched off): Okta clients need it next to the reset time.
        extra = [
            (b"x-okta-request-id", request_id.encode()),
            (b"date", formatdate(usegmt=True).encode()),
            *(verdict.headers() if verdict is not None else ()),
        ]
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                answered.append(message["status"])
                message["headers"] = [*message.get("headers", []), *extra]
                log.debug("%s %s %s -> %d", request_id, scope["method"], scope["path"], message["status"])
            await send(message)

        if verdict is not None and not verdict.allowed:
            RATE_LIMITED.labels("address" if caller.token_hash is None else "token").inc()
            await error_response(RateLimited())(scope, receive, send_with_headers)
            return
        meter = BodyMeter(receive, self.max_body_bytes)
        replaced = False

        async def refuse_body() -> None:
            # The connection closes rather than drain a body we will not read.
            extra.append(_CLOSE)
            await error_response(BodyTooLarge(self.max_body_bytes))(scope, receive, send_with_headers)

        async def send_from_app(message: Message) -> None:
            nonlocal replaced
            if replaced:
                return
            if message["type"] == "http.response.start":
                if meter.exceeded:
                    # Whatever the application made of the interrupted body, the answer is the 413.
                    replaced = True
                    await refuse_body()
                    return
                if message["status"] == 401 and caller.failures is not None:
                    await self._fail(caller.failures)
            await send_with_headers(message)

        length = declared_length(scope)
        if length is not None and length > self.max_body_bytes:
            await refuse_body()  # before a byte of the body is read
            return
        try:
            await self.app(scope, meter.receive, send_from_app)
        except BodyTooLarge:
            if started:
                raise
            await refuse_body()
        except Exception:
            log.exception("unhandled error (request %s)", request_id)
            if started:
                raise
            await error_response(RegistrarError())(scope, receive, send_with_headers)
