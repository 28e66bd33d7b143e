"""Admin-supplied URLs refuse every control character, C1 included, with a 400 and a FAILURE event."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from registrar.domain.urls import url_problem

API_SERVERS = "/resource-servers/api/v1/api-servers"


@pytest.mark.parametrize("char", ["\x00", "\x1b", "\x7f", "\x85", "\x9b", " ", "\u2028"])
def test_control_and_space_characters_are_refused(char: str) -> None:
    assert url_problem(f"https://api.example.com/a{char}b", allow_http=False) == (
        "must not contain whitespace or control characters"
    )


def test_a_c1_character_in_a_resource_url_is_a_400_and_audited(
    client: TestClient, auth: dict[str, str], events: Callable[[], list[dict[str, Any]]]
) -> None:
    response = client.post(
        API_SERVERS,
        headers=auth,
        json={"resourceUrl": "https://api.example.com/\x9b2J", "metadata": {"displayName": "x"}},
    )
    assert response.status_code == 400
    assert response.json()["errorCode"] == "E0000001"
    (event,) = events()
    assert event["outcome"]["result"] == "FAILURE"
    assert "\x9b" not in str(event)
