"""URL rules for admin-supplied URLs. URLs are validated but stored byte-exact (DESIGN.md invariant 8)."""

from __future__ import annotations

from urllib.parse import urlsplit

from registrar.controls import has_controls

__all__ = ["MAX_URL_LENGTH", "url_problem"]

MAX_URL_LENGTH = 2048


def url_problem(value: str, *, allow_http: bool) -> str | None:
    """Why ``value`` is not an acceptable absolute URL, or None when it is."""
    if not value:
        return "must not be empty"
    if len(value) > MAX_URL_LENGTH:
        return f"must be at most {MAX_URL_LENGTH} characters"
    if has_controls(value) or any(ch.isspace() for ch in value):
        return "must not contain whitespace or control characters"
    try:
        parts = urlsplit(value)
        _ = parts.port  # raises on a non-numeric port
    except ValueError:
        return "is not a valid URL"
    schemes = ("https", "http") if allow_http else ("https",)
    if parts.scheme not in schemes:
        return "must be an https URL" if not allow_http else "must be an http or https URL"
    if not parts.hostname:
        return "must be an absolute URL with a host"
    if parts.username is not None or parts.password is not None:
        return "must not carry credentials"
    if parts.fragment or value.endswith("#"):
        return "must not have a fragment"
    return None
