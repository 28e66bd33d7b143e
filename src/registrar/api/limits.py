"""What one request may cost at the edge: the errors for oversized or slow requests, and the body cap.

Header-phase limits (request line, header fields, the time to send them) are enforced by the HTTP protocol
in :mod:`registrar.api._wire`, before the application sees the request. The body cap is enforced here, in
the outermost ASGI layer, so it holds under any server: a declared ``Content-Length`` above the cap is
refused before a byte of the body is read, and a chunked body is counted as it streams and refused the
moment it passes the cap. Requests refused by these limits write no event (like 401 and 429): they are
turned away at the edge, before any operation runs.
"""

from __future__ import annotations

from starlette.types import Message, Receive, Scope

from registrar.errors import RegistrarError

from .errors import error_response

__all__ = [
    "BodyMeter",
    "BodyTooLarge",
    "HeadersTooLarge",
    "RequestTimeout",
    "UriTooLong",
    "declared_length",
    "error_bytes",
]


class _LimitExceeded(RegistrarError):
    """A request turned away at the edge for passing one of its limits: one cause, naming the limit."""

    code = "E0000001"
    cause: str  # filled in with the limit

    def __init__(self, limit: float):
        super().__init__(causes=[self.cause.format(limit=limit)])


class BodyTooLarge(_LimitExceeded):
    """413: the request body is (or declares itself) larger than ``REGISTRAR_MAX_BODY_BYTES``."""

    status = 413
    summary = "Request body too large"
    cause = "body: the request body may be at most {limit} bytes"


class HeadersTooLarge(_LimitExceeded):
    """431: the request line and header fields exceed ``REGISTRAR_MAX_HEADER_BYTES``."""

    status = 431
    summary = "Request header fields too large"
    cause = "headers: the request line and headers may be at most {limit} bytes"


class UriTooLong(_LimitExceeded):
    """414: the request target alone exceeds ``REGISTRAR_MAX_HEADER_BYTES``."""

    status = 414
    summary = "Request URI too long"
    cause = "url: the request target may be at most {limit} bytes"


class RequestTimeout(_LimitExceeded):
    """408: the request's headers did not arrive within ``REGISTRAR_HEADER_TIMEOUT_SECONDS``."""

    status = 408
    summary = "Request timeout"
    cause = "headers: the request headers must arrive within {limit:g} seconds"


def error_bytes(error: RegistrarError) -> bytes:
    """The Okta error object of ``error`` as JSON bytes (for responses written below the application)."""
    return bytes(error_response(error).body)


def declared_length(scope: Scope) -> int | None:
    """The request's ``Content-Length`` (the server has already rejected malformed values)."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.strip().isdigit() else None
    return None


class BodyMeter:
    """Counts a request body as the application reads it and stops it as soon as it passes ``limit``.

    :class:`BodyTooLarge` propagates through the application's error handlers like any ``RegistrarError``;
    ``exceeded`` tells the outer layer to answer 413 whatever the application made of it. Nothing past
    the cap is buffered.
    """

    def __init__(self, receive: Receive, limit: int):
        self._receive = receive
        self.limit = limit
        self.received = 0
        self.exceeded = False

    async def receive(self) -> Message:
        """The next ASGI message, counted."""
        message = await self._receive()
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self.limit:
                self.exceeded = True
                raise BodyTooLarge(self.limit)
        return message
