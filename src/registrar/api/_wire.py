"""The HTTP/1.1 wire in front of the application: uvicorn's httptools protocol with header bounds.

httptools (llhttp) has no limit on the size of a request's headers: it accumulates a header value of any
length before handing it over, so 8 requests with 16 MB headers grew the server by more than 100 MiB.
This protocol counts what a client sends while its request headers are incomplete and refuses it as soon
as the request line and header fields pass ``max_header_bytes``: 414 when the request target alone is
too long, 431 otherwise, each with an Okta error object. It also gives a connection ``header_timeout``
seconds to deliver each request's headers (counted from the connection, or from the request's first byte
on a kept-alive one): a client that trickles its headers (slowloris) gets 408 and is disconnected, and
one that connects and says nothing is disconnected.

Each refusal is answered, then the connection is half-closed and whatever the client still sends is read
and dropped for a moment before it is closed ("lingering close"), so that a client that is still writing
sees the answer rather than a reset.

uvicorn's h11 protocol was the alternative (h11 bounds its buffer, but answers 400, so it too needs a
subclass to say 431); measured on this machine it costs ~115 µs of server CPU per request against ~30 µs
for httptools, so the bounds are added to httptools.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any, ClassVar

import httptools
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.server import ServerState

from registrar.errors import RegistrarError
from registrar.ids import new_request_id

from .limits import HeadersTooLarge, RequestTimeout, UriTooLong, error_bytes

__all__ = ["BoundedHttpToolsProtocol", "WireLimits", "bounded_protocol"]

log = logging.getLogger("registrar.wire")

_LINGER_SECONDS = 2.0
_FIELD_OVERHEAD = 4  # ": " and CRLF around each header field, as it was on the wire


@dataclass(frozen=True, slots=True)
class WireLimits:
    """What one request's head may cost: bytes of request line and headers, and seconds to send them."""

    max_header_bytes: int = 16384
    header_timeout_seconds: float = 10.0


class _Refused(Exception):
    """Raised inside a parser callback to stop parsing; the protocol answers ``error``."""

    def __init__(self, error: RegistrarError):
        super().__init__(error.summary)
        self.error = error


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, refusing oversized or slow request heads (one per connection)."""

    limits: ClassVar[WireLimits] = WireLimits()

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._in_head = True  # no request, or one whose headers are incomplete
        self._head_bytes = 0  # request line and header fields of the current request, as parsed
        self._unparsed = 0  # bytes received while in the head: bounds what the parser holds unparsed
        self._deadline: asyncio.TimerHandle | None = None
        self._refused = False

    # Connection events

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Start the clock: the first request's headers are due within the header timeout."""
        super().connection_made(transport)
        self._arm_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        """Stop the clock."""
        self._disarm_deadline()
        super().connection_lost(exc)

    def eof_received(self) -> None:
        """The client is done sending: a refused connection can close now."""
        if self._refused:
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        """Feed the parser, refusing the request as soon as its head is too large."""
        if self._refused:
            return  # lingering: read and drop
        self._unset_keepalive_if_required()
        if self._in_head:
            self._unparsed += len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserCallbackError as exc:
            if isinstance(exc.__context__, _Refused):
                self._refuse(exc.__context__.error)
            else:
                self._bad_request()
            return
        except httptools.HttpParserError:
            self._bad_request()
            return
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        # One header line can be any length and the parser hands it over only once complete, so the
        # bytes it has not yet handed over are bounded here (to the limit plus one read at most).
        if self._in_head and self._unparsed > self.limits.max_header_bytes:
            self._refuse(HeadersTooLarge(self.limits.max_header_bytes))

    # Parser callbacks

    def on_message_begin(self) -> None:
        """A request starts: its headers are due within the header timeout."""
        super().on_message_begin()
        self._in_head = True
        self._head_bytes = 0
        self._arm_deadline()

    def on_url(self, url: bytes) -> None:
        """Count the request target."""
        self._head_bytes += len(url)
        if self._head_bytes > self.limits.max_header_bytes:
            raise _Refused(UriTooLong(self.limits.max_header_bytes))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        """Count one header field."""
        self._head_bytes += len(name) + len(value) + _FIELD_OVERHEAD
        if self._head_bytes > self.limits.max_header_bytes:
            raise _Refused(HeadersTooLarge(self.limits.max_header_bytes))
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        """The head is in: stop the clock and hand the request to the application."""
        self._in_head = False
        self._disarm_deadline()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        """The request is in; what comes next is the head of the next one."""
        super().on_message_complete()
        self._in_head = True
        self._unparsed = 0

    # Refusals

    def _bad_request(self) -> None:
        msg = "Invalid HTTP request received."
        self.logger.warning(msg)
        self.send_400_response(msg)

    def _refuse(self, error: RegistrarError) -> None:
        """Answer ``error`` without involving the application, then close after a lingering read."""
        self._disarm_deadline()
        if self._refused or self.transport.is_closing():
            return
        self._refused = True
        if self.cycle is not None and not self.cycle.response_complete:
            self.transport.close()  # a pipelined request is still being answered: no room for ours
            return
        peer = f"{self.client[0]}:{self.client[1]}" if self.client else "unknown"
        log.info("refused a request from %s: %d %s", peer, error.status, error.summary)
        body = error_bytes(error)
        head = [
            STATUS_LINE[error.status],
            b"content-type: application/json\r\n",
            b"content-length: %d\r\n" % len(body),
            b"x-okta-request-id: %s\r\n" % new_request_id().encode(),
            b"date: %s\r\n" % formatdate(usegmt=True).encode(),
            b"connection: close\r\n\r\n",
        ]
        self.transport.write(b"".join(head) + body)
        if self.transport.can_write_eof():
            self.transport.write_eof()
            self.loop.call_later(_LINGER_SECONDS, self.transport.close)
        else:
            self.transport.close()

    # The header-read deadline

    def _arm_deadline(self) -> None:
        if self._deadline is None:
            self._deadline = self.loop.call_later(self.limits.header_timeout_seconds, self._head_timed_out)

    def _disarm_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _head_timed_out(self) -> None:
        self._deadline = None
        if self.transport.is_closing() or not self._in_head:
            return
        if self._unparsed or self._head_bytes:
            self._refuse(RequestTimeout(self.limits.header_timeout_seconds))
        else:
            self.transport.close()  # connected, or kept alive, and said nothing


def bounded_protocol(limits: WireLimits) -> type[BoundedHttpToolsProtocol]:
    """The protocol class uvicorn instantiates per connection, bound to ``limits``."""
    bound: type[BoundedHttpToolsProtocol] = type(
        "BoundedHttpToolsProtocol", (BoundedHttpToolsProtocol,), {"limits": limits}
    )
    return bound
