"""The SSRF-guarded HTTP fetcher every discovery request goes through (DESIGN.md invariant 7).

Why our own, on ``httpx2``, rather than a library (each was installed and read; see the reference's §4.4):

* ``drawbridge`` (the closest fit: resolve, vet every address, pin, Host + SNI, manual redirects, body cap)
  is built on ``httpx`` 0.28, a second HTTP stack beside the ``httpx2`` the project already uses (Starlette's
  test client, the ``mcp`` SDK). It also has no overall deadline (per-phase timeouts only), a hard-coded
  DNS timeout, no way to inject a resolver (so pinning cannot be tested without patching its internals),
  and a deny list that misses IPv4-compatible ``::/96``, site-local ``fec0::/10`` and Azure's wireserver.
* ``httpx-secure`` picks the address by *opening a TCP connection* to the host (a probe that reaches a
  denied address before the check), validates only that one address, caches verdicts for ten minutes,
  lets multicast and 6to4 through, and patches private ``httpx``/``httpcore`` internals.
* ``safehttpx`` (the only one on ``httpx2``) treats ``100.64.0.0/10`` as public, falls back to DNS over
  HTTPS at a third party, and caches resolutions; ``advocate`` needs urllib3 < 2; Microsoft's AntiSSRF is
  ``requests``-based.

What is ours is small and uses public ``httpx2`` API only: a transport that resolves the host once,
refuses the request if *any* address is not allowed, then dials the first vetted address by rewriting the
request URL to it while the ``Host`` header and TLS SNI/certificate check keep the hostname (the
``sni_hostname`` request extension). Keep-alive is off, so no connection is reused across hostnames.
Redirects are never followed (the MCP SDK's own discovery does not follow them either); environment
proxies are ignored; bodies are capped while streaming; every request has a connect timeout and a deadline.
"""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from functools import cache
from ipaddress import ip_address
from types import TracebackType
from typing import Self

import httpx2

from registrar.config import Settings
from registrar.controls import escape_controls, has_controls, truncate
from registrar.domain.urls import url_problem
from registrar.errors import DiscoveryFailed, UnsafeDestination
from registrar.params import ascii_int

from ._addresses import AddressPolicy, IPAddress, IPNetwork, literal_address, parse_networks

__all__ = [
    "MAX_BODY_BYTES",
    "FetchPolicy",
    "Fetched",
    "GuardedFetcher",
    "GuardedTransport",
    "Resolver",
    "system_resolver",
]

MAX_BODY_BYTES = 256 * 1024
USER_AGENT = "Registrar-Discovery/0.1"

Resolver = Callable[[str, int, float], Sequence[IPAddress]]
"""``(hostname, port, timeout)`` → every address the name resolves to."""

# getaddrinfo cannot be interrupted; a small pool bounds how many threads slow names can hold.
_DNS_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="registrar-dns")
_DEADLINE = "registrar_deadline"


def system_resolver(host: str, port: int, timeout: float) -> Sequence[IPAddress]:
    """All A/AAAA addresses of ``host`` from the operating system's resolver, within ``timeout``."""
    future = _DNS_POOL.submit(socket.getaddrinfo, host, port, socket.AF_UNSPEC, socket.SOCK_STREAM)
    try:
        infos = future.result(timeout=max(timeout, 0.001))
    except FutureTimeout:
        raise DiscoveryFailed(f"{host}: name resolution timed out") from None
    except (OSError, UnicodeError):
        raise DiscoveryFailed(f"{host}: the name does not resolve") from None
    return list(dict.fromkeys(ip_address(info[4][0]) for info in infos))


@dataclass(frozen=True, slots=True)
class FetchPolicy:
    """Where discovery may connect and how long and how much it may read."""

    allow_http: bool = False
    allowed_networks: tuple[IPNetwork, ...] = ()
    connect_timeout: float = 5.0
    request_timeout: float = 10.0  # one request, from resolving the name to the last byte
    discovery_timeout: float = 30.0  # all requests of one discovery run
    max_body_bytes: int = MAX_BODY_BYTES
    resolver: Resolver = field(default=system_resolver, compare=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> FetchPolicy:
        """The operator's policy: ``REGISTRAR_DISCOVERY_ALLOW_HTTP`` and ``..._ALLOWED_NETWORKS``."""
        return cls(
            allow_http=settings.discovery_allow_http,
            allowed_networks=parse_networks(settings.discovery_allowed_networks),
        )

    @property
    def addresses(self) -> AddressPolicy:
        """The address rule of this policy."""
        return AddressPolicy(self.allowed_networks)


@dataclass(frozen=True, slots=True)
class Fetched:
    """A response that passed the guard: status, headers and (at most ``max_body_bytes`` of) body."""

    url: str
    status: int
    headers: httpx2.Headers
    body: bytes


@cache
def _tls_context() -> ssl.SSLContext:
    # Loading the CA bundle costs ~19 ms of CPU: build the (thread-safe) context once per process,
    # not once per transport. Verification and hostname checks are httpx2's defaults.
    return httpx2.create_ssl_context()


class GuardedTransport(httpx2.BaseTransport):
    """Vets the destination of every request and connects to the vetted address only."""

    def __init__(self, policy: FetchPolicy):
        self._policy = policy
        self._inner = httpx2.HTTPTransport(
            verify=_tls_context(), trust_env=False, limits=httpx2.Limits(max_keepalive_connections=0)
        )

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        original = self.pin(request)
        try:
            return self._inner.handle_request(request)
        finally:
            request.url = original

    def pin(self, request: httpx2.Request) -> httpx2.URL:
        """Vet ``request``'s destination and point it at the vetted address; returns the URL it had.

        Public so that an async transport (the ``mcp`` SDK's client is async) applies the same guard.
        """
        url = request.url
        if url.scheme not in (("http", "https") if self._policy.allow_http else ("https",)):
            raise UnsafeDestination(f"{url}: only https URLs may be fetched")
        host = url.raw_host.decode("ascii")
        port = url.port or (443 if url.scheme == "https" else 80)
        deadline = float(request.extensions.get(_DEADLINE, time.monotonic() + self._policy.connect_timeout))
        address = self._vet(host, port, deadline)
        request.url = url.copy_with(host=str(address))
        if url.scheme == "https" and literal_address(host) is None:
            # TLS still names, and verifies the certificate of, the host the URL gave.
            request.extensions["sni_hostname"] = host
        return url

    def _vet(self, host: str, port: int, deadline: float) -> IPAddress:
        literal = literal_address(host)
        if literal is not None:
            addresses: Sequence[IPAddress] = [literal]
        else:
            budget = min(self._policy.connect_timeout, deadline - time.monotonic())
            addresses = self._policy.resolver(host, port, budget)
        if not addresses:
            raise DiscoveryFailed(f"{host}: the name does not resolve")
        for address in addresses:
            why = self._policy.addresses.refusal(address)
            if why is not None:
                shown = host if literal is not None else f"{host} resolves to {address}, which"
                raise UnsafeDestination(f"{shown} is not a public address ({why}); nothing was fetched")
        return addresses[0]

    def close(self) -> None:
        self._inner.close()


class GuardedFetcher:
    """GETs through the SSRF guard, all within one discovery deadline. Use as a context manager."""

    def __init__(self, policy: FetchPolicy):
        self.policy = policy
        self._deadline = time.monotonic() + policy.discovery_timeout
        self._client = httpx2.Client(
            transport=GuardedTransport(policy),
            trust_env=False,
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity"},
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._client.close()

    def get(self, url: str, *, accept: str = "application/json", read_body: bool = True) -> Fetched:
        """GET ``url`` (never following a redirect); raises ``DiscoveryFailed`` / ``UnsafeDestination``."""
        why = url_problem(url, allow_http=self.policy.allow_http)
        if why is None and has_controls(url):  # C1: url_problem refuses C0 and DEL only
            why = "must not contain control characters"
        if why is not None:
            raise UnsafeDestination(f"{_short(url)}: {why}")
        now = time.monotonic()
        deadline = min(now + self.policy.request_timeout, self._deadline)
        if deadline <= now:
            raise DiscoveryFailed(f"{_short(url)}: discovery ran out of time")
        try:
            request = self._client.build_request("GET", url, headers={"Accept": accept})
        except httpx2.InvalidURL:
            raise UnsafeDestination(f"{_short(url)}: is not a valid URL") from None
        remaining = deadline - now
        request.extensions["timeout"] = httpx2.Timeout(
            remaining, connect=min(self.policy.connect_timeout, remaining)
        ).as_dict()
        request.extensions[_DEADLINE] = deadline
        try:
            response = self._client.send(request, stream=True)
        except httpx2.TimeoutException:
            raise DiscoveryFailed(f"{_short(url)}: timed out") from None
        except httpx2.ConnectError:
            raise DiscoveryFailed(f"{_short(url)}: could not connect") from None
        except httpx2.HTTPError as error:
            raise DiscoveryFailed(f"{_short(url)}: {_kind(error)}") from None
        try:
            body = self._read(url, response, deadline) if read_body else b""
        finally:
            response.close()
        return Fetched(url, response.status_code, response.headers, body)

    def _read(self, url: str, response: httpx2.Response, deadline: float) -> bytes:
        limit = self.policy.max_body_bytes
        too_large = f"the response is larger than {limit // 1024} KiB"

        def failed(why: str) -> DiscoveryFailed:
            return DiscoveryFailed(f"{_short(url)}: {why}")

        declared = response.headers.get("content-length", "")
        if (ascii_int(declared) or 0) > limit:
            raise failed(too_large)
        if response.headers.get("content-encoding", "identity").lower() not in ("", "identity"):
            raise failed("compressed responses are not accepted")
        return read_capped(
            response.iter_raw(),
            limit,
            deadline,
            failed,
            too_large=too_large,
            too_slow="timed out",
            kind=_kind,
        )


def read_capped(
    chunks: Iterable[bytes],
    limit: int,
    deadline: float,
    failed: Callable[[str], Exception],
    *,
    too_large: str,
    too_slow: str,
    kind: Callable[[httpx2.HTTPError], str],
) -> bytes:
    """The body ``chunks`` stream, joined, or ``failed(why)`` raised: ``too_large`` once it passes ``limit``
    bytes, ``too_slow`` once the ``time.monotonic()`` deadline has passed or a read times out, and the
    ``kind`` of any other HTTP error. Nothing past the limit is kept."""
    collected: list[bytes] = []
    size = 0
    try:
        for chunk in chunks:
            size += len(chunk)
            if size > limit:
                raise failed(too_large)
            if time.monotonic() > deadline:
                raise failed(too_slow)
            collected.append(chunk)
    except httpx2.TimeoutException:
        raise failed(too_slow) from None
    except httpx2.HTTPError as error:
        raise failed(kind(error)) from None
    return b"".join(collected)


def _kind(error: httpx2.HTTPError) -> str:
    # A classified sentence, never the low-level message: errors go back to the caller and the log.
    if isinstance(error, httpx2.RemoteProtocolError | httpx2.LocalProtocolError):
        return "the server broke the HTTP protocol"
    if isinstance(error, httpx2.NetworkError):
        return "the connection failed"
    return "the request failed"


def _short(url: str, limit: int = 160) -> str:
    # Quoted in causes and events: cut, and control characters (C1 passes url_problem) escaped.
    return escape_controls(truncate(url, limit))
