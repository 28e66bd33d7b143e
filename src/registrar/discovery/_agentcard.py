"""A2A agent-card discovery: from an agent's resource URL to its card and the authorization servers it names.

The card is read at ``<resourceUrl>/.well-known/agent-card.json`` (A2A 0.3 and later), else at the older
``/.well-known/agent.json``, through the SSRF-guarded fetcher (bounded body, no redirects). Two card shapes
are read: A2A 1.x, whose ``securitySchemes`` values wrap the scheme (``{"oauth2SecurityScheme": {...}}``)
and whose endpoints are ``supportedInterfaces``, and A2A 0.3, whose schemes carry a ``type`` member and
whose endpoint is a top-level ``url`` with ``protocolVersion``. (The a2a-sdk serves both at once, one
merged into the other, to agents speaking 0.3.)

Authorization servers come from the schemes, each checked as MCP discovery checks them: an OAuth 2 scheme's
``oauth2MetadataUrl`` and an OpenID Connect scheme's ``openIdConnectUrl`` name a metadata document; its
``issuer`` is accepted only if the document's URL is one that issuer's metadata URLs are built as (RFC 8414
§3.3, OpenID Connect Discovery §4.3: ``https://as/`` and ``https://as`` both publish at
``https://as/.well-known/…``, so the URL alone does not fix the spelling). An OAuth 2 scheme that names
flows only makes the origin of each flow's endpoint a candidate, linked only if that origin's own metadata
is found and names that origin as issuer; otherwise it is left unlinked (a note, not an error). Each
issuer is then established by the same MCP-ordered probes and exact issuer match as for MCP servers.

The card is hostile input: what is kept of it for display (name, description, versions, URL, scheme names)
is stripped of control characters and cut to a bound; URLs that will be fetched are refused when they hold
control characters; the numbers of schemes and of authorization servers are bounded.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from registrar.controls import control_problem, truncate
from registrar.domain.mcp import MAX_ITEM_LENGTH, MAX_NAME_LENGTH, remote_text
from registrar.domain.urls import MAX_URL_LENGTH
from registrar.errors import DiscoveryFailed

from ._discover import (
    MAX_AUTHORIZATION_SERVERS,
    AuthServerResult,
    _authorization_server,
    _json_object,
    _show,
    _status,
)
from ._fetch import FetchPolicy, GuardedFetcher
from ._wellknown import OAUTH_SERVER, OPENID, authorization_server_metadata_urls

__all__ = [
    "AGENT_CARD_PATHS",
    "MAX_SECURITY_SCHEMES",
    "AgentCardDiscovery",
    "fetch_agent_card",
]

AGENT_CARD_PATHS = ("/.well-known/agent-card.json", "/.well-known/agent.json")
MAX_SECURITY_SCHEMES = 32
MAX_DESCRIPTION_LENGTH = 1024  # as an admin's description

# A2A 1.x wraps each scheme in a member named for its kind; 0.3 says the kind in ``type``.
_WRAPPED = {
    "oauth2SecurityScheme": "oauth2",
    "openIdConnectSecurityScheme": "openIdConnect",
    "apiKeySecurityScheme": "apiKey",
    "httpAuthSecurityScheme": "http",
    "mtlsSecurityScheme": "mutualTLS",
}
_FLOW_ENDPOINTS = ("tokenUrl", "authorizationUrl", "deviceAuthorizationUrl")

# Display text loses every control character; the three that separate words become a space.
_STRIP = {**dict.fromkeys([*range(0x20), *range(0x7F, 0xA0)]), 0x09: 0x20, 0x0A: 0x20, 0x0D: 0x20}


@dataclass(frozen=True, slots=True)
class AgentCardDiscovery:
    """What an agent card said (cleaned and bounded) and the authorization servers it led to.

    ``error`` is set, and nothing else is, when no usable card was found: unreachable, refused by the
    SSRF guard, not JSON, not an agent card, no name. An authorization server that could not be
    established carries its own ``error``; ``unlinked`` says why a flow-only candidate was not linked.
    """

    resource_url: str
    card_url: str | None = None
    name: str | None = None
    description: str | None = None
    version: str | None = None
    url: str | None = None
    protocol_version: str | None = None
    skills_count: int = 0
    security_schemes: tuple[str, ...] = ()
    authorization_servers: list[AuthServerResult] = field(default_factory=list)
    error: str | None = None
    unlinked: tuple[str, ...] = ()

    @property
    def first_error(self) -> str | None:
        """The card's failure, else the first authorization server's, if any failed."""
        if self.error is not None:
            return self.error
        return next((a.error for a in self.authorization_servers if a.error is not None), None)

    @property
    def detected_metadata(self) -> dict[str, Any]:
        """The API / storage form of what the card declared."""
        return {
            "name": self.name,
            "description": self.description,
            "version": self.version,
            "url": self.url,
            "protocolVersion": self.protocol_version,
            "skillsCount": self.skills_count,
            "securitySchemes": list(self.security_schemes),
            "cardUrl": self.card_url,
        }


@dataclass(frozen=True, slots=True)
class _Candidate:
    """Where an authorization server's issuer may be learnt: the metadata URLs to read, in order."""

    scheme: str
    urls: tuple[str, ...]
    named: bool  # the card named the metadata URL itself (its failure is an error, not a note)


def fetch_agent_card(resource_url: str, policy: FetchPolicy) -> AgentCardDiscovery:
    """Fetch and summarise ``resource_url``'s agent card and establish the authorization servers it names."""
    with GuardedFetcher(policy) as fetcher:
        try:
            card_url, doc = _card(fetcher, resource_url)
            found = _summary(resource_url, card_url, doc)
            candidates = _candidates(doc.get("securitySchemes"))
        except DiscoveryFailed as failure:
            return AgentCardDiscovery(resource_url, error=failure.cause)
        servers, unlinked = _link(fetcher, candidates)
    return replace(found, authorization_servers=servers, unlinked=unlinked)


def _link(
    fetcher: GuardedFetcher, candidates: list[_Candidate]
) -> tuple[list[AuthServerResult], tuple[str, ...]]:
    """Each distinct issuer the candidates lead to, established; and why flow-only ones led nowhere."""
    servers: dict[str, AuthServerResult] = {}
    unlinked: list[str] = []
    for candidate in candidates:
        issuer, why = _issuer(fetcher, candidate)
        if issuer is not None:
            servers.setdefault(issuer, _authorization_server(fetcher, issuer))
        elif candidate.named:
            named = _issuer_of_metadata_url(candidate.urls[0]) or candidate.urls[0]
            servers.setdefault(named, AuthServerResult(named, None, f"Authorization server {named}: {why}"))
        else:
            unlinked.append(why)
    return list(servers.values()), tuple(unlinked)


def _card(fetcher: GuardedFetcher, resource_url: str) -> tuple[str, dict[str, Any]]:
    parts = urlsplit(resource_url)
    if parts.query or parts.fragment:
        raise DiscoveryFailed("an A2A server's resourceUrl must not have a query or a fragment")
    base = resource_url.rstrip("/")
    tried: list[str] = []
    for path in AGENT_CARD_PATHS:
        response = fetcher.get(base + path)
        if response.status != 200:
            tried.append(_status(response))
            continue
        return response.url, _json_object(response)
    raise DiscoveryFailed("No agent card found: " + "; ".join(tried))


def _text(value: Any, limit: int) -> str | None:
    """A display string of the card: control characters stripped, cut to ``limit``; empty → None."""
    if not isinstance(value, str):
        return None
    return truncate(value.translate(_STRIP).strip(), limit) or None


def _summary(resource_url: str, card_url: str, doc: Mapping[str, Any]) -> AgentCardDiscovery:
    name = _text(doc.get("name"), MAX_NAME_LENGTH)
    if name is None:
        raise DiscoveryFailed(f"the agent card at {card_url} has no name")
    interfaces = doc.get("supportedInterfaces")
    if interfaces is not None and not isinstance(interfaces, list):
        raise DiscoveryFailed(f"the agent card at {card_url} is not an agent card: supportedInterfaces")
    first: Mapping[str, Any] = interfaces[0] if interfaces and isinstance(interfaces[0], dict) else {}
    url = first.get("url") or doc.get("url")
    if not isinstance(url, str) or not url:
        raise DiscoveryFailed(f"the agent card at {card_url} is not an agent card: it names no endpoint")
    skills = doc.get("skills", [])
    schemes = doc.get("securitySchemes", {})
    for member, value, kind in (("skills", skills, list), ("securitySchemes", schemes, dict)):
        if not isinstance(value, kind):
            raise DiscoveryFailed(f"the agent card at {card_url} is not an agent card: {member}")
    if len(schemes) > MAX_SECURITY_SCHEMES:
        raise DiscoveryFailed(
            f"the agent card declares {len(schemes)} security schemes; at most {MAX_SECURITY_SCHEMES} "
            "are supported"
        )
    return AgentCardDiscovery(
        resource_url,
        card_url=card_url,
        name=name,
        description=_text(doc.get("description"), MAX_DESCRIPTION_LENGTH),
        version=_text(doc.get("version"), MAX_ITEM_LENGTH),
        url=_text(url, MAX_URL_LENGTH),
        protocol_version=_text(first.get("protocolVersion") or doc.get("protocolVersion"), MAX_ITEM_LENGTH),
        skills_count=len(skills),
        security_schemes=tuple(dict.fromkeys(n for n in map(_scheme_name, schemes) if n is not None)),
    )


def _scheme_name(name: str) -> str | None:
    return _text(name, MAX_ITEM_LENGTH)


def _kind(scheme: Mapping[str, Any]) -> tuple[str | None, Mapping[str, Any]]:
    """A scheme's kind and its members, from either shape (a wrapper wins over ``type``)."""
    for wrapper, kind in _WRAPPED.items():
        inner = scheme.get(wrapper)
        if isinstance(inner, dict):
            return kind, inner
    named = scheme.get("type")
    return (named if isinstance(named, str) else None), scheme


def _candidates(schemes: Mapping[str, Any] | None) -> list[_Candidate]:
    found: dict[tuple[str, ...], _Candidate] = {}
    for name, scheme in (schemes or {}).items():
        if isinstance(scheme, dict):
            for candidate in _scheme_candidates(_scheme_name(name) or "?", scheme):
                found.setdefault(candidate.urls, candidate)
    if len(found) > MAX_AUTHORIZATION_SERVERS:
        raise DiscoveryFailed(
            f"the agent card's security schemes name {len(found)} authorization servers; "
            f"at most {MAX_AUTHORIZATION_SERVERS} are supported"
        )
    return list(found.values())


def _scheme_candidates(name: str, scheme: Mapping[str, Any]) -> Iterator[_Candidate]:
    kind, members = _kind(scheme)
    if kind == "openIdConnect":
        if (url := _fetchable(name, members, "openIdConnectUrl")) is not None:
            yield _Candidate(name, (url,), named=True)
    elif kind == "oauth2":
        if (url := _fetchable(name, members, "oauth2MetadataUrl")) is not None:
            yield _Candidate(name, (url,), named=True)
            return
        flows = members.get("flows")
        for flow in flows.values() if isinstance(flows, dict) else ():
            for key in _FLOW_ENDPOINTS if isinstance(flow, dict) else ():
                if (endpoint := _fetchable(name, flow, key)) is not None:
                    parts = urlsplit(endpoint)
                    origin = f"{parts.scheme}://{parts.netloc}"
                    yield _Candidate(name, tuple(authorization_server_metadata_urls(origin)), named=False)


def _fetchable(scheme: str, members: Mapping[str, Any], key: str) -> str | None:
    """A URL member the discovery will fetch: absent → None; a control character refuses the card."""
    return remote_text(members, key, MAX_URL_LENGTH, member=f"securitySchemes.{scheme}.{key}")


def _issuer(fetcher: GuardedFetcher, candidate: _Candidate) -> tuple[str | None, str]:
    """The issuer whose metadata a candidate's URLs hold, or None and why not."""
    if candidate.named and _issuer_of_metadata_url(candidate.urls[0]) is None:
        return None, (
            f"security scheme {candidate.scheme}: {_show(candidate.urls[0])} is not a well-known "
            "metadata URL (RFC 8414, OpenID Connect Discovery)"
        )
    tried: list[str] = []
    for url in candidate.urls:
        try:
            response = fetcher.get(url)
            if response.status != 200:
                tried.append(_status(response))
                continue
            issuer = _json_object(response).get("issuer")
        except DiscoveryFailed as failure:
            return None, f"security scheme {candidate.scheme}: {failure.cause}"
        if isinstance(issuer, str) and url in _metadata_urls(issuer):
            return issuer, ""
        return None, (
            f"security scheme {candidate.scheme}: the metadata at {url} names issuer {_show(issuer)}, "
            "whose metadata would not be published there (the two must match)"
        )
    return None, f"security scheme {candidate.scheme}: no metadata found: " + "; ".join(tried)


def _metadata_urls(issuer: str) -> list[str]:
    """Where ``issuer``'s metadata is published; none for an issuer that could not be stored or quoted."""
    return [] if control_problem(issuer, MAX_URL_LENGTH) else authorization_server_metadata_urls(issuer)


def _issuer_of_metadata_url(url: str) -> str | None:
    """The issuer (without a terminating "/") whose well-known metadata ``url`` is, or None."""
    parts = urlsplit(url)
    origin, path = f"{parts.scheme}://{parts.netloc}", parts.path
    if parts.query or parts.fragment:
        return None
    for prefix in (OAUTH_SERVER, OPENID):
        if path == prefix or path.startswith(prefix + "/"):
            return origin + path[len(prefix) :]
    return origin + path[: -len(OPENID)] if path.endswith(OPENID) else None
