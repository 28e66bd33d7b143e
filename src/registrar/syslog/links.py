"""``Link`` headers exactly as Okta sends them: one per relation, ``self`` first, absolute URLs."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote

from .query import PARAMETER_ORDER

__all__ = ["link_headers", "log_url"]


def log_url(origin: str, path: str, params: Mapping[str, str], after: str | None) -> str:
    """The URL of a System Log page: the request's parameters in canonical order, ``after`` set to ``after``.

    Every value is percent-encoded except RFC 3986's unreserved characters, so commas and semicolons in a
    filter can never split a ``Link`` header.
    """
    items = dict(params)
    if after is not None:
        items["after"] = after
    else:
        items.pop("after", None)
    query = "&".join(f"{name}={quote(items[name], safe='-._~')}" for name in PARAMETER_ORDER if name in items)
    return f"{origin}{path}?{query}" if query else f"{origin}{path}"


def link_headers(self_url: str, next_url: str | None) -> list[tuple[bytes, bytes]]:
    """Raw ``link`` headers: ``self`` then ``next`` (the Python SDK keeps only the last Link header)."""
    headers = [(b"link", f'<{self_url}>; rel="self"'.encode())]
    if next_url is not None:
        headers.append((b"link", f'<{next_url}>; rel="next"'.encode()))
    return headers
