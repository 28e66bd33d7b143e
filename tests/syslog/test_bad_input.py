"""Inputs that once reached a 500 (issue 11): each is now a 4xx with an Okta error object, on both databases.

Times: a time whose UTC instant falls outside years 1..9999 is a 400, as Okta answers out-of-range times;
a representable time is accepted even when the default window before it would start before year 1 (the
window is clamped to the earliest instant), just as a ``since`` older than the retention is accepted.
"""

from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest
from starlette.testclient import TestClient

from registrar.errors import ValidationFailed
from registrar.hooks._inputs import parse_replay_body
from registrar.syslog.timeparse import parse_timestamp

LOGS = "/api/v1/logs"
CHECKPOINTS = "/api/v1/logs/checkpoints"
API_SERVERS = "/resource-servers/api/v1/api-servers"
MCP_SERVERS = "/resource-servers/api/v1/mcp-servers"
CLIENT_AUTH_SETTINGS = "/resource-servers/api/v1/client-auth-settings"
OKTA_ERROR_KEYS = {"errorCode", "errorSummary", "errorLink", "errorId", "errorCauses"}
DEEP_PATH = "debugContext.debugData." + ".".join(f"k{i}" for i in range(148))  # 150 segments


def registry_cursor(pk: int) -> str:
    """An ``after`` cursor of the registry lists' shape, for a position of our choosing."""
    return base64.urlsafe_b64encode(orjson.dumps({"pk": pk})).decode().rstrip("=")


def okta_error(response: Any, status: int, code: str) -> dict[str, Any]:
    """The response's Okta error object, checked for status, code and shape."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert set(body) == OKTA_ERROR_KEYS, body
    assert body["errorCode"] == code and body["errorLink"] == code, body
    return body


BAD_INPUTS = [
    pytest.param(
        LOGS, {"since": "0001-01-01T00:00:00+14:00"}, "E0000001", "since:", id="since-before-year-1"
    ),
    pytest.param(LOGS, {"until": "9999-12-31T23:59:59-14:00"}, "E0000001", "until:", id="until-after-9999"),
    pytest.param(LOGS, {"since": "9999-12-31T23:59:59-14:00"}, "E0000001", "since:", id="since-after-9999"),
    pytest.param(LOGS, {"limit": "²"}, "E0000001", "limit:", id="logs-limit-superscript"),
    pytest.param(LOGS, {"limit": "\u0661\u0660"}, "E0000001", "limit:", id="logs-limit-arabic-indic"),
    pytest.param(LOGS, {"limit": " 10"}, "E0000001", "limit:", id="logs-limit-space"),
    pytest.param(LOGS, {"limit": "1_0"}, "E0000001", "limit:", id="logs-limit-underscore"),
    pytest.param(LOGS, {"after": "²_1"}, "E0000001", "after:", id="logs-after-superscript"),
    pytest.param(LOGS, {"sortOrder": "ascend\u0131ng"}, "E0000001", "sortOrder:", id="sort-dotless-i"),
    pytest.param(
        CHECKPOINTS, {"after": "99999999999999999999999"}, "E0000001", "after:", id="ckpt-after-huge"
    ),
    pytest.param(CHECKPOINTS, {"after": str(2**63)}, "E0000001", "after:", id="ckpt-after-int64"),
    pytest.param(CHECKPOINTS, {"after": "²"}, "E0000001", "after:", id="ckpt-after-superscript"),
    pytest.param(CHECKPOINTS, {"limit": "²"}, "E0000001", "limit:", id="ckpt-limit-superscript"),
    pytest.param(CHECKPOINTS, {"limit": "0"}, "E0000001", "limit:", id="ckpt-limit-zero"),
    pytest.param(API_SERVERS, {"limit": "²"}, "E0000001", "limit:", id="registry-limit-superscript"),
    pytest.param(MCP_SERVERS, {"limit": "\u0663"}, "E0000001", "limit:", id="registry-limit-arabic-indic"),
    pytest.param(
        API_SERVERS, {"after": registry_cursor(2**63)}, "E0000001", "after:", id="registry-after-int64"
    ),
    pytest.param(
        CLIENT_AUTH_SETTINGS,
        {"after": registry_cursor(2**64 - 1)},
        "E0000001",
        "after:",
        id="registry-after-u64",
    ),
    pytest.param(LOGS, {"filter": 'actor.alternateId eq "\\ud800"'}, "E0000053", None, id="filter-surrogate"),
    pytest.param(
        LOGS, {"filter": 'target.displayName co "a\\udc00b"'}, "E0000053", None, id="filter-low-surrogate"
    ),
    pytest.param(
        API_SERVERS, {"search": 'metadata.displayName eq "\\ud800"'}, "E0000053", None, id="search-surrogate"
    ),
    pytest.param(
        MCP_SERVERS,
        {"search": 'metadata.displayName sw "x\\ud83d"'},
        "E0000053",
        None,
        id="search-surrogate-mcp",
    ),
    pytest.param(
        LOGS, {"filter": f'{DEEP_PATH} eq "x"'}, "E0000053", "10 dot-separated", id="path-150-segments"
    ),
    pytest.param(
        LOGS, {"filter": f"{DEEP_PATH} pr"}, "E0000053", "10 dot-separated", id="path-150-segments-pr"
    ),
]


@pytest.mark.parametrize(("path", "params", "code", "cause"), BAD_INPUTS)
def test_bad_input_is_an_okta_4xx(
    client: TestClient, auth: dict[str, str], path: str, params: dict[str, str], code: str, cause: str | None
) -> None:
    body = okta_error(client.get(path, params=params, headers=auth), 400, code)
    if cause is not None:
        assert any(cause in c["errorSummary"] for c in body["errorCauses"]), body


def test_an_unrepresentable_time_gets_okta_date_message(client: TestClient, auth: dict[str, str]) -> None:
    response = client.get(LOGS, params={"until": "9999-12-31T23:59:59-14:00"}, headers=auth)
    body = okta_error(response, 400, "E0000001")
    assert [c["errorSummary"] for c in body["errorCauses"]] == [
        "until: The date format in your query is not recognized. "
        "Please enter dates using ISO8601 string format.",
        "until: must be a valid date-time or empty.",
    ]


@pytest.mark.parametrize("until", ["0001-01-01", "0001-01-07T23:59:59Z", "0001-01-01T00:00:00.000Z"])
def test_a_representable_early_until_clamps_the_default_window(
    client: TestClient, auth: dict[str, str], until: str
) -> None:
    client.post(
        API_SERVERS,
        json={"resourceUrl": "https://early.example/", "metadata": {"displayName": "e"}},
        headers=auth,
    )
    response = client.get(LOGS, params={"until": until}, headers=auth)
    assert response.status_code == 200, response.text
    assert response.json() == []
    assert len(response.headers.get_list("link")) == 1  # bounded and finished: self, no next


def test_extreme_but_representable_bounds_are_served(client: TestClient, auth: dict[str, str]) -> None:
    created = client.post(
        API_SERVERS,
        json={"resourceUrl": "https://wide.example/", "metadata": {"displayName": "w"}},
        headers=auth,
    )
    assert created.status_code == 201
    params = {"since": "0001-01-01T00:00:00Z", "until": "9999-12-31T23:59:59.999Z"}
    response = client.get(LOGS, params=params, headers=auth)
    assert response.status_code == 200, response.text
    assert [e["target"][0]["id"] for e in response.json()] == [created.json()["id"]]


def test_registry_after_at_the_int64_edge_is_accepted(client: TestClient, auth: dict[str, str]) -> None:
    response = client.get(API_SERVERS, params={"after": registry_cursor(2**63 - 1)}, headers=auth)
    assert response.status_code == 200, response.text
    assert response.json()["data"] == []


def test_checkpoints_after_at_the_int64_edge_is_accepted(client: TestClient, auth: dict[str, str]) -> None:
    response = client.get(CHECKPOINTS, params={"after": str(2**63 - 1), "limit": "1000"}, headers=auth)
    assert response.status_code == 200, response.text
    assert response.json()["data"] == []


@pytest.mark.parametrize(
    "text", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-00:01", "0001-01-01T13:59:59.999999+14:00"]
)
def test_times_outside_years_1_to_9999_in_utc_do_not_parse(text: str) -> None:
    assert parse_timestamp(text) is None
    # ... which is what makes a hook replay's ``since`` a 400 too, not an OverflowError.
    with pytest.raises(ValidationFailed):
        parse_replay_body(orjson.dumps({"since": text}), 0)


def test_the_edges_of_the_representable_range_parse() -> None:
    assert parse_timestamp("0001-01-01T14:00:00+14:00") is not None
    assert parse_timestamp("9999-12-31T09:59:59.999999-14:00") is not None
