"""The filter cost cap: a filter too big or too costly is a clear 400, a realistic one is served.

The caps and the cost model are documented in ``registrar.syslog.filter`` and the README ("Limits").
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import Column, String, func
from starlette.testclient import TestClient

from registrar.errors import InvalidFilter, InvalidSearchCriteria
from registrar.syslog.filter import (
    MAX_FILTER_COMPARISONS,
    MAX_FILTER_COST,
    MAX_FILTER_LENGTH,
    MAX_PATH_SEGMENTS,
    Field,
    compile_filter,
    parse_filter,
)

LOGS = "/api/v1/logs"
API_SERVERS = "/resource-servers/api/v1/api-servers"
MCP_SERVERS = "/resource-servers/api/v1/mcp-servers"
REGISTER = "resource_servers.api_server.register"
ACTIVATE = "resource_servers.api_server.activate"

# The realistic filter: 20 comparisons (12 on table columns, 8 on attributes read from the event body or
# through a sub-select, 5 of them substring matches), costing 11 + 2 + 3 * 5 + 5 * 10 = 78 of the 100.
REALISTIC = " and ".join(
    [
        "("
        + " or ".join(
            f'eventType eq "resource_servers.{kind}"'
            for kind in (
                "api_server.register",
                "api_server.activate",
                "api_server.update",
                "api_server.delete",
                "mcp_server.register",
                "mcp_server.update",
            )
        )
        + ' or eventType sw "resource_servers.client_authentication_settings")',
        '(outcome.result eq "SUCCESS" or outcome.result eq "FAILURE")',
        '(actor.alternateId co "alice" or actor.alternateId ew "@example.org")',
        'not (actor.id eq "00unobody0000000000" or transaction.id eq "none")',
        'target.type eq "ApiServer"',
        '(target.displayName co "cost" or target.displayName sw "zz")',
        "client.ipAddress pr",
        'debugContext.debugData.requestUri sw "/resource-servers/"',
        'transaction.type eq "WEB"',
        'eventType ne "resource_servers.api_server.auth_server.add"',
    ]
)


def _chain(clause: str, count: int, join: str = " or ") -> str:
    return join.join([clause] * count)


def okta_400(response: Any, code: str) -> dict[str, Any]:
    assert response.status_code == 400, response.text
    body: dict[str, Any] = response.json()
    assert body["errorCode"] == code and body["errorLink"] == code, body
    assert set(body) == {"errorCode", "errorSummary", "errorLink", "errorId", "errorCauses"}
    return body


def only_cause(body: dict[str, Any]) -> str:
    (cause,) = body["errorCauses"]
    text: str = cause["errorSummary"]
    return text


# --- the caps, through the API, on both databases ------------------------------------------------------


def test_a_512_clause_co_filter_is_refused(client: TestClient, auth: dict[str, str]) -> None:
    text = _chain('actor.alternateId co "x"', 512)
    body = okta_400(client.get(LOGS, params={"filter": text}, headers=auth), "E0000053")
    assert f"at most {MAX_FILTER_LENGTH} characters" in only_cause(body)


def test_too_many_comparisons_is_refused_whatever_the_length(
    client: TestClient, auth: dict[str, str]
) -> None:
    text = _chain("uuid pr", MAX_FILTER_COMPARISONS + 1)
    assert len(text) < MAX_FILTER_LENGTH
    body = okta_400(client.get(LOGS, params={"filter": text}, headers=auth), "E0000053")
    assert only_cause(body) == (
        f"A filter holds at most {MAX_FILTER_COMPARISONS} comparisons (attr op value, attr pr); "
        f"this one holds {MAX_FILTER_COMPARISONS + 1}."
    )
    assert "Too many comparisons (101)" in body["errorSummary"]


def test_a_costly_filter_is_refused_with_the_cost_model_in_the_cause(
    client: TestClient, auth: dict[str, str]
) -> None:
    # 11 substring matches on a body attribute: 11 * 10 = 110 > 100, although only 11 comparisons.
    text = _chain('actor.alternateId co "x"', 11)
    body = okta_400(client.get(LOGS, params={"filter": text}, headers=auth), "E0000031")
    cause = only_cause(body)
    assert cause.startswith(f"A filter costs at most {MAX_FILTER_COST}; this one costs 110.")
    assert "co, sw and ew cost 2 times that" in cause


def test_the_cheapest_comparisons_reach_the_comparison_cap_not_the_cost_cap(
    client: TestClient, auth: dict[str, str]
) -> None:
    text = _chain('eventType eq "x"', MAX_FILTER_COMPARISONS)
    response = client.get(LOGS, params={"filter": text}, headers=auth)
    assert response.status_code == 200, response.text


def test_ten_substring_matches_on_a_body_attribute_are_served(
    client: TestClient, auth: dict[str, str]
) -> None:
    response = client.get(LOGS, params={"filter": _chain('actor.alternateId co "x"', 10)}, headers=auth)
    assert response.status_code == 200, response.text


def test_a_realistic_20_clause_filter_is_served(client: TestClient, auth: dict[str, str]) -> None:
    assert len(re.findall(r" (?:eq|ne|co|sw|ew|pr)\b", REALISTIC)) == 20
    created = client.post(
        API_SERVERS,
        json={"resourceUrl": "https://cost.example/", "metadata": {"displayName": "cost check"}},
        headers=auth,
    )
    assert created.status_code == 201, created.text
    activated = client.post(f"{API_SERVERS}/{created.json()['id']}/lifecycle/activate", headers=auth)
    assert activated.status_code == 200, activated.text
    params = {"filter": REALISTIC, "since": "2000-01-01T00:00:00Z", "until": "2999-01-01T00:00:00Z"}
    response = client.get(LOGS, params=params, headers=auth)
    assert response.status_code == 200, response.text
    assert [e["eventType"] for e in response.json()] == [REGISTER, ACTIVATE]


def test_paths_up_to_the_segment_cap_are_served(client: TestClient, auth: dict[str, str]) -> None:
    path = "debugContext.debugData." + ".".join(["k"] * (MAX_PATH_SEGMENTS - 2))
    assert client.get(LOGS, params={"filter": f'{path} eq "x"'}, headers=auth).status_code == 200
    body = okta_400(client.get(LOGS, params={"filter": f'{path}.k eq "x"'}, headers=auth), "E0000053")
    assert only_cause(body).startswith(f"An attribute path has at most {MAX_PATH_SEGMENTS} dot-separated")


# --- the same caps on registry search ------------------------------------------------------------------


def test_registry_search_has_the_comparison_cap(client: TestClient, auth: dict[str, str]) -> None:
    text = _chain('status eq "ACTIVE"', MAX_FILTER_COMPARISONS + 1)
    body = okta_400(client.get(API_SERVERS, params={"search": text}, headers=auth), "E0000053")
    assert f"at most {MAX_FILTER_COMPARISONS} comparisons" in only_cause(body)


def test_registry_search_has_the_cost_cap(client: TestClient, auth: dict[str, str]) -> None:
    # co on a plain column costs 2: 51 of them cost 102.
    text = _chain('metadata.displayName co "x"', 51)
    body = okta_400(client.get(MCP_SERVERS, params={"search": text}, headers=auth), "E0000031")
    assert "this one costs 102" in only_cause(body)


def test_registry_search_with_a_realistic_filter_is_served(client: TestClient, auth: dict[str, str]) -> None:
    for name in ("alpha", "beta"):
        body = {"resourceUrl": f"https://{name}.example/", "metadata": {"displayName": f"{name} api"}}
        assert client.post(API_SERVERS, json=body, headers=auth).status_code == 201
    text = (
        '(status eq "INACTIVE" or status eq "ACTIVE") and (metadata.displayName sw "alpha" or '
        'metadata.displayName co "gamma" or resourceUrl eq "https://beta.example/") and not (status eq "X")'
    )
    response = client.get(API_SERVERS, params={"search": text}, headers=auth)
    assert response.status_code == 200, response.text
    assert [s["metadata"]["displayName"] for s in response.json()["data"]] == ["alpha api", "beta api"]


# --- the cost model itself ------------------------------------------------------------------------------

COLUMN = Field(Column("a", String))
COMPUTED = Field(func.json_extract(Column("body", String), "$.a"))


@pytest.mark.parametrize(
    ("field", "op", "cost"),
    [(COLUMN, "eq", 1), (COLUMN, "co", 2), (COMPUTED, "eq", 5), (COMPUTED, "sw", 10), (COMPUTED, "pr", 5)],
)
def test_cost_of_one_comparison(field: Field, op: str, cost: int) -> None:
    assert field.cost(op) == cost


def test_a_predicate_makes_an_attribute_computed_unless_told_otherwise() -> None:
    column = Column("a", String)
    assert Field(column, predicate=lambda op, value: column == value).is_computed
    assert not Field(column, predicate=lambda op, value: column == value, computed=False).is_computed
    assert Field(column, computed=True).is_computed


def test_cost_is_checked_before_sql_is_built() -> None:
    text = _chain('a co "x"', 11)
    with pytest.raises(InvalidSearchCriteria, match="too costly: it costs 110"):
        compile_filter(parse_filter(text), {"a": COMPUTED})
    compile_filter(parse_filter(text), {"a": COLUMN})  # 22: fine


def test_exactly_the_comparison_cap_parses() -> None:
    parse_filter(_chain("a pr", MAX_FILTER_COMPARISONS))
    with pytest.raises(InvalidFilter, match="Too many comparisons"):
        parse_filter(_chain("a pr", MAX_FILTER_COMPARISONS + 1))
    # ... however the comparisons nest.
    nested = "(" + _chain("a pr", 50) + ") and not (" + _chain("b pr", 51, " and ") + ")"
    with pytest.raises(InvalidFilter, match=r"Too many comparisons \(101\)"):
        parse_filter(nested)
