"""System Log ``filter`` and ``q`` over real events."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from .test_logs_api import LOGS, SERVERS, get, make_events


@pytest.fixture
def sample(client: TestClient, auth: dict[str, str]) -> dict[str, Any]:
    ids = make_events(client, auth, 3, prefix="XOxBw-2JIRnCFd0gG0")
    client.post(f"{SERVERS}/{ids[0]}/lifecycle/activate", headers=auth)
    client.delete(f"{SERVERS}/{ids[0]}", headers=auth)  # FAILURE: active
    return {"ids": ids}


def titles(client: TestClient, auth: dict[str, str], **params: Any) -> list[str]:
    return [
        f"{e['eventType'].rsplit('.', 1)[1]}:{e['outcome']['result']}"
        for e in get(client, auth, LOGS, **params).json()
    ]


def test_filter_operators_on_indexed_and_json_fields(
    client: TestClient, auth: dict[str, str], sample: Any
) -> None:
    first = sample["ids"][0]
    assert titles(client, auth, filter=f'target.id eq "{first}"') == [
        "register:SUCCESS",
        "activate:SUCCESS",
        "delete:FAILURE",
    ]
    assert titles(client, auth, filter='outcome.result eq "FAILURE"') == ["delete:FAILURE"]
    assert titles(client, auth, filter='eventType ew "activate"') == ["activate:SUCCESS"]
    assert (
        len(titles(client, auth, filter='eventType co "api_server" and not (outcome.result eq "SUCCESS")'))
        == 1
    )
    assert titles(
        client, auth, filter=f'event_type eq "resource_servers.api_server.delete" or target.id eq "{first}"'
    ) == [
        "register:SUCCESS",
        "activate:SUCCESS",
        "delete:FAILURE",
    ]
    assert len(titles(client, auth, filter='actor.alternateId eq "alice@example.com"')) == 5
    assert len(titles(client, auth, filter='display_message eq "Register API server"')) == 3
    assert len(titles(client, auth, filter='target.alternateId sw "https://XOxBw"')) == 5
    assert len(titles(client, auth, filter='severity ge "WARN"')) == 1
    assert len(titles(client, auth, filter="securityContext.isProxy eq false")) == 5
    assert len(titles(client, auth, filter="debugContext.debugData.errorMessage pr")) == 1
    assert len(titles(client, auth, filter='client.ipAddress eq "198.51.100.23"')) == 5
    assert len(titles(client, auth, filter='request.ipChain.ip eq "198.51.100.23"')) == 5


@pytest.mark.parametrize(
    ("expression", "code", "summary"),
    [
        (
            'display_message eqq "Create okta user"',
            "E0000053",
            "Invalid filter 'display_message eqq \"Create okta user\"': "
            "Unrecognized attribute operator 'eqq' at "
            "position 16. Expected: eq,co,sw,pr,gt,ge,lt,le",
        ),
        ('some_invalid_field eq "x"', "E0000053", "field is not valid: some_invalid_field"),
        (
            'debugContext.debugData.url co "/api"',
            "E0000031",
            "The supplied combination of operator and field is not currently supported. Operator: co, "
            "Field: debugContext.debugData.url",
        ),
        ('debugContext.debugData.requestUri co "/api"', "E0000031", None),
        ('published gt "2020-01-01T00:00:00Z"', "E0000053", None),
        ('EventType eq "x"', "E0000053", "field is not valid: EventType"),
    ],
)
def test_filter_errors_in_okta_words(
    client: TestClient, auth: dict[str, str], expression: str, code: str, summary: str | None
) -> None:
    response = client.get(LOGS, params={"filter": expression}, headers=auth)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    assert response.json()["errorCode"] == code
    if summary is not None:
        assert response.json()["errorSummary"] == summary


def test_operators_are_case_insensitive(client: TestClient, auth: dict[str, str], sample: Any) -> None:
    assert titles(client, auth, filter='outcome.result EQ "FAILURE" AnD eventType Sw "resource"') == [
        "delete:FAILURE"
    ]


def test_keywords_all_must_match_case_insensitively(
    client: TestClient, auth: dict[str, str], sample: Any
) -> None:
    assert len(get(client, auth, LOGS, q="xoxbw-2jirncfd0gg0-1").json()) == 1
    assert len(get(client, auth, LOGS, q="XOxBw").json()) == 5
    assert len(get(client, auth, LOGS, q="2JIRnCFd0gG0").json()) == 5
    assert len(get(client, auth, LOGS, q="XOxBw-2JIRnCFd0gG0").json()) == 5
    assert len(get(client, auth, LOGS, q="XOxBw FAILURE").json()) == 1
    assert get(client, auth, LOGS, q="XOxBw nowhere-to-be-found").json() == []
    assert len(get(client, auth, LOGS, q="alice@example.com").json()) == 5


def test_keywords_combine_with_filters_and_paging(
    client: TestClient, auth: dict[str, str], sample: Any
) -> None:
    response = get(client, auth, LOGS, q="XOxBw", filter='outcome.result eq "SUCCESS"', limit=2)
    assert len(response.json()) == 2
    nxt = next(v for v in response.headers.get_list("link") if v.endswith('rel="next"'))[1:].split(">")[0]
    assert len(get(client, auth, nxt).json()) == 2


def test_keyword_limits(client: TestClient, auth: dict[str, str]) -> None:
    too_long = client.get(LOGS, params={"q": "x" * 41}, headers=auth)
    assert too_long.status_code == 400
    assert too_long.json()["errorSummary"].startswith(
        "Api validation failed: 'q': Freeform search cannot contain items longer than 40 characters."
    )
    too_many = client.get(LOGS, params={"q": " ".join("k" for _ in range(11))}, headers=auth)
    assert too_many.status_code == 400
    assert client.get(LOGS, params={"q": " ".join("k" for _ in range(10))}, headers=auth).status_code == 200
