"""Client secrets are write-only in the console: accepted by a password field, never rendered back."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .conftest import Console

Events = Callable[[], list[dict[str, Any]]]
SECRETS = ["s3cr3t-first-Hq7xWm2", "s3cr3t-refused-Zp4kLt9", "s3cr3t-second-Rv8nJc3", "s3cr3t-third-Yb5dPe6"]


def _links(html: str) -> set[str]:
    return {href.replace("&amp;", "&") for href in re.findall(r'href="(/[^"#]*)', html)}


def test_no_page_ever_shows_a_client_secret(console: Console, events: Events) -> None:
    server = console.post(
        "/api-servers/new", {"resourceUrl": "https://cas.example.com/", "displayName": "CAS"}
    )
    server_id = server.headers["location"].split("/")[2].split("?")[0]
    form_page = console.client.get("/client-auth-settings/new")
    assert form_page.status_code == 200
    orn = re.findall(r'<option value="(orn:[^"]+)"', form_page.text)[0]
    assert orn.endswith(server_id)
    base = {"name": "GitHub app", "resourceOrn": orn, "clientId": "client-1", "scopes": "repo read:org"}
    seen: list[str] = []

    created = console.post("/client-auth-settings/new", {**base, "clientSecret": SECRETS[0]})
    assert created.status_code == 303
    settings_path = created.headers["location"].split("?")[0]
    refused = console.post("/client-auth-settings/new", {**base, "clientId": "", "clientSecret": SECRETS[1]})
    assert refused.status_code == 400
    seen.append(refused.text)
    updated = console.post(f"{settings_path}/edit", {**base, "clientSecret": SECRETS[2]})
    assert updated.status_code == 303
    kept = console.post(f"{settings_path}/edit", {**base, "name": "GitHub app 2", "clientSecret": ""})
    assert kept.status_code == 303
    failed = console.post(
        f"{settings_path}/edit", {**base, "tokenEndpointAuthMethod": "none", "clientSecret": SECRETS[3]}
    )
    assert failed.status_code == 400
    seen.append(failed.text)

    update_events = [e for e in events() if e["eventType"].endswith("client_authentication_settings.update")]
    changes = update_events[0]["target"][-1]["changeDetails"]
    assert changes["to"]["clientSecret"] == "********"
    assert "clientSecret" not in update_events[1]["target"][-1].get("changeDetails", {}).get("to", {})

    # Crawl every console page reachable from the settings, server and log pages (events expanded inline).
    queue = [settings_path, "/client-auth-settings", f"/api-servers/{server_id}", "/system-log?range=1h"]
    visited: set[str] = set()
    while queue:
        path = queue.pop()
        if path in visited or path.startswith(("/console/static", "/logout")) or len(visited) > 60:
            continue
        visited.add(path)
        page = console.client.get(path)
        seen.append(page.text)
        queue.extend(_links(page.text) - visited)
    seen.append(console.client.get("/system-log/live?since=2000-01-01T00:00:00Z").text)
    assert len(visited) > 10
    for html in seen:
        for secret in SECRETS:
            assert secret not in html
    # The password inputs for the secret never carry a value attribute.
    detail = console.client.get(settings_path).text
    assert re.search(r'<input id="f-clientSecret" name="clientSecret" type="password"\s', detail)
    assert not re.search(r'name="clientSecret"[^>]*value=', detail)
