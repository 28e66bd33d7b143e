"""One source of truth for client addresses, through a real ``registrar serve``: the socket peer, and only
the forwarding headers of a configured trusted proxy (uvicorn's own proxy-header handling is off)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx2

from ._live import served

SPOOFED = {"X-Forwarded-For": "203.0.113.66", "X-Forwarded-Proto": "https"}
API_SERVERS = "/resource-servers/api/v1/api-servers"


def _register_and_read(url: str, token: str) -> tuple[dict[str, Any], str]:
    """Register an API server with the spoofed headers; its event, and the logs' self Link."""
    with httpx2.Client(base_url=url, headers={"Authorization": f"SSWS {token}", **SPOOFED}) as client:
        created = client.post(
            API_SERVERS, json={"resourceUrl": "https://wire.example.com", "metadata": {"displayName": "W"}}
        )
        assert created.status_code == 201, created.text
        logs = client.get(
            "/api/v1/logs",
            params={"filter": f'transaction.id eq "{created.headers["x-okta-request-id"]}"'},
        )
        assert logs.status_code == 200, logs.text
        (event,) = logs.json()
        return event, logs.headers.get_list("link")[0]


def test_an_untrusted_peer_cannot_name_the_client_or_the_scheme(tmp_path: Path) -> None:
    with served(f"sqlite:///{tmp_path / 'r.db'}", tmp_path) as live:
        event, link = _register_and_read(live.url, live.token())
    assert event["client"]["ipAddress"] == "127.0.0.1"
    assert [hop["ip"] for hop in event["request"]["ipChain"]] == ["127.0.0.1"]
    assert event["securityContext"]["isProxy"] is True  # someone we do not trust claims to forward
    assert link.startswith(f"<{live.url}/api/v1/logs?"), link


def test_a_trusted_proxy_names_the_client_and_the_scheme(tmp_path: Path) -> None:
    with served(f"sqlite:///{tmp_path / 'r.db'}", tmp_path, trusted_proxies="127.0.0.1/32") as live:
        event, link = _register_and_read(live.url, live.token())
    assert event["client"]["ipAddress"] == "203.0.113.66"
    assert [hop["ip"] for hop in event["request"]["ipChain"]] == ["203.0.113.66", "127.0.0.1"]
    assert event["securityContext"]["isProxy"] is False  # the proxy is ours
    assert link.startswith(f"<{live.url.replace('http://', 'https://')}/api/v1/logs?"), link
