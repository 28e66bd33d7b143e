"""Invariant 8 for API servers: a ``resourceUrl`` ending in ``/`` keeps its slash everywhere it goes.

The slash is meaningful, so ``https://api.example.com/x/`` and ``https://api.example.com/x`` are two
servers: both register, each is stored, returned, searched and audited with its own bytes. (MCP servers:
``test_mcp_servers.py``, where discovery must also find metadata for the exact URL.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, select
from starlette.testclient import TestClient

from registrar.store.schema import resource_servers

from .test_api_servers import BASE, register

Events = Callable[[], list[dict[str, Any]]]
WITH_SLASH = "https://api.example.com/x/"
WITHOUT = "https://api.example.com/x"


def test_a_resource_url_ending_in_a_slash_is_stored_returned_and_audited_byte_exact(
    client: TestClient, auth: dict[str, str], events: Events, engine: Engine
) -> None:
    with_slash = register(client, auth, WITH_SLASH)
    without = register(client, auth, WITHOUT)  # not a duplicate of the first
    assert (with_slash["resourceUrl"], without["resourceUrl"]) == (WITH_SLASH, WITHOUT)
    assert client.get(f"{BASE}/{with_slash['id']}", headers=auth).json()["resourceUrl"] == WITH_SLASH
    with engine.connect() as conn:
        stored = dict(conn.execute(select(resource_servers.c.id, resource_servers.c.resource_url)).all())
    assert stored == {with_slash["id"]: WITH_SLASH, without["id"]: WITHOUT}
    listed = client.get(BASE, params={"search": f'resourceUrl eq "{WITH_SLASH}"'}, headers=auth)
    assert [s["id"] for s in listed.json()["data"]] == [with_slash["id"]]
    targets = [e["target"][0] for e in events() if e["eventType"] == "resource_servers.api_server.register"]
    assert [(t["id"], t["alternateId"]) for t in targets] == [
        (with_slash["id"], WITH_SLASH),
        (without["id"], WITHOUT),
    ]


def test_an_update_keeps_the_slash_in_the_event_target(
    client: TestClient, auth: dict[str, str], events: Events
) -> None:
    server = register(client, auth, WITH_SLASH)
    renamed = client.patch(
        f"{BASE}/{server['id']}", json={"metadata": {"displayName": "Renamed"}}, headers=auth
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["resourceUrl"] == WITH_SLASH
    update = events()[-1]
    assert update["eventType"] == "resource_servers.api_server.update"
    assert update["target"][0]["alternateId"] == WITH_SLASH
