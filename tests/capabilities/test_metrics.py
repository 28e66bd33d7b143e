"""``GET /metrics`` counts tool discoveries by outcome: ones that list the tools, one refused a token."""

from __future__ import annotations

from starlette.testclient import TestClient

from ..api.test_metrics import moved, scrape
from .api import credential, discover, register
from .servers import ToolServer

DISCOVERIES = "registrar_tool_discoveries_total"


def test_discoveries_are_counted_by_outcome(
    client: TestClient, auth: dict[str, str], tool_server: ToolServer
) -> None:
    server = register(client, auth, tool_server)
    good = credential(client, auth, server["orn"])
    wrong = credential(client, auth, server["orn"], secret="not-the-secret")
    before = scrape(client, auth)
    assert discover(client, auth, server["id"], good["id"]).status_code == 201
    assert discover(client, auth, server["id"], good["id"]).status_code == 201
    assert discover(client, auth, server["id"], wrong["id"]).status_code == 400
    after = scrape(client, auth)
    assert moved(before, after, DISCOVERIES, outcome="success") == 2
    assert moved(before, after, DISCOVERIES, outcome="failure") == 1
