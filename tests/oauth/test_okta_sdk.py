"""The real ``okta`` SDK (3.4.6) in ``PrivateKey`` mode against a live ``registrar serve --tls-cert
--tls-key`` over HTTPS, the SDK's own https check on: it signs a client assertion with the app's private
key (RS256, made here at test time), gets an access token at ``/oauth2/v1/token`` and lists the System
Log with it, every event parsed by its strict ``LogEvent`` model; the grant is in the log with the app as
actor. A log-read-only app cannot write (403, a DENY event naming
the app), and once ``registrar service-apps revoke`` returns, the SDK's cached token is refused (401).

The SDK trusts the test CA through the HTTP client it is given (the token request and the API calls share
that one client); ``tests/wire/test_tls.py`` covers the ``SSL_CERT_FILE`` way in a process of its own.
"""

from __future__ import annotations

import asyncio
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc.jwk import RSAKey
from okta.client import Client as OktaClient
from okta.errors.okta_api_error import OktaAPIError
from okta.http_client import HTTPClient
from okta.models import LogEvent
from okta.pagination import paginate_all

from registrar.scopes import LOGS_READ

from ..conftest import TEST_SECRET_KEY
from ..live import LiveServer, registrar_command
from ..wire._tls import make_pki, running_tls_server


@dataclass
class Live:
    server: LiveServer
    env: dict[str, str]
    cwd: Path
    client_id: str
    private_pem: str
    trust: ssl.SSLContext


def _run(live_env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(registrar_command(*args), env=live_env, cwd=cwd, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done


@pytest.fixture
def live(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Live]:
    env = {
        "REGISTRAR_DATABASE_URL": database_url,
        "REGISTRAR_SECRET_KEY": TEST_SECRET_KEY,
        "REGISTRAR_DATA_DIR": str(tmp_path / "registrar-data"),
        "PATH": "/usr/bin:/bin",
    }
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    jwks = tmp_path / "siem-jwks.json"
    jwks.write_bytes(orjson.dumps({"keys": [RSAKey.import_key(private).as_dict(private=False)]}))
    created = _run(
        env, tmp_path, "service-apps", "create", "--name", "SIEM", "--jwks", str(jwks), "--scope", LOGS_READ
    )
    monkeypatch.delenv("OKTA_TESTING_TESTINGDISABLEHTTPSCHECK", raising=False)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    pki = make_pki(tmp_path / "pki")
    with running_tls_server(env, tmp_path, pki) as server:
        assert server.url.startswith("https://")
        yield Live(server, env, tmp_path, created.stdout.strip(), pem, pki.context())


def _client(live: Live) -> OktaClient:
    return OktaClient(
        {
            "orgUrl": live.server.url,
            "authorizationMode": "PrivateKey",
            "clientId": live.client_id,
            "scopes": [LOGS_READ],
            "privateKey": live.private_pem,
            "httpClient": _trusting(live.trust),
        }
    )


def _trusting(trust: ssl.SSLContext) -> type[HTTPClient]:
    """The SDK's HTTP client trusting ``trust``: its ``sslContext`` setting cannot be used in 3.4.6 (the
    client deep-copies its configuration, and an SSLContext cannot be copied), so it is given to the HTTP
    client the SDK builds, through the ``httpClient`` setting the SDK documents for a custom client."""

    class Trusting(HTTPClient):
        def __init__(self, http_config: dict[str, Any]) -> None:
            super().__init__({**http_config, "sslContext": trust})  # type: ignore[no-untyped-call]

    return Trusting


# The SDK hands its context to aiohttp as ssl_context=, which aiohttp 3.14 deprecates (the SDK's code).
@pytest.mark.filterwarnings("ignore:ssl_context is deprecated:DeprecationWarning")
def test_the_sdk_in_private_key_mode_lists_the_log_until_the_app_is_revoked(live: Live) -> None:
    async def before() -> dict[str, Any]:
        client = _client(live)
        events = [event async for event in paginate_all(client.list_log_events, limit=2, max_pages=20)]
        executor = client.get_request_executor()  # type: ignore[no-untyped-call]
        request, error = await executor.create_request(
            "POST",
            "/resource-servers/api/v1/api-servers",
            body={"resourceUrl": "https://api.example.com/", "metadata": {"displayName": "Example"}},
        )
        assert error is None
        _, _, write_error = await executor.execute(request)
        after_write = [event async for event in paginate_all(client.list_log_events, limit=200, max_pages=5)]
        return {"client": client, "events": events, "write_error": write_error, "after_write": after_write}

    got = asyncio.run(before())
    events: list[LogEvent] = got["events"]
    assert all(isinstance(event, LogEvent) for event in events)
    grants = [e for e in events if e.event_type == "app.oauth2.token.grant.access_token"]
    assert len(grants) == 1  # one token for every page: the SDK cached it
    [grant] = grants
    assert grant.actor is not None
    assert (grant.actor.id, grant.actor.type, grant.actor.alternate_id, grant.actor.display_name) == (
        live.client_id,
        "PublicClientApp",
        live.client_id,
        "SIEM",
    )
    assert grant.outcome is not None and grant.outcome.result is not None
    assert grant.outcome.result == "SUCCESS"
    assert [e.event_type for e in events][:1] == ["application.lifecycle.create"]

    write_error = got["write_error"]
    assert isinstance(write_error, OktaAPIError)
    assert write_error.status == 403 and write_error.error_code == "E0000006"
    [deny] = [e for e in got["after_write"] if e.event_type == "resource_servers.api_server.register"]
    assert deny.outcome is not None and deny.outcome.result is not None and deny.outcome.result == "DENY"
    assert deny.actor is not None and (deny.actor.id, deny.actor.type) == (live.client_id, "PublicClientApp")

    _run(live.env, live.cwd, "service-apps", "revoke", live.client_id)

    async def after() -> Any:
        _, _, error = await got["client"].list_log_events(limit=1)
        return error

    error = asyncio.run(after())
    assert isinstance(error, OktaAPIError)
    assert error.status == 401 and error.error_code == "E0000011"

    async def fresh() -> Any:
        _, _, error = await _client(live).list_log_events(limit=1)
        return error

    refused = asyncio.run(fresh())  # a new client cannot get a new token either
    assert isinstance(refused, OktaAPIError)
    assert refused.error_code == "invalid_client"
