"""The System Log viewer: filters with inline errors, keywords, histogram, target links, live mode."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from typing import Any

from .conftest import Console

Events = Callable[[], list[dict[str, Any]]]


def _register(console: Console, name: str) -> str:
    response = console.post(
        "/api-servers/new", {"resourceUrl": f"https://{name}.example.com/", "displayName": name}
    )
    return response.headers["location"].split("/")[2].split("?")[0]


def _chart(page: str) -> dict[str, Any]:
    match = re.search(r'<script type="application/json" id="histogram-data"[^>]*>(.*?)</script>', page, re.S)
    assert match is not None
    data: dict[str, Any] = json.loads(match.group(1))
    return data


def test_events_histogram_and_links(console: Console) -> None:
    first = _register(console, "alpha")
    _register(console, "beta")
    console.post(f"/api-servers/{first}/activate")
    page = console.client.get("/system-log?range=1h")
    assert page.status_code == 200
    assert page.text.count('<details class="event') == 4  # the sign-in is in the log too
    chart = _chart(page.text)
    assert chart["total"] == 4
    by_type = {series["label"]: sum(series["data"]) for series in chart["groups"]["eventType"]}
    assert by_type == {"user.session.start": 1, "api_server.register": 2, "api_server.activate": 1}
    assert {s["label"]: sum(s["data"]) for s in chart["groups"]["outcome"]} == {"SUCCESS": 4}
    assert len(chart["labels"]) == len(chart["bounds"]) <= 60
    # Targets link to their objects; each event's full JSON is in the page (marked up and escaped).
    assert f'href="/api-servers/{first}"' in page.text
    text = html.unescape(re.sub(r"<[^>]+>", "", page.text))
    assert '"eventType": "resource_servers.api_server.activate"' in text
    assert f'"id": "{first}"' in text


def test_filter_narrows_and_keywords_search(console: Console) -> None:
    first = _register(console, "gamma")
    _register(console, "delta")
    filtered = console.client.get("/system-log", params={"filter": f'target.id eq "{first}"', "range": "1h"})
    assert filtered.status_code == 200
    assert filtered.text.count('<details class="event') == 1
    assert _chart(filtered.text)["total"] == 1
    keyword = console.client.get("/system-log", params={"q": "delta", "range": "1h"})
    assert keyword.text.count('<details class="event') == 1


def test_filter_errors_are_shown_inline_in_oktas_words(console: Console) -> None:
    unknown = console.client.get("/system-log", params={"filter": 'nonsense eq "x"'})
    assert unknown.status_code == 400
    assert "E0000053" in unknown.text
    assert "field is not valid: nonsense" in unknown.text
    assert 'id="filter" name="filter" class="mono" value="nonsense eq &#34;x&#34;"' in unknown.text
    assert 'aria-invalid="true"' in unknown.text
    unsupported = console.client.get("/system-log", params={"filter": 'debugContext.debugData.url co "x"'})
    assert unsupported.status_code == 400
    assert "E0000031" in unsupported.text
    garbled = console.client.get("/system-log", params={"filter": 'eventType eq "x" and'})
    assert "E0000053" in garbled.text
    too_long = console.client.get("/system-log", params={"q": "x" * 41})
    assert "Freeform search cannot contain items longer than 40 characters." in too_long.text
    bad_time = console.client.get("/system-log", params={"range": "custom", "since": "yesterday"})
    assert "The date format in your query is not recognized." in bad_time.text


def test_search_errors_on_resource_lists_are_inline(console: Console) -> None:
    response = console.client.get("/mcp-servers", params={"search": 'status eq "ACTIVE" and'})
    assert response.status_code == 400
    assert "E0000053" in response.text
    assert 'id="search-error"' in response.text
    wrong_op = console.client.get("/api-servers", params={"search": 'status co "ACT"'})
    assert "E0000031" in wrong_op.text


def test_live_mode_follows_the_log_cursor(console: Console) -> None:
    page = console.client.get("/system-log?live=1&range=1h")
    poll = re.search(r'hx-get="(/system-log/live\?[^"]+)"', page.text)
    assert poll is not None
    first = console.client.get(html.unescape(poll.group(1)))
    assert first.status_code == 200
    assert "<details" not in first.text
    _register(console, "epsilon")
    next_poll = re.search(r'hx-get="(/system-log/live\?[^"]+)"', first.text)
    assert next_poll is not None and "after=" in next_poll.group(1)
    second = console.client.get(html.unescape(next_poll.group(1)))
    assert 'hx-swap-oob="afterbegin:#events"' in second.text
    assert second.text.count("<details") == 1
    assert "api_server.register" in second.text
    third_poll = re.search(r'hx-get="(/system-log/live\?[^"]+)"', second.text)
    assert third_poll is not None
    third = console.client.get(html.unescape(third_poll.group(1)))
    assert "<details" not in third.text  # nothing new: the cursor moved past the event
