"""Where the metadata documents of a resource and of an authorization server live, and how a 401 names one.

The URLs are built from the exact strings given (no normalisation): RFC 9728 §3.1 inserts the well-known
path between the host and the resource's path and query; RFC 8414 §3.1 inserts after removing a terminating
``/`` of the issuer's path; the MCP specification (2025-11-25 and later) fixes the order of the probes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

__all__ = [
    "authorization_server_metadata_urls",
    "protected_resource_metadata_urls",
    "resource_metadata_from_challenge",
]

PROTECTED_RESOURCE = "/.well-known/oauth-protected-resource"
OAUTH_SERVER = "/.well-known/oauth-authorization-server"
OPENID = "/.well-known/openid-configuration"

# ``resource_metadata=<token or quoted-string>`` anywhere in a challenge (RFC 9110 §11.2 auth-param).
_PARAM = re.compile(r'(?:^|[\s,])resource_metadata\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]+))', re.IGNORECASE)
_QUOTED_PAIR = re.compile(r"\\(.)")


def _origin(url: str) -> tuple[str, str, str]:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}", parts.path, parts.query


def protected_resource_metadata_urls(resource_url: str) -> list[str]:
    """The well-known protected-resource metadata URLs to try, path-inserted first, then the root form."""
    origin, path, query = _origin(resource_url)
    root = origin + PROTECTED_RESOURCE
    suffix = ("" if path == "/" else path) + (f"?{query}" if query else "")
    return [root + suffix, root] if suffix else [root]


def authorization_server_metadata_urls(issuer: str) -> list[str]:
    """The authorization-server metadata URLs to try for ``issuer``, in the MCP specification's order."""
    origin, path, _ = _origin(issuer)
    path = path.rstrip("/")
    if not path:
        return [origin + OAUTH_SERVER, origin + OPENID]
    return [origin + OAUTH_SERVER + path, origin + OPENID + path, origin + path + OPENID]


def resource_metadata_from_challenge(challenges: Iterable[str]) -> str | None:
    """The ``resource_metadata`` URL of the first ``WWW-Authenticate`` challenge that carries one."""
    for header in challenges:
        match = _PARAM.search(header)
        if match is not None:
            quoted, token = match.groups()
            value = _QUOTED_PAIR.sub(r"\1", quoted) if quoted is not None else token
            return value or None
    return None
