"""How event hooks reach the outside: one HTTP client behind the discovery SSRF guard (DESIGN.md invariant 7).

``hook_client`` is the only seam between hooks and the network. It reuses the discovery fetcher's pinned
transport: https only (http with ``REGISTRAR_DISCOVERY_ALLOW_HTTP``), every resolved address vetted against
the same allow-list, the connection made to the vetted address, no proxies, no redirects, no keep-alive.
Verification and delivery both go through :func:`call`, which caps the time and the bytes read.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx2

from registrar.config import Settings

# Hooks need POST and their own headers, so they use the guard's transport rather than its GET fetcher.
from registrar.discovery import FetchPolicy, GuardedTransport, parse_networks
from registrar.errors import DiscoveryFailed

__all__ = ["MAX_RESPONSE_BYTES", "USER_AGENT", "Answer", "CallFailed", "call", "hook_client"]

USER_AGENT = "Registrar-EventHooks/0.1"
MAX_RESPONSE_BYTES = 64 * 1024
_MAX_CONNECT_SECONDS = 5.0


class CallFailed(Exception):
    """A hook request that got no usable answer; ``reason`` is a sentence safe to store and to show."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Answer:
    """The receiver's status and (at most ``MAX_RESPONSE_BYTES`` of) its body."""

    status: int
    body: bytes


def hook_client(settings: Settings) -> httpx2.Client:
    """A client whose every request passes the SSRF guard, timed out after ``hook_timeout_seconds``."""
    timeout = settings.hook_timeout_seconds
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
        headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity"},
    )


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
    """Send one request; raises :class:`CallFailed` when there is no answer (refused, unreachable, slow)."""
    deadline = time.monotonic() + timeout
    try:
        request = client.build_request(method, url, headers=headers, content=content)
    except httpx2.InvalidURL:
        raise CallFailed("the uri is not a valid URL") from None
    try:
        response = client.send(request, stream=True)
    except DiscoveryFailed as error:  # the guard refused the destination, or the name did not resolve
        raise CallFailed(error.cause) from None
    except httpx2.TimeoutException:
        raise CallFailed(f"no answer within {timeout:g} s") from None
    except httpx2.HTTPError as error:
        raise CallFailed(_kind(error)) from None
    try:
        body = _read(response, deadline) if read_body else b""
    finally:
        response.close()
    return Answer(response.status_code, body)


def _read(response: httpx2.Response, deadline: float) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_RESPONSE_BYTES:
        raise CallFailed(f"the response is larger than {MAX_RESPONSE_BYTES // 1024} KiB")
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > MAX_RESPONSE_BYTES:
                raise CallFailed(f"the response is larger than {MAX_RESPONSE_BYTES // 1024} KiB")
            if time.monotonic() > deadline:
                raise CallFailed("the response took too long")
            chunks.append(chunk)
    except httpx2.TimeoutException:
        raise CallFailed("the response took too long") from None
    except httpx2.HTTPError as error:
        raise CallFailed(_kind(error)) from None
    return b"".join(chunks)


def _kind(error: httpx2.HTTPError) -> str:
    # A classified sentence, never the low-level message: it is stored and shown to admins.
    if isinstance(error, httpx2.ConnectError):
        return "could not connect"
    if isinstance(error, httpx2.RemoteProtocolError | httpx2.LocalProtocolError):
        return "the receiver broke the HTTP protocol"
    if isinstance(error, httpx2.NetworkError):
        return "the connection failed"
    return "the request failed"
