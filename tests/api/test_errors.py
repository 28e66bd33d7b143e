"""Okta's error format, request ids and rate-limit headers on every response."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from typing import Any

from starlette.testclient import TestClient

from registrar.api import create_app
from registrar.config import Settings

from ..conftest import CLIENT_ADDRESS, stored_events
from .test_api_servers import BASE

Events = Callable[[], list[dict[str, Any]]]


def _okta_error(response: Any, status: int, code: str) -> None:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"errorCode", "errorSummary", "errorLink", "errorId", "errorCauses"}
    assert body["errorCode"] == body["errorLink"] == code
    assert response.headers["x-okta-request-id"]


def test_unknown_path_and_method(client: TestClient, auth: dict[str, str]) -> None:
    _okta_error(client.get("/no/such/path", headers=auth), 404, "E0000007")
    not_allowed = client.put(BASE, headers=auth)
    _okta_error(not_allowed, 405, "E0000022")
    assert not_allowed.headers["allow"]


def test_every_response_has_a_request_id_and_rate_limit_headers(
    client: TestClient, auth: dict[str, str]
) -> None:
    responses = [
        client.get(BASE, headers=auth),
        client.get(BASE),
        client.get("/nowhere", headers=auth),
        client.get("/openapi.json"),
    ]
    ids = {r.headers["x-okta-request-id"] for r in responses}
    assert len(ids) == len(responses)
    for response in responses:
        assert int(response.headers["x-rate-limit-limit"]) > 0
        assert int(response.headers["x-rate-limit-remaining"]) >= 0
        assert int(response.headers["x-rate-limit-reset"]) > 0
        assert parsedate_to_datetime(response.headers["date"]).tzinfo is not None


def test_rate_limited_requests_get_429_with_date_and_no_event(
    settings: Settings, engine: Any, token: str
) -> None:
    limited = dataclasses.replace(settings, rate_limit_per_minute=2)
    app = create_app(limited, engine=engine)
    headers = {"Authorization": f"SSWS {token}"}
    with TestClient(app, client=CLIENT_ADDRESS) as client:
        for i in range(2):
            body = {"resourceUrl": f"https://a{i}.example", "metadata": {"displayName": "A"}}
            assert client.post(BASE, json=body, headers=headers).status_code == 201
        refused = client.post(
            BASE, json={"resourceUrl": "https://b.example", "metadata": {"displayName": "B"}}, headers=headers
        )
        _okta_error(refused, 429, "E0000047")
        assert refused.headers["x-rate-limit-remaining"] == "0"
        reset = int(refused.headers["x-rate-limit-reset"])
        assert reset >= parsedate_to_datetime(refused.headers["date"]).timestamp()
        assert len(stored_events(engine)) == 2


def test_openapi_document_lists_the_operations_and_body_schemas(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    assert f"{BASE}/{{server_id}}/lifecycle/activate" in document["paths"]
    body = document["paths"][BASE]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["resourceUrl", "metadata"]
    assert "ClientAuthSettingsCreate" in document["components"]["schemas"]
    assert "$defs" not in str(document)
