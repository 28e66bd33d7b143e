"""MCP authorization discovery: from a resource URL to its authorization servers' metadata.

The steps of the MCP specification (2025-11-25 and later) with the exact-match rules of RFC 9728 §3.3 and
RFC 8414 §3.3 / SEP-2468: an unauthenticated request to the resource; the ``resource_metadata`` URL of a
401's ``WWW-Authenticate`` challenge, else the well-known locations; ``resource`` identical to the URL;
then for each authorization server the ordered metadata probes and an ``issuer`` identical to the one
listed. Every request goes through ``GuardedFetcher``.

Every document is hostile until checked: the strings kept from it pass the rules of admin input
(``registrar.domain.mcp``), the issuers listed and a challenge's ``resource_metadata`` URL carry no
control characters, and what an error message quotes from a remote answer is escaped and cut, so that a
``DiscoveryFailed`` cause, and the FAILURE event recording it, is clean text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from registrar.controls import control_problem, escape_controls, truncate
from registrar.domain.mcp import AuthServerMetadata, ResourceMetadata
from registrar.domain.urls import MAX_URL_LENGTH, url_problem
from registrar.errors import DiscoveryFailed

from ._fetch import Fetched, FetchPolicy, GuardedFetcher
from ._wellknown import (
    authorization_server_metadata_urls,
    protected_resource_metadata_urls,
    resource_metadata_from_challenge,
)

__all__ = [
    "MAX_AUTHORIZATION_SERVERS",
    "NO_AUTHORIZATION_SERVERS",
    "AuthServerResult",
    "Discovery",
    "discover",
    "discover_authorization_server",
]

MAX_AUTHORIZATION_SERVERS = 10
NO_AUTHORIZATION_SERVERS = "No authorization servers found"


@dataclass(frozen=True, slots=True)
class AuthServerResult:
    """One listed authorization server: its metadata, or why it could not be established."""

    issuer: str
    metadata: AuthServerMetadata | None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Discovery:
    """The outcome of a discovery whose protected-resource step succeeded."""

    resource_url: str
    resource: ResourceMetadata
    authorization_servers: tuple[AuthServerResult, ...]

    @property
    def first_error(self) -> str | None:
        """The first authorization server's failure, if any failed."""
        return next((a.error for a in self.authorization_servers if a.error is not None), None)


def discover(resource_url: str, policy: FetchPolicy) -> Discovery:
    """Discover ``resource_url``'s metadata; raises ``DiscoveryFailed`` when its own metadata fails.

    An authorization server that fails does not raise: its ``AuthServerResult`` carries the error, so a
    refresh can mark that one server INVALID while registration refuses the whole server.
    """
    with GuardedFetcher(policy) as fetcher:
        resource, issuers = _protected_resource(fetcher, resource_url)
        servers = tuple(_authorization_server(fetcher, issuer) for issuer in issuers)
    return Discovery(resource_url, resource, servers)


def _protected_resource(fetcher: GuardedFetcher, resource_url: str) -> tuple[ResourceMetadata, list[str]]:
    probe = fetcher.get(resource_url, accept="application/json, text/event-stream", read_body=False)
    named = None
    if probe.status == 401:
        named = resource_metadata_from_challenge(probe.headers.get_list("www-authenticate"))
        if named is not None and (why := control_problem(named, MAX_URL_LENGTH)):
            raise DiscoveryFailed(f"the resource_metadata URL of the WWW-Authenticate challenge {why}")
    candidates = [named] if named else protected_resource_metadata_urls(resource_url)
    tried: list[str] = []
    for url in candidates:
        response = fetcher.get(url)
        if response.status != 200:
            tried.append(_status(response))
            continue
        doc = _json_object(response)
        resource = doc.get("resource")
        if resource != resource_url:
            raise DiscoveryFailed(
                f"The protected resource metadata at {url} is for {_show(resource)}, not {resource_url} "
                "(the two must be identical)"
            )
        issuers = _issuers(doc)
        try:
            return ResourceMetadata.from_document(doc), issuers
        except DiscoveryFailed as failure:
            raise DiscoveryFailed(f"the protected resource metadata at {url}: {failure.cause}") from None
    raise DiscoveryFailed("No protected resource metadata found: " + "; ".join(tried))


def _issuers(doc: dict[str, Any]) -> list[str]:
    listed = doc.get("authorization_servers")
    if listed is None or listed == []:
        raise DiscoveryFailed(NO_AUTHORIZATION_SERVERS)
    if not isinstance(listed, list) or not all(isinstance(i, str) and i for i in listed):
        raise DiscoveryFailed(
            "authorization_servers in the protected resource metadata must be a list of URLs"
        )
    for index, issuer in enumerate(listed):
        # Each issuer is quoted in messages and stored: refuse what would make those unclean.
        if why := control_problem(issuer, MAX_URL_LENGTH):
            raise DiscoveryFailed(f"authorization_servers[{index}] in the protected resource metadata {why}")
    issuers = list(dict.fromkeys(listed))
    if len(issuers) > MAX_AUTHORIZATION_SERVERS:
        raise DiscoveryFailed(
            f"The protected resource metadata lists {len(issuers)} authorization servers; "
            f"at most {MAX_AUTHORIZATION_SERVERS} are supported"
        )
    return issuers


def discover_authorization_server(issuer: str, policy: FetchPolicy) -> AuthServerResult:
    """One authorization server's metadata, found by the MCP-ordered probes and an exact issuer match."""
    with GuardedFetcher(policy) as fetcher:
        return _authorization_server(fetcher, issuer)


def _authorization_server(fetcher: GuardedFetcher, issuer: str) -> AuthServerResult:
    try:
        return AuthServerResult(issuer, _authorization_server_metadata(fetcher, issuer))
    except DiscoveryFailed as failure:
        return AuthServerResult(issuer, None, f"Authorization server {issuer}: {failure.cause}")


def _authorization_server_metadata(fetcher: GuardedFetcher, issuer: str) -> AuthServerMetadata:
    allow_http = fetcher.policy.allow_http
    why = url_problem(issuer, allow_http=allow_http) or ("must not have a query" if "?" in issuer else None)
    if why is not None:
        raise DiscoveryFailed(f"the issuer {why}")
    tried: list[str] = []
    for url in authorization_server_metadata_urls(issuer):
        response = fetcher.get(url)
        if response.status != 200:
            tried.append(_status(response))
            continue
        doc = _json_object(response)
        if doc.get("issuer") != issuer:
            raise DiscoveryFailed(
                f"the metadata at {url} names issuer {_show(doc.get('issuer'))} (the two must be identical)"
            )
        token_endpoint = doc.get("token_endpoint")
        if not isinstance(token_endpoint, str) or url_problem(token_endpoint, allow_http=allow_http):
            raise DiscoveryFailed(f"the metadata at {url} has no usable token_endpoint")
        try:
            return AuthServerMetadata.from_document(doc, token_endpoint)
        except DiscoveryFailed as failure:
            raise DiscoveryFailed(f"the metadata at {url}: {failure.cause}") from None
    raise DiscoveryFailed("no metadata found: " + "; ".join(tried))


def _json_object(response: Fetched) -> dict[str, Any]:
    media = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media != "application/json" and not media.endswith("+json"):
        shown = escape_controls(truncate(media, 100)) if media else "without a content type"
        raise DiscoveryFailed(f"{response.url} answered {shown}, not JSON")
    try:
        doc = orjson.loads(response.body)
    except orjson.JSONDecodeError:
        raise DiscoveryFailed(f"{response.url} answered malformed JSON") from None
    if not isinstance(doc, dict):
        raise DiscoveryFailed(f"{response.url} answered JSON that is not an object")
    return doc


def _status(response: Fetched) -> str:
    note = ", redirects are not followed" if 300 <= response.status < 400 else ""
    return f"{response.url} answered HTTP {response.status}{note}"


def _show(value: object, limit: int = 120) -> str:
    text = repr(value) if isinstance(value, str) else ("nothing" if value is None else "a non-string")
    return text if len(text) <= limit else text[: limit - 1] + "…"
