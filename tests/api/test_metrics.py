"""``GET /metrics`` beyond the transparency log: requests by route template and status with their latency,
the log's appends, contents and size, and rate-limit refusals, each parsed with prometheus_client's own
text parser and checked to move by exactly what the test did."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine
from starlette.testclient import TestClient

from registrar.api import create_app
from registrar.config import Settings

from ..conftest import CLIENT_ADDRESS, MakeToken
from ..wire._live import inside_one_window

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
Events = Callable[[], list[dict[str, Any]]]
SERVERS = "/resource-servers/api/v1/api-servers"
ONE_SERVER = SERVERS + "/{server_id}"


def scrape(client: TestClient, auth: dict[str, str]) -> Samples:
    response = client.get("/metrics", headers=auth)
    assert response.status_code == 200, response.text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def _register(client: TestClient, auth: dict[str, str], count: int, prefix: str) -> None:
    for i in range(count):
        response = client.post(
            SERVERS,
            headers=auth,
            json={"resourceUrl": f"https://{prefix}-{i}.example/", "metadata": {"displayName": prefix}},
        )
        assert response.status_code == 201, response.text


def test_requests_are_counted_by_route_template_and_status(client: TestClient, auth: dict[str, str]) -> None:
    before = scrape(client, auth)
    for server_id in ("apsNoSuchServer1", "apsNoSuchServer2", "apsNoSuchServer3"):
        assert client.get(f"{SERVERS}/{server_id}", headers=auth).status_code == 404
    for _ in range(2):
        assert client.get(SERVERS, headers=auth).status_code == 200
    assert client.get("/no/such/page/at/all", headers=auth).status_code == 404
    assert client.get(SERVERS).status_code == 401
    after = scrape(client, auth)

    requests = "registrar_http_requests_total"
    assert moved(before, after, requests, method="GET", route=ONE_SERVER, status="404") == 3
    assert moved(before, after, requests, method="GET", route=SERVERS, status="200") == 2
    assert moved(before, after, requests, method="GET", route=SERVERS, status="401") == 1
    assert moved(before, after, requests, method="GET", route="(unmatched)", status="404") == 1
    # The scrape before is counted once it has been answered, so the one after sees it.
    assert moved(before, after, requests, method="GET", route="/metrics", status="200") == 1
    latency = "registrar_http_request_duration_seconds"
    assert moved(before, after, f"{latency}_count", method="GET", route=ONE_SERVER) == 3
    assert moved(before, after, f"{latency}_bucket", method="GET", route=ONE_SERVER, le="+Inf") == 3
    assert moved(before, after, f"{latency}_sum", method="GET", route=ONE_SERVER) > 0
    # Labels come from the route table, never the URL: the ids and the junk path made no series.
    labels = {value for (_, pairs) in after for _, value in pairs}
    assert not [label for label in labels if "NoSuchServer" in label or "no/such" in label]


def test_the_log_is_measured_appends_outcomes_and_size(
    client: TestClient, auth: dict[str, str], make_token: MakeToken, events: Events
) -> None:
    reader = {"Authorization": f"SSWS {make_token('okta.resourceServers.apiServers.read', email='r@x.io')}"}
    before = scrape(client, auth)
    _register(client, auth, 2, "measured")
    denied = client.post(SERVERS, headers=reader, json={"resourceUrl": "https://denied.example/"})
    assert denied.status_code == 403
    after = scrape(client, auth)

    stored = events()
    assert value(after, "registrar_events_appended_total") == len(stored)
    assert moved(before, after, "registrar_events_appended_total") == 3
    assert value(after, "registrar_log_size_events") == len(stored)
    assert moved(before, after, "registrar_log_events", outcome="SUCCESS") == 2
    assert moved(before, after, "registrar_log_events", outcome="DENY") == 1
    by_outcome: dict[str, int] = {}
    for stored_event in stored:
        outcome = stored_event["outcome"]["result"]
        by_outcome[outcome] = by_outcome.get(outcome, 0) + 1
    assert {o: value(after, "registrar_log_events", outcome=o) for o in by_outcome} == by_outcome


def test_rate_limit_refusals_are_counted_by_caller(
    settings: Settings, engine: Engine, make_token: MakeToken
) -> None:
    app = create_app(replace(settings, rate_limit_per_minute=3), engine=engine)
    scraper = {"Authorization": f"Bearer {make_token('okta.logs.read', email='prometheus@x.io')}"}
    caller = {"Authorization": f"SSWS {make_token()}"}
    inside_one_window()  # PostgreSQL's budgets are wall-clock minutes
    with TestClient(app, client=CLIENT_ADDRESS) as client:
        before = scrape(client, scraper)
        token_answers = [client.get(SERVERS, headers=caller).status_code for _ in range(5)]
        anonymous_answers = [client.get(SERVERS).status_code for _ in range(4)]
        after = scrape(client, scraper)
    assert token_answers == [200, 200, 200, 429, 429]
    assert anonymous_answers == [401, 401, 401, 429]
    rejections = "registrar_rate_limit_rejections_total"
    assert moved(before, after, rejections, caller="token") == 2
    assert moved(before, after, rejections, caller="address") == 1
    # Refused before routing, and still counted under the route that would have answered.
    requests = "registrar_http_requests_total"
    assert moved(before, after, requests, method="GET", route=SERVERS, status="429") == 3


def test_the_page_cache_counts_its_hits_misses_and_pages_it_never_keeps(
    client: TestClient, auth: dict[str, str]
) -> None:
    _register(client, auth, 3, "paged")  # three events: a full page of two, then a partial one
    full = {"since": "2000-01-01T00:00:00.000Z", "limit": "2"}
    before = scrape(client, auth)
    first, again = (client.get("/api/v1/logs", params=full, headers=auth) for _ in range(2))
    assert first.status_code == again.status_code == 200 and first.content == again.content
    assert client.get("/api/v1/logs", params={**full, "limit": "10"}, headers=auth).status_code == 200
    after = scrape(client, auth)
    pages = "registrar_log_page_cache_requests_total"
    assert moved(before, after, pages, result="miss") == 1  # read from the log, then kept
    assert moved(before, after, pages, result="hit") == 1  # the same full page again
    assert moved(before, after, pages, result="uncached") == 1  # a partial page is never kept
