"""One-time verification: the receiver proves it controls the URI by echoing a random challenge."""

from __future__ import annotations

import secrets

import httpx2
import orjson

from registrar.errors import ValidationFailed
from registrar.outbound import CallFailed, call

from ._model import EventHook
from ._payload import CHALLENGE_HEADER

__all__ = ["verify_endpoint"]


def _failed(reason: str) -> ValidationFailed:
    return ValidationFailed([f"verification: {reason}"], summary="Event hook verification failed.")


def verify_endpoint(
    client: httpx2.Client, hook: EventHook, auth_value: str | None, *, timeout: float
) -> None:
    """Send the single verification GET; raises ``ValidationFailed`` (400) saying why it did not pass."""
    challenge = secrets.token_urlsafe(32)
    headers = [("Accept", "application/json"), *hook.headers]
    if hook.auth_key is not None and auth_value is not None:
        headers.append((hook.auth_key, auth_value))
    headers.append((CHALLENGE_HEADER, challenge))
    try:
        answer = call(client, "GET", hook.uri, headers=headers, timeout=timeout, read_body=True)
    except CallFailed as failure:
        raise _failed(f"{failure.reason}.") from None
    if not 200 <= answer.status < 300:
        raise _failed(f"The endpoint answered HTTP {answer.status} instead of 200.")
    try:
        data = orjson.loads(answer.body)
    except orjson.JSONDecodeError:
        raise _failed('The answer is not JSON; expected {"verification": "<the challenge>"}.') from None
    if not isinstance(data, dict) or "verification" not in data:
        raise _failed('The answer has no "verification" member.')
    if data["verification"] != challenge:
        raise _failed(f"The answer's verification value is not the challenge sent in {CHALLENGE_HEADER}.")
