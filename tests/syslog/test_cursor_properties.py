"""Property tests for System Log cursors and request parameters: nothing a client sends is a 500."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from registrar.errors import ValidationFailed
from registrar.syslog.cursor import Cursor, parse_cursor
from registrar.syslog.query import parse_query
from registrar.syslog.timeparse import parse_timestamp


@given(st.integers(0, 10**15 - 1), st.integers(0, 10**18 - 1))
def test_cursors_round_trip(published_ms: int, seq: int) -> None:
    cursor = Cursor(published_ms, seq)
    text = str(cursor)
    assert text.replace("_", "").isdigit()  # URL-safe: nothing to percent-encode, no '+' to mangle
    assert parse_cursor(text, head_seq=seq) == cursor


@given(st.text(max_size=60))
def test_any_cursor_text_parses_or_is_a_validation_error(text: str) -> None:
    try:
        cursor = parse_cursor(text, head_seq=10**18)
    except ValidationFailed:
        return
    published, _, seq = text.partition("_")
    assert re.fullmatch(r"[0-9]{1,15}", published) and re.fullmatch(r"[0-9]{1,18}", seq), text
    assert cursor == Cursor(int(published), int(seq))


@given(
    st.dictionaries(
        st.sampled_from(["since", "until", "after", "filter", "q", "limit", "sortOrder"]),
        st.text(max_size=50),
    )
)
def test_any_parameters_parse_or_are_okta_errors(params: dict[str, str]) -> None:
    from registrar.errors import RegistrarError

    try:
        query = parse_query(params)
    except RegistrarError as error:
        status = error.status
    else:
        assert 0 <= query.limit <= 1000
        return
    assert status == 400


@given(st.text(max_size=40))
def test_timestamps_parse_to_utc_or_none(text: str) -> None:
    moment = parse_timestamp(text)
    assert moment is None or moment.utcoffset() is not None


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(after=st.text(max_size=30), limit=st.integers(-5, 1005))
def test_the_api_never_fails_on_odd_cursors(
    client: TestClient, auth: dict[str, str], after: str, limit: int
) -> None:
    response = client.get("/api/v1/logs", params={"after": after, "limit": str(limit)}, headers=auth)
    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert response.json()["errorCode"] in {"E0000001", "E0000053"}


def test_near_miss_cursors_are_refused() -> None:
    for text in ("1_2\n", "\u0661_2", " 1_2", "1_2 "):
        try:
            parse_cursor(text, head_seq=10)
        except ValidationFailed:
            continue
        raise AssertionError(f"{text!r} was accepted")
