"""Export tests run against a server behind a trusted proxy, with MCP discovery allowed on loopback."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from registrar.config import Settings
from tests.api.test_api_servers import register

from .traffic import API, behind_proxy, loopback_discovery, mcp_site, metadata_site

__all__ = ["loopback_discovery", "mcp_site", "metadata_site", "settings", "some_events"]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The suite's settings (both backends), with the test client's network as a trusted proxy."""
    return behind_proxy(settings)


@pytest.fixture
def some_events(client: TestClient, auth: dict[str, str]) -> None:
    """Eleven events: three API servers registered, activated, updated; two refusals (duplicate, unknown)."""
    for name in ("Payments", "Ledger", "Search"):
        server = register(client, auth, f"https://{name.lower()}.example/", metadata={"displayName": name})
        client.post(f"{API}/{server['id']}/lifecycle/activate", headers=auth)
        client.patch(f"{API}/{server['id']}", json={"metadata": {"description": name}}, headers=auth)
    client.post(
        API, json={"resourceUrl": "https://search.example/", "metadata": {"displayName": "X"}}, headers=auth
    )
    client.post(f"{API}/aps00000000000000000/lifecycle/activate", headers=auth)
