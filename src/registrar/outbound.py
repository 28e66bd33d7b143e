"""Bounded outbound HTTP through the discovery SSRF guard (DESIGN.md invariant 7).

Event hooks and witnesses POST to URLs an admin configured; they reuse the discovery fetcher's pinned
transport: https only (http with ``REGISTRAR_DISCOVERY_ALLOW_HTTP``), every resolved address vetted against
the same allow-list, the connection made to the vetted address, no proxies, no redirects, no keep-alive.
:func:`call` caps the time of the whole exchange and the bytes read.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx2

from registrar.config import Settings

# POST and own headers: the guard's transport rather than its GET fetcher.
from registrar.discovery import FetchPolicy, GuardedTransport, parse_networks, read_capped
from registrar.errors import DiscoveryFailed, Refusal
from registrar.params import ascii_int

__all__ = ["MAX_RESPONSE_BYTES", "Answer", "CallFailed", "call", "guarded_client"]

MAX_RESPONSE_BYTES = 64 * 1024
_MAX_CONNECT_SECONDS = 5.0

ResponseHook = Callable[[httpx2.Response], None]


def guarded_client(
    settings: Settings, *, timeout: float, user_agent: str, on_response: ResponseHook | None = None
) -> httpx2.Client:
    """A client whose every request passes the SSRF guard, each socket operation cut after ``timeout``."""
    connect = min(timeout, _MAX_CONNECT_SECONDS)
    policy = FetchPolicy(
        allow_http=settings.discovery_allow_http,
        allowed_networks=parse_networks(settings.discovery_allowed_networks),
        connect_timeout=connect,
        request_timeout=timeout,
    )
    return httpx2.Client(
        transport=GuardedTransport(policy),
        trust_env=False,
        follow_redirects=False,
        timeout=httpx2.Timeout(timeout, connect=connect),
        # Identity only: the body cap then bounds what is read off the wire, not a decompressed bomb.
        headers={"User-Agent": user_agent, "Accept-Encoding": "identity"},
        event_hooks={"response": [on_response] if on_response is not None else []},
    )


class CallFailed(Refusal):
    """A request that got no usable answer; ``reason`` is a sentence safe to store and to show."""


@dataclass(frozen=True, slots=True)
class Answer:
    """The receiver's status and (at most ``MAX_RESPONSE_BYTES`` of) its body."""

    status: int
    body: bytes


class _Watchdog:
    """Cuts a request's connection when its time is up, in whatever phase the request is.

    ``httpx2`` timeouts bound each socket operation, not the request: a receiver that trickles its status
    line or body one byte at a time never trips them. The watchdog keeps a duplicate of the connection's
    socket (from the public ``trace`` extension) and shuts it down at the deadline, which wakes the blocked
    read with an error. The duplicate is closed afterwards, so a reused descriptor is never touched.
    """

    def __init__(self, seconds: float):
        self._lock = threading.Lock()
        self._socket: socket.socket | None = None
        self.fired = False
        self._timer = threading.Timer(seconds, self._cut)
        self._timer.daemon = True

    def trace(self, event: str, info: Mapping[str, Any]) -> None:
        """The ``trace`` request extension: take hold of the socket once it is connected."""
        if not event.endswith("connect_tcp.complete"):
            return
        stream = info.get("return_value")
        raw = None if stream is None else stream.get_extra_info("socket")
        if not isinstance(raw, socket.socket):
            return
        with self._lock:
            if self._socket is None:
                self._socket = raw.dup()
                if self.fired:
                    self._shutdown()

    def __enter__(self) -> _Watchdog:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        with self._lock:
            if self._socket is not None:
                self._socket.close()
                self._socket = None

    def _cut(self) -> None:
        with self._lock:
            self.fired = True
            if self._socket is not None:
                self._shutdown()

    def _shutdown(self) -> None:
        assert self._socket is not None
        with contextlib.suppress(OSError):  # already closed by the other side: nothing left to cut
            self._socket.shutdown(socket.SHUT_RDWR)


def call(
    client: httpx2.Client,
    method: str,
    url: str,
    *,
    headers: list[tuple[str, str]],
    timeout: float,
    content: bytes | None = None,
    read_body: bool = False,
) -> Answer:
    """Send one request; raises :class:`CallFailed` when there is no answer (refused, unreachable, slow).

    The whole exchange, from connecting to the last byte read, ends within ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    slow = f"no answer within {timeout:g} s"
    try:
        request = client.build_request(method, url, headers=headers, content=content)
    except httpx2.InvalidURL:
        raise CallFailed("the uri is not a valid URL") from None
    with _Watchdog(timeout) as watchdog:
        request.extensions["trace"] = watchdog.trace
        try:
            response = client.send(request, stream=True)
        except DiscoveryFailed as error:  # the guard refused the destination, or the name did not resolve
            raise CallFailed(error.cause) from None
        except httpx2.TimeoutException:
            raise CallFailed(slow) from None
        except httpx2.HTTPError as error:
            raise CallFailed(slow if watchdog.fired else _kind(error)) from None
        try:
            body = _read(response, deadline) if read_body else b""
        except CallFailed:
            if watchdog.fired:
                raise CallFailed("the response took too long") from None
            raise
        finally:
            response.close()
    return Answer(response.status_code, body)


def _read(response: httpx2.Response, deadline: float) -> bytes:
    too_large = f"the response is larger than {MAX_RESPONSE_BYTES // 1024} KiB"
    declared = response.headers.get("content-length", "")
    if (ascii_int(declared) or 0) > MAX_RESPONSE_BYTES:
        raise CallFailed(too_large)
    return read_capped(
        response.iter_bytes(),
        MAX_RESPONSE_BYTES,
        deadline,
        CallFailed,
        too_large=too_large,
        too_slow="the response took too long",
        kind=_kind,
    )


def _kind(error: httpx2.HTTPError) -> str:
    # A classified sentence, never the low-level message: it is stored and shown to admins.
    if isinstance(error, httpx2.ConnectError):
        return "could not connect"
    if isinstance(error, httpx2.RemoteProtocolError | httpx2.LocalProtocolError):
        return "the receiver broke the HTTP protocol"
    if isinstance(error, httpx2.NetworkError):
        return "the connection failed"
    return "the request failed"
