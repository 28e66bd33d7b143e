"""The delivery body: Okta's event-hook envelope around the stored event bytes."""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from registrar.ids import format_ms

__all__ = ["CHALLENGE_HEADER", "envelope", "envelope_size"]

CHALLENGE_HEADER = "x-okta-verification-challenge"


def envelope(source: str, event_id: str, event_time_ms: int, events: Sequence[bytes]) -> bytes:
    """The JSON body of one delivery, in the key order of Okta's sample payload.

    The events are the canonical bytes stored in the log, spliced in as they are: what a receiver gets is
    byte for byte what ``/api/v1/logs`` serves and what the hash chain covers.
    """
    head = orjson.dumps(
        {
            "eventType": "com.okta.event_hook",
            "eventTypeVersion": "1.0",
            "cloudEventsVersion": "0.1",
            "source": source,
            "eventId": event_id,
        }
    )
    tail = orjson.dumps(
        {
            "eventTime": format_ms(event_time_ms),
            "contentType": "application/json",
        }
    )
    return b"".join((head[:-1], b',"data":{"events":[', b",".join(events), b"]},", tail[1:]))


# Every delivery's ``eventId`` is a UUID and its ``eventTime`` has a fixed width: only ``source`` varies.
_SAMPLE_EVENT_ID = "00000000-0000-4000-8000-000000000000"


def envelope_size(source: str, event_sizes: Sequence[int]) -> int:
    """The length in bytes of :func:`envelope` around events of ``event_sizes`` bytes, without building it."""
    empty = len(envelope(source, _SAMPLE_EVENT_ID, 0, ()))
    return empty + sum(event_sizes) + max(len(event_sizes) - 1, 0)
