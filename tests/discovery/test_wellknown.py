"""Where discovery looks: RFC 9728 / RFC 8414 well-known URLs in the MCP order, and 401 challenges."""

from __future__ import annotations

import pytest

from registrar.discovery import (
    authorization_server_metadata_urls,
    protected_resource_metadata_urls,
    resource_metadata_from_challenge,
)


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        (
            "https://mcp.example.com/mcp",
            [
                "https://mcp.example.com/.well-known/oauth-protected-resource/mcp",
                "https://mcp.example.com/.well-known/oauth-protected-resource",
            ],
        ),
        (
            "https://example.com/public/mcp/",
            [
                "https://example.com/.well-known/oauth-protected-resource/public/mcp/",
                "https://example.com/.well-known/oauth-protected-resource",
            ],
        ),
        (
            "https://example.com:8443/mcp?tenant=a",
            [
                "https://example.com:8443/.well-known/oauth-protected-resource/mcp?tenant=a",
                "https://example.com:8443/.well-known/oauth-protected-resource",
            ],
        ),
        ("https://mcp.example.com", ["https://mcp.example.com/.well-known/oauth-protected-resource"]),
        ("https://mcp.example.com/", ["https://mcp.example.com/.well-known/oauth-protected-resource"]),
    ],
)
def test_protected_resource_metadata_locations(resource: str, expected: list[str]) -> None:
    assert protected_resource_metadata_urls(resource) == expected


@pytest.mark.parametrize(
    ("issuer", "expected"),
    [
        (
            "https://auth.example.com/tenant1",
            [
                "https://auth.example.com/.well-known/oauth-authorization-server/tenant1",
                "https://auth.example.com/.well-known/openid-configuration/tenant1",
                "https://auth.example.com/tenant1/.well-known/openid-configuration",
            ],
        ),
        (
            "https://login.example.com/oauth2/aus123/",
            [
                "https://login.example.com/.well-known/oauth-authorization-server/oauth2/aus123",
                "https://login.example.com/.well-known/openid-configuration/oauth2/aus123",
                "https://login.example.com/oauth2/aus123/.well-known/openid-configuration",
            ],
        ),
        (
            "https://auth.example.com/",
            [
                "https://auth.example.com/.well-known/oauth-authorization-server",
                "https://auth.example.com/.well-known/openid-configuration",
            ],
        ),
    ],
)
def test_authorization_server_metadata_locations_in_mcp_order(issuer: str, expected: list[str]) -> None:
    assert authorization_server_metadata_urls(issuer) == expected


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (
            [
                'Bearer error="invalid_token", error_description="Authentication required", '
                'resource_metadata="http://127.0.0.1:8001/.well-known/oauth-protected-resource/mcp"'
            ],
            "http://127.0.0.1:8001/.well-known/oauth-protected-resource/mcp",
        ),
        (['Bearer resource_metadata=https://a.example/prm, scope="files:read"'], "https://a.example/prm"),
        (
            ['DPoP algs="ES256"', 'Bearer realm="x", RESOURCE_METADATA="https://b.example/p\\"q"'],
            'https://b.example/p"q',
        ),
        (['Bearer realm="x", not_resource_metadata="https://evil.example/"'], None),
        (['Bearer error="invalid_token"'], None),
        ([], None),
    ],
)
def test_resource_metadata_is_read_from_the_challenge(headers: list[str], expected: str | None) -> None:
    assert resource_metadata_from_challenge(headers) == expected
