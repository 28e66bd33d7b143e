"""Fixtures for discovery tests: a loopback metadata site, SDK servers, and the test fetch policy."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from registrar.discovery import FetchPolicy, parse_networks

from .servers import MetadataSite, sdk_authorization_server

# Loopback fixtures are reachable only through the operator allow-list, exactly as in a real test set-up.
LOOPBACK_POLICY = FetchPolicy(
    allow_http=True,
    allowed_networks=parse_networks(["127.0.0.0/8"]),
    connect_timeout=1.0,
    request_timeout=1.0,
    discovery_timeout=5.0,
)


@pytest.fixture
def policy() -> FetchPolicy:
    return LOOPBACK_POLICY


@pytest.fixture(scope="session")
def site_server() -> Iterator[MetadataSite]:
    site = MetadataSite()
    with site.serve():
        yield site


@pytest.fixture
def site(site_server: MetadataSite) -> Iterator[MetadataSite]:
    """The shared metadata site, empty at the start of each test."""
    site_server.reset()
    yield site_server
    site_server.reset()


@pytest.fixture(scope="session")
def sdk_issuer() -> Iterator[str]:
    """The issuer of a running SDK authorization server (ID-JAG enabled)."""
    with sdk_authorization_server(identity_assertion=True) as issuer:
        yield issuer
