"""``GET /api/v1/logs``: polling and bounded pages, links, cursors, timestamps, filter and q."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from starlette.testclient import TestClient

from ..conftest import MakeToken

LOGS = "/api/v1/logs"
SERVERS = "/resource-servers/api/v1/api-servers"


def make_events(client: TestClient, auth: dict[str, str], count: int, prefix: str = "svc") -> list[str]:
    """Register ``count`` API servers (one event each); returns their ids."""
    ids = []
    for i in range(count):
        body = {
            "resourceUrl": f"https://{prefix}-{i}.example.com/",
            "metadata": {"displayName": f"{prefix} {i}"},
        }
        response = client.post(SERVERS, json=body, headers=auth)
        assert response.status_code == 201
        ids.append(response.json()["id"])
    return ids


def links(response: Any) -> dict[str, str]:
    """rel -> URL from the response's Link headers, checking Okta's exact layout on the way."""
    values = response.headers.get_list("link")
    found = {}
    for value in values:
        url, rel = value.split("; ")
        assert url.startswith("<http") and url.endswith(">")
        assert rel in ('rel="self"', 'rel="next"')
        found[rel[5:-1]] = url[1:-1]
    assert values[0].endswith('rel="self"')  # self first, next last
    return found


def get(client: TestClient, auth: dict[str, str], url: str, **params: Any) -> Any:
    response = client.get(url.removeprefix("http://testserver"), params=params or None, headers=auth)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    return response


def test_polling_follows_next_links_and_ends_on_self(client: TestClient, auth: dict[str, str]) -> None:
    ids = make_events(client, auth, 5)
    response = get(client, auth, LOGS, limit=2)
    seen: list[str] = []
    pages = 0
    while True:
        pages += 1
        seen += [e["target"][0]["id"] for e in response.json()]
        rel = links(response)
        assert "next" in rel  # polling: next is always there
        if rel["next"] == rel["self"]:
            break
        response = get(client, auth, rel["next"])
    assert seen == ids
    assert pages == 4  # 2 + 2 + 1, then an empty caught-up page
    assert response.json() == []
    make_events(client, auth, 1, prefix="late")
    later = get(client, auth, links(response)["next"])
    assert [e["target"][0]["displayName"] for e in later.json()] == ["late 0"]


def test_next_links_carry_every_parameter(client: TestClient, auth: dict[str, str]) -> None:
    make_events(client, auth, 3)
    response = get(
        client,
        auth,
        LOGS,
        since="2000-01-01T00:00:00Z",
        filter='eventType sw "resource_servers"',
        q="svc",
        limit=1,
    )
    next_query = parse_qs(urlsplit(links(response)["next"]).query)
    assert next_query["since"] == ["2000-01-01T00:00:00Z"]
    assert next_query["filter"] == ['eventType sw "resource_servers"']
    assert next_query["q"] == ["svc"]
    assert next_query["limit"] == ["1"]
    assert list(next_query) == ["since", "after", "filter", "q", "limit"]


def test_link_urls_encode_commas_and_semicolons(client: TestClient, auth: dict[str, str]) -> None:
    make_events(client, auth, 1)
    response = get(client, auth, LOGS, filter='displayMessage ne "a,b;c"', limit=1)
    for url in links(response).values():
        assert "," not in url and ";" not in url
        assert "%2C" in url and "%3B" in url


def test_sdk_style_after_with_repeated_since_wins(client: TestClient, auth: dict[str, str]) -> None:
    ids = make_events(client, auth, 4)
    first = get(client, auth, LOGS, since="2000-01-01", limit=2)
    after = parse_qs(urlsplit(links(first)["next"]).query)["after"][0]
    second = get(client, auth, LOGS, since="2000-01-01", after=after, limit=2)
    assert [e["target"][0]["id"] for e in second.json()] == ids[2:]


@pytest.mark.parametrize("cursor", ["garbage", "1_", "_1", "1-2", "12345_99999", "99999999999999999999_1"])
def test_unknown_or_garbled_cursors_are_400(client: TestClient, auth: dict[str, str], cursor: str) -> None:
    make_events(client, auth, 1)
    response = client.get(LOGS, params={"after": cursor}, headers=auth)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    assert response.json()["errorCode"] == "E0000001"


def test_bounded_pages_by_published_and_end_without_next(client: TestClient, auth: dict[str, str]) -> None:
    ids = make_events(client, auth, 5)
    bounds = {"since": "2000-01-01T00:00:00.000Z", "until": "2100-01-01T00:00:00.000Z", "limit": 2}
    response = get(client, auth, LOGS, **bounds)
    seen = [e["target"][0]["id"] for e in response.json()]
    while "next" in links(response):
        response = get(client, auth, links(response)["next"])
        seen += [e["target"][0]["id"] for e in response.json()]
    assert seen == ids
    descending = get(client, auth, LOGS, **bounds, sortOrder="DESCENDING")
    assert [e["target"][0]["id"] for e in descending.json()] == ids[::-1][:2]
    published = [e["published"] for e in get(client, auth, LOGS, **{**bounds, "limit": 10}).json()]
    assert published == sorted(published)


def test_descending_without_until_is_finite(client: TestClient, auth: dict[str, str]) -> None:
    make_events(client, auth, 2)
    response = get(client, auth, LOGS, sortOrder="DESCENDING", limit=5)
    assert len(response.json()) == 2
    assert "next" not in links(response)


def test_empty_until_is_a_polling_request(client: TestClient, auth: dict[str, str]) -> None:
    make_events(client, auth, 1)
    response = get(client, auth, LOGS, until="", q="")
    assert "next" in links(response)


@pytest.mark.parametrize(
    "since",
    [
        "2017-05-03T16:22:18Z",
        "2014-09-01T00:00:00.000Z",
        "2017-06-10T00:00:00+00:00",
        "2017-06-10T00:00:00 00:00",  # '+' that arrived as a space
        "2020-02-14T20:18:57.762000",
        "2020-07-28",
        "2017-09-17T15:41:12.9Z",
        "2017-09-17T15:41:12.123456-07:00",
        "2017-09-17T15:41:12.123456789+00:00",  # nine fractional digits, as some collectors send them
        "2017-09-17T15:41:12.123456789Z",
    ],
)
def test_lenient_timestamps(client: TestClient, auth: dict[str, str], since: str) -> None:
    make_events(client, auth, 1)
    assert len(get(client, auth, LOGS, since=since).json()) == 1


def test_nine_fractional_digits_and_an_offset_bound_the_window_at_the_event_s_millisecond(
    client: TestClient, auth: dict[str, str]
) -> None:
    """Events are published to the millisecond: a ``since`` inside the event's millisecond, written with
    nine digits and ``+00:00``, finds it (digits are dropped, never rounded up); the next millisecond does
    not, and an ``until`` there does."""
    make_events(client, auth, 1)
    [event] = get(client, auth, LOGS, since="2000-01-01T00:00:00Z").json()
    published = event["published"]  # e.g. 2026-12-03T16:40:00.123Z
    stem, millis = published[:-5], int(published[-4:-1])
    assert len(get(client, auth, LOGS, since=f"{stem}.{millis:03d}999999+00:00").json()) == 1
    if millis < 999:  # (the next millisecond would be the next second's: not worth the arithmetic)
        after = f"{stem}.{millis + 1:03d}000000+00:00"
        assert get(client, auth, LOGS, since=after).json() == []
        assert len(get(client, auth, LOGS, since="2000-01-01T00:00:00Z", until=after).json()) == 1


def test_an_unreadable_date_is_okta_s_e0000001(client: TestClient, auth: dict[str, str]) -> None:
    response = client.get(LOGS, params={"until": "yesterday"}, headers=auth)
    assert response.status_code == 400
    assert response.json()["errorSummary"] == (
        "Api validation failed: 'until': The date format in your query is not recognized. Please enter dates "
        "using ISO8601 string format. 'until': must be a valid date-time or empty."
    )
    assert [c["errorSummary"] for c in response.json()["errorCauses"]] == [
        "until: The date format in your query is not recognized. "
        "Please enter dates using ISO8601 string format.",
        "until: must be a valid date-time or empty.",
    ]


def test_trailing_slash_and_plus_spaces(client: TestClient, auth: dict[str, str]) -> None:
    make_events(client, auth, 2)
    response = client.get(
        "/api/v1/logs/?since=2000-01-01&filter=eventType+eq+%22resource_servers.api_server.register%22&q=svc&limit=1",
        headers=auth,
    )
    assert response.status_code == 200
    assert len(response.json()) == 1
    assert links(response)["self"].startswith("http://testserver/api/v1/logs/?")


@pytest.mark.parametrize(
    ("limit", "ok"), [("0", True), ("1000", True), ("1001", False), ("-1", False), ("ten", False)]
)
def test_limit_bounds(client: TestClient, auth: dict[str, str], limit: str, ok: bool) -> None:
    response = client.get(LOGS, params={"limit": limit}, headers=auth)
    assert (response.status_code == 200) is ok


def test_the_logs_scope_is_required(client: TestClient, make_token: MakeToken) -> None:
    registry_only = make_token("okta.resourceServers.apiServers.manage", email="x@example.com")
    response = client.get(LOGS, headers={"Authorization": f"SSWS {registry_only}"})
    assert response.status_code == 403
    assert response.json()["errorCode"] == "E0000006"
    assert client.get(LOGS).status_code == 401


def test_responses_are_the_stored_bytes(client: TestClient, auth: dict[str, str], engine: Any) -> None:
    make_events(client, auth, 3)
    from sqlalchemy import select

    from registrar.store.schema import log_events

    with engine.connect() as conn:
        stored = conn.execute(select(log_events.c.body).order_by(log_events.c.seq)).scalars().all()
    assert get(client, auth, LOGS).content == ("[" + ",".join(stored) + "]").encode()


def test_links_use_the_origin_a_trusted_proxy_reports(settings: Any, engine: Any, token: str) -> None:
    import dataclasses

    from registrar.api import create_app

    from ..conftest import CLIENT_ADDRESS

    proxied = dataclasses.replace(settings, trusted_proxies=(f"{CLIENT_ADDRESS[0]}/32",))
    headers = {
        "Authorization": f"SSWS {token}",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "logs.example.com",
    }
    with TestClient(create_app(proxied, engine=engine), client=CLIENT_ADDRESS) as trusted:
        response = trusted.get(LOGS, params={"limit": 5}, headers=headers)
        assert links(response)["self"] == "https://logs.example.com/api/v1/logs?limit=5"
    with TestClient(create_app(settings, engine=engine), client=CLIENT_ADDRESS) as untrusted:
        response = untrusted.get(LOGS, params={"limit": 5}, headers=headers)
        assert links(response)["self"] == "http://testserver/api/v1/logs?limit=5"
