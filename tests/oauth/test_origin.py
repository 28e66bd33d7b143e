"""Behind a trusted proxy the org URL is the one the client used (``X-Forwarded-Proto`` / ``-Host``): the
issuer, the audience an assertion must name and the origin an access token is accepted at."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from starlette.testclient import TestClient

from registrar.api import create_app
from registrar.config import Settings

from .conftest import LOGS, MakeApp, bearer, token_request

PROXY = ("10.0.0.2", 40000)
FORWARDED = {
    "X-Forwarded-For": "198.51.100.7",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "registry.example",
}
PUBLIC = "https://registry.example"


@pytest.fixture
def behind_proxy(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    proxied = dataclasses.replace(settings, trusted_proxies=("10.0.0.0/8",))
    with TestClient(create_app(proxied, engine=engine), client=PROXY) as client:
        yield client


def test_the_org_url_is_the_one_the_trusted_proxy_forwarded(
    behind_proxy: TestClient, make_app: MakeApp
) -> None:
    metadata = behind_proxy.get("/.well-known/oauth-authorization-server", headers=FORWARDED).json()
    assert (metadata["issuer"], metadata["token_endpoint"]) == (PUBLIC, f"{PUBLIC}/oauth2/v1/token")
    client_id, key = make_app()
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "scope": "okta.logs.read",
    }
    internal = key.assertion(client_id)  # aud = http://testserver/...: not where the client is
    refused = behind_proxy.post(
        "/oauth2/v1/token", data=form | {"client_assertion": internal}, headers=FORWARDED
    )
    assert refused.status_code == 401 and PUBLIC in refused.json()["error_description"]
    public = key.assertion(client_id, aud=f"{PUBLIC}/oauth2/v1/token")
    granted = behind_proxy.post(
        "/oauth2/v1/token", data=form | {"client_assertion": public}, headers=FORWARDED
    )
    assert granted.status_code == 200, granted.text
    token = granted.json()["access_token"]
    assert behind_proxy.get(LOGS, headers=bearer(token) | FORWARDED).status_code == 200
    assert behind_proxy.get(LOGS, headers=bearer(token)).status_code == 401  # issued for the public origin
    assert (
        token_request(behind_proxy, key.assertion(client_id, aud=f"{PUBLIC}/oauth2/v1/token")).status_code
        == 401
    )
