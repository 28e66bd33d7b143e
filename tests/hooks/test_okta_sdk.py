"""The real ``okta`` SDK (3.4.6) manages event hooks through its ``EventHookApi`` against a live server."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from okta.client import Client as OktaClient
from okta.models import (
    EventHook,
    EventHookChannel,
    EventHookChannelConfig,
    EventHookChannelConfigAuthScheme,
    EventHookChannelConfigHeader,
    EventSubscriptions,
)

from ..live import LiveServer, running_server
from .conftest import AUTH_VALUE
from .live import api_client, register, server_env, server_token
from .receiver import Receiver, wait_until

REGISTER = "resource_servers.api_server.register"


@pytest.fixture
def live(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[LiveServer, str]]:
    env = server_env(database_url)
    token = server_token(env, tmp_path)
    monkeypatch.setenv("OKTA_TESTING_TESTINGDISABLEHTTPSCHECK", "true")
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    with running_server(env, tmp_path) as server:
        yield server, token


def _hook(uri: str, name: str = "SDK hook") -> EventHook:
    return EventHook(
        name=name,
        events=EventSubscriptions(type="EVENT_TYPE", items=[REGISTER]),
        channel=EventHookChannel(
            type="HTTP",
            version="1.0.0",
            config=EventHookChannelConfig(
                uri=uri,
                headers=[EventHookChannelConfigHeader(key="X-Other-Header", value="sdk")],
                auth_scheme=EventHookChannelConfigAuthScheme(
                    type="HEADER", key="Authorization", value=AUTH_VALUE
                ),
            ),
        ),
    )


def _ok(result: tuple[Any, Any, Any]) -> Any:
    data, _response, error = result
    assert error is None, error
    return data


def test_the_okta_sdk_manages_hooks_and_the_hook_receives(
    live: tuple[LiveServer, str], receiver: Receiver
) -> None:
    server, token = live

    async def manage() -> tuple[Any, ...]:
        client: Any = OktaClient(
            {"orgUrl": server.url, "token": token}
        )  # its stubs say model, it returns a tuple
        created = _ok(await client.create_event_hook(_hook(f"{receiver.url}/sdk")))
        listed = _ok(await client.list_event_hooks())
        verified = _ok(await client.verify_event_hook(created.id))
        fetched = _ok(await client.get_event_hook(created.id))
        return created, listed, verified, fetched

    created, listed, verified, fetched = asyncio.run(manage())
    assert created.id.startswith("who")
    assert created.status == "ACTIVE"
    assert created.verification_status == "UNVERIFIED"
    assert created.channel.config.auth_scheme.key == "Authorization"
    assert created.channel.config.auth_scheme.value is None  # write-only
    assert [hook.id for hook in listed] == [created.id]
    assert verified.verification_status == "VERIFIED"
    assert fetched.links.var_self.href == f"{server.url}/api/v1/eventHooks/{created.id}"
    assert receiver.gets()[0].headers["authorization"] == AUTH_VALUE

    with api_client(server.url, token) as api:
        register(api, 3, prefix="sdk")
    wait_until(lambda: len(receiver.accepted_uuids("/sdk")) >= 3, "the registrations to be delivered")
    assert {e["eventType"] for e in receiver.accepted()[0].events} == {REGISTER}

    async def lifecycle() -> tuple[Any, ...]:
        client: Any = OktaClient(
            {"orgUrl": server.url, "token": token}
        )  # its stubs say model, it returns a tuple
        fetched.name = "renamed by the SDK"
        replaced = _ok(await client.replace_event_hook(created.id, fetched))
        deactivated = _ok(await client.deactivate_event_hook(created.id))
        _, response, error = await client.delete_event_hook(created.id)
        assert error is None
        remaining = _ok(await client.list_event_hooks())
        return replaced, deactivated, response.status_code, remaining

    replaced, deactivated, status, remaining = asyncio.run(lifecycle())
    assert replaced.name == "renamed by the SDK"
    assert replaced.verification_status == "VERIFIED"  # same URI; the stored secret was kept
    assert deactivated.status == "INACTIVE"
    assert status == 204
    assert remaining == []


def test_the_okta_sdk_sees_a_failed_verification(live: tuple[LiveServer, str], receiver: Receiver) -> None:
    server, token = live
    receiver.verification = lambda challenge: (200, b'{"verification": "wrong"}')

    async def go() -> Any:
        client: Any = OktaClient(
            {"orgUrl": server.url, "token": token}
        )  # its stubs say model, it returns a tuple
        created = _ok(await client.create_event_hook(_hook(f"{receiver.url}/sdk")))
        return await client.verify_event_hook(created.id)

    data, _, error = asyncio.run(go())
    assert data is None
    assert error.status == 400
    assert error.error_code == "E0000001"
