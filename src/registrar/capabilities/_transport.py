"""The SSRF guard for the ``mcp`` SDK's client, which speaks ``httpx2`` asynchronously.

Each request is vetted and pinned by the discovery guard (``GuardedTransport.pin``: the name resolved once,
every address checked against the operator's policy, the connection made to the vetted address while TLS
keeps the hostname), then sent by an ``httpx2`` async transport with keep-alive off and no proxies. Bodies
are read raw (compressed answers are refused, so the caps bound what is read off the wire), at most
``max_response_bytes`` per response and ``max_total_bytes`` over the whole discovery.

The SDK turns a transport error into a generic JSON-RPC error, so the transport keeps what it saw: the
guard's own refusal (``failure``) and an HTTP 401/403 answer (``refusal``), for the caller to report.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from functools import cache

import anyio.to_thread
import httpx2

from registrar.controls import escape_controls, truncate
from registrar.discovery import FetchPolicy, GuardedTransport
from registrar.errors import DiscoveryFailed

__all__ = ["AsyncGuardedTransport"]


@cache
def _tls_context() -> ssl.SSLContext:
    return httpx2.create_ssl_context()  # ~19 ms of CPU: once per process


class _CappedStream(httpx2.AsyncByteStream):
    def __init__(self, inner: httpx2.AsyncByteStream, owner: AsyncGuardedTransport, url: str):
        self._inner = inner
        self._owner = owner
        self._url = url

    async def __aiter__(self) -> AsyncIterator[bytes]:
        size = 0
        async for chunk in self._inner:
            size += len(chunk)
            self._owner.check_size(self._url, size, len(chunk))
            yield chunk

    async def aclose(self) -> None:
        await self._inner.aclose()


class AsyncGuardedTransport(httpx2.AsyncBaseTransport):
    """Every request through the discovery guard; answers bounded; failures kept for the report."""

    def __init__(self, policy: FetchPolicy, *, max_response_bytes: int, max_total_bytes: int):
        self._guard = GuardedTransport(policy)
        self._inner = httpx2.AsyncHTTPTransport(
            verify=_tls_context(), trust_env=False, limits=httpx2.Limits(max_keepalive_connections=0)
        )
        self.max_response_bytes = max_response_bytes
        self.max_total_bytes = max_total_bytes
        self.total_bytes = 0
        self.failure: DiscoveryFailed | None = None
        self.refusal: str | None = None

    def fail(self, failure: DiscoveryFailed) -> DiscoveryFailed:
        """Keep the first failure (the SDK would report a generic error in its place) and return it."""
        if self.failure is None:
            self.failure = failure
        return failure

    def check_size(self, url: str, response_bytes: int, chunk_bytes: int) -> None:
        """Raise when a response, or the discovery's answers together, pass their cap."""
        self.total_bytes += chunk_bytes
        if response_bytes > self.max_response_bytes:
            limit = self.max_response_bytes // 1024
            raise self.fail(DiscoveryFailed(f"{_short(url)}: a response is larger than {limit} KiB"))
        if self.total_bytes > self.max_total_bytes:
            limit = self.max_total_bytes // (1024 * 1024)
            raise self.fail(DiscoveryFailed(f"{_short(url)}: the answers came to more than {limit} MiB"))

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        url = str(request.url)
        try:
            original = await anyio.to_thread.run_sync(self._guard.pin, request)
        except DiscoveryFailed as failure:  # UnsafeDestination included
            raise self.fail(failure) from None
        try:
            response = await self._inner.handle_async_request(request)
        finally:
            request.url = original
        encoding = response.headers.get("content-encoding", "identity").lower()
        if encoding not in ("", "identity"):
            await response.aclose()
            raise self.fail(DiscoveryFailed(f"{_short(url)}: compressed responses are not accepted"))
        if response.status_code in (401, 403) and self.refusal is None:
            self.refusal = f"HTTP {response.status_code}"
        stream = response.stream
        assert isinstance(stream, httpx2.AsyncByteStream)
        return httpx2.Response(
            response.status_code,
            headers=response.headers,
            stream=_CappedStream(stream, self, url),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self._inner.aclose()
        self._guard.close()


def _short(url: str, limit: int = 160) -> str:
    return escape_controls(truncate(url, limit))
