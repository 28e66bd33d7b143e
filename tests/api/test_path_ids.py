"""Hostile ids in a path (NUL, spaces, a long run, non-ASCII) are a 404 on every route, never a 500.

PostgreSQL refuses a NUL in any text it is asked to compare, so an id is checked before it reaches the
database (``registrar.ids.is_object_id``). The routes come from the app's router, so a new one is covered.
"""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from starlette.testclient import TestClient

HOSTILE_IDS = ["a\x00b", "aps\x00", "a b", "x" * 300, "ап", "a%2Fb"]
_PARAM = re.compile(r"\{[^}]+\}")


def _api_routes(app: FastAPI) -> list[tuple[str, str]]:
    routes = []
    for route in iter_route_contexts(app.routes):  # included routers too, with their prefixes
        if not route.path or "{" not in route.path:
            continue
        if not route.path.startswith(("/resource-servers/", "/api/v1/")):
            continue
        routes += [(method, route.path) for method in sorted(route.methods or ())]
    return routes


def test_the_router_has_routes_with_ids(app: FastAPI) -> None:
    paths = {path for _, path in _api_routes(app)}
    assert any(p.startswith("/resource-servers/api/v1/api-servers/{") for p in paths)
    assert any(p.startswith("/resource-servers/api/v1/mcp-servers/{") for p in paths)
    assert any(p.startswith("/resource-servers/api/v1/client-auth-settings/{") for p in paths)
    assert any(p.startswith("/api/v1/eventHooks/{") for p in paths)


@pytest.mark.parametrize(
    "hostile", HOSTILE_IDS, ids=["nul-inside", "nul-after", "space", "long", "cyrillic", "slash"]
)
def test_no_route_answers_a_hostile_id_with_a_5xx(
    app: FastAPI, client: TestClient, auth: dict[str, str], hostile: str
) -> None:
    segment = quote(hostile, safe="")
    for method, template in _api_routes(app):
        path = _PARAM.sub(segment, template)
        response = client.request(
            method, path, headers=auth, json={} if method in {"POST", "PATCH", "PUT"} else None
        )
        assert response.status_code < 500, (method, path, response.status_code, response.text[:300])
        body = response.json() if response.content else {}
        if response.status_code >= 400:
            assert body.get("errorCode", "").startswith("E0000"), (method, path, body)
