"""The okta SDK's strict ``LogEvent`` model as a check: what every event Registrar writes must pass."""

from __future__ import annotations

from typing import Any

from okta.models.log_event import LogEvent

__all__ = ["parsed_by_okta"]


def parsed_by_okta(event: dict[str, Any]) -> LogEvent:
    """``event`` parsed by the SDK, which kept its identity, its time zone and every target."""
    parsed = LogEvent.from_dict(event)
    assert parsed is not None
    assert (parsed.uuid, parsed.event_type) == (event["uuid"], event["eventType"])
    assert parsed.published is not None and parsed.published.tzinfo is not None
    assert parsed.target is not None and len(parsed.target) == len(event["target"])
    return parsed
