"""MCP discovery end to end against real loopback servers: the SDK's, and a hand-written metadata site."""

from __future__ import annotations

from typing import Any

import pytest

from registrar.discovery import NO_AUTHORIZATION_SERVERS, FetchPolicy, discover
from registrar.errors import DiscoveryFailed

from .servers import PRM, MetadataSite, Reply, sdk_authorization_server, sdk_mcp_server


def test_sdk_resource_server_and_sdk_authorization_server(sdk_issuer: str, policy: FetchPolicy) -> None:
    with sdk_mcp_server(sdk_issuer) as resource_url:
        found = discover(resource_url, policy)
    assert found.resource.scopes_supported == ("mcp:read",)
    assert found.resource.resource_name is None
    ((auth),) = found.authorization_servers
    assert auth.issuer == sdk_issuer and auth.error is None and auth.metadata is not None
    assert auth.metadata.token_endpoint == f"{sdk_issuer}token"
    assert auth.metadata.authorization_endpoint == f"{sdk_issuer}authorize"
    assert "urn:ietf:params:oauth:grant-type:jwt-bearer" in auth.metadata.grant_types_supported
    assert auth.metadata.id_jag_supported


def test_the_challenge_names_the_metadata_document(site: MetadataSite, policy: FetchPolicy) -> None:
    issuer = site.issuer("/as")
    resource = site.resource([issuer], challenge="/meta/prm", resource_name="Tools", scopes_supported=["a"])
    found = discover(resource, policy)
    assert (found.resource.resource_name, found.resource.scopes_supported) == ("Tools", ("a",))
    assert site.paths_requested() == ["/mcp", "/meta/prm", "/.well-known/oauth-authorization-server/as"]
    ((_, headers), *_) = site.requests
    assert "authorization" not in headers  # the probe is unauthenticated


def test_without_a_challenge_the_path_form_then_the_root_form_is_tried(
    site: MetadataSite, policy: FetchPolicy
) -> None:
    issuer = site.issuer("/as")
    resource = site.url("/mcp")
    site.json(PRM, {"resource": resource, "authorization_servers": [issuer]})
    discover(resource, policy)
    assert site.paths_requested()[:3] == ["/mcp", f"{PRM}/mcp", PRM]


@pytest.mark.parametrize("location", [0, 1, 2])
def test_a_path_issuer_is_found_at_each_mcp_location_in_order(
    site: MetadataSite, policy: FetchPolicy, location: int
) -> None:
    issuer = site.issuer("/tenant1", location=location, token_endpoint=site.url("/t"))
    found = discover(site.resource([issuer]), policy)
    assert found.authorization_servers[0].metadata is not None
    assert found.authorization_servers[0].metadata.token_endpoint == site.url("/t")
    probes = [
        "/.well-known/oauth-authorization-server/tenant1",
        "/.well-known/openid-configuration/tenant1",
        "/tenant1/.well-known/openid-configuration",
    ]
    assert site.paths_requested()[2:] == probes[: location + 1]


def test_the_resource_must_match_the_url_exactly(site: MetadataSite, policy: FetchPolicy) -> None:
    issuer = site.issuer("/as")
    site.json(f"{PRM}/mcp", {"resource": site.url("/mcp/"), "authorization_servers": [issuer]})
    with pytest.raises(DiscoveryFailed) as failed:
        discover(site.url("/mcp"), policy)
    assert failed.value.cause == (
        f"The protected resource metadata at {site.url(PRM + '/mcp')} is for '{site.url('/mcp/')}', "
        f"not {site.url('/mcp')} (the two must be identical)"
    )


@pytest.mark.parametrize("listed", [[], None])
def test_no_authorization_servers(site: MetadataSite, policy: FetchPolicy, listed: list[str] | None) -> None:
    resource = site.url("/mcp")
    document: dict[str, Any] = {"resource": resource}
    if listed is not None:
        document["authorization_servers"] = listed
    site.json(f"{PRM}/mcp", document)
    with pytest.raises(DiscoveryFailed) as failed:
        discover(resource, policy)
    assert failed.value.cause == NO_AUTHORIZATION_SERVERS == "No authorization servers found"


def test_no_protected_resource_metadata(site: MetadataSite, policy: FetchPolicy) -> None:
    site.reply(f"{PRM}/mcp", Reply(301, b"", {"location": "http://169.254.169.254/"}))
    with pytest.raises(DiscoveryFailed) as failed:
        discover(site.url("/mcp"), policy)
    assert failed.value.cause == (
        f"No protected resource metadata found: {site.url(PRM + '/mcp')} answered HTTP 301, "
        f"redirects are not followed; {site.url(PRM)} answered HTTP 404"
    )


def test_the_sdk_issuer_trailing_slash_pitfall_is_an_issuer_mismatch(
    site: MetadataSite, sdk_issuer: str, policy: FetchPolicy
) -> None:
    without_slash = sdk_issuer.rstrip("/")
    found = discover(site.resource([without_slash]), policy)
    (auth,) = found.authorization_servers
    assert auth.metadata is None
    assert auth.error == (
        f"Authorization server {without_slash}: the metadata at "
        f"{without_slash}/.well-known/oauth-authorization-server names issuer '{sdk_issuer}' "
        "(the two must be identical)"
    )
    assert found.first_error == auth.error


def test_the_sdk_path_issuer_pitfall_finds_no_metadata(site: MetadataSite, policy: FetchPolicy) -> None:
    # The SDK serves a path issuer's metadata at the root only, where the MCP order never looks.
    with sdk_authorization_server() as root_issuer:
        issuer = root_issuer + "tenant1"
        (auth,) = discover(site.resource([issuer]), policy).authorization_servers
    assert auth.error is not None
    assert auth.error.startswith(f"Authorization server {issuer}: no metadata found: ")
    assert auth.error.count("answered HTTP 404") == 3


@pytest.mark.parametrize(
    ("issuer", "error"),
    [
        ("http://127.0.0.1:9", "could not connect"),
        ("http://169.254.169.254", "is not a public address (cloud metadata); nothing was fetched"),
        ("ftp://auth.example", "the issuer must be an http or https URL"),
    ],
)
def test_an_unusable_authorization_server_is_reported_not_raised(
    site: MetadataSite, policy: FetchPolicy, issuer: str, error: str
) -> None:
    good = site.issuer("/good")
    found = discover(site.resource([issuer, good]), policy)
    bad, fine = found.authorization_servers
    assert bad.metadata is None and bad.error is not None and bad.error.endswith(error)
    assert fine.error is None


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (Reply(200, b"<html>", {"content-type": "text/html"}), "answered text/html, not JSON"),
        (Reply(200, b"{", {"content-type": "application/json"}), "answered malformed JSON"),
        (Reply(200, b"[]", {"content-type": "application/json"}), "answered JSON that is not an object"),
    ],
)
def test_metadata_must_be_a_json_object(
    site: MetadataSite, policy: FetchPolicy, reply: Reply, error: str
) -> None:
    site.reply(f"{PRM}/mcp", reply)
    with pytest.raises(DiscoveryFailed) as failed:
        discover(site.url("/mcp"), policy)
    assert failed.value.cause == f"{site.url(PRM + '/mcp')} {error}"


def test_a_token_endpoint_is_required(site: MetadataSite, policy: FetchPolicy) -> None:
    issuer = site.issuer("/as", token_endpoint=None)
    (auth,) = discover(site.resource([issuer]), policy).authorization_servers
    assert auth.error is not None and auth.error.endswith("has no usable token_endpoint")


def test_too_many_authorization_servers(site: MetadataSite, policy: FetchPolicy) -> None:
    resource = site.resource([site.url(f"/as{i}") for i in range(11)])
    with pytest.raises(DiscoveryFailed) as failed:
        discover(resource, policy)
    assert "lists 11 authorization servers; at most 10 are supported" in failed.value.cause
    assert site.paths_requested() == ["/mcp", f"{PRM}/mcp"]
