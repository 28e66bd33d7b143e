"""Building full Okta ``LogEvent`` objects from a request context, and their canonical stored form."""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

import orjson

from registrar.context import RequestContext
from registrar.ids import format_timestamp

from .catalog import EventType, Target

__all__ = ["Outcome", "build_event", "canonical_bytes"]

Outcome = Literal["SUCCESS", "FAILURE", "DENY"]

_SEVERITY: Mapping[str, str] = {"SUCCESS": "INFO", "FAILURE": "WARN", "DENY": "WARN"}


def _ip_version(address: str | None) -> str | None:
    if address is None:
        return None
    try:
        return "V4" if ipaddress.ip_address(address).version == 4 else "V6"
    except ValueError:
        return None


def build_event(
    event_type: EventType,
    ctx: RequestContext,
    targets: Sequence[Target],
    published: datetime,
    *,
    outcome: Outcome = "SUCCESS",
    reason: str | None = None,
    debug: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One LogEvent with every field of Okta's shape present, in Okta's key order."""
    actor = ctx.actor
    client = ctx.client
    is_job = ctx.transaction_type == "JOB"
    debug_data: dict[str, Any] = {"requestId": ctx.request_id, "requestUri": ctx.request_uri, "url": ctx.url}
    if outcome != "SUCCESS" and reason:
        debug_data["errorMessage"] = reason
    if debug:
        debug_data.update(debug)
    return {
        "actor": {
            "id": actor.id,
            "type": actor.type,
            "alternateId": actor.alternate_id,
            "displayName": actor.display_name,
            "detailEntry": None,
        },
        "client": {
            "userAgent": None
            if is_job
            else {"rawUserAgent": client.raw_user_agent, "os": "Unknown", "browser": "UNKNOWN"},
            "zone": None if is_job else "null",
            "device": None if is_job else "Unknown",
            "id": ctx.token_id,
            "ipAddress": client.ip_address,
            "geographicalContext": None,
        },
        "device": None,
        "authenticationContext": {
            "authenticationProvider": None,
            "credentialProvider": None,
            "credentialType": None,
            "issuer": None,
            "interface": None,
            "authenticationStep": 0,
            "externalSessionId": ctx.session_id,
        },
        "displayMessage": event_type.display_message,
        "eventType": event_type.name,
        "outcome": {"result": outcome, "reason": reason},
        "published": format_timestamp(published),
        "securityContext": {"asNumber": None, "asOrg": None, "isp": None, "domain": None, "isProxy": False},
        "severity": _SEVERITY[outcome],
        "debugContext": {"debugData": debug_data},
        "legacyEventType": None,
        "transaction": {
            "type": ctx.transaction_type,
            "id": ctx.request_id,
            "detail": {"requestApiTokenId": ctx.token_id} if ctx.token_id else {},
        },
        "uuid": str(uuid.uuid4()),
        "version": "0",
        "request": {
            "ipChain": []
            if client.ip_address is None
            else [
                {
                    "ip": client.ip_address,
                    "geographicalContext": None,
                    "version": _ip_version(client.ip_address),
                    "source": None,
                }
            ]
        },
        "target": list(targets),
    }


def canonical_bytes(event: Mapping[str, Any]) -> bytes:
    """The one serialization of an event: compact UTF-8 JSON in the builder's key order.

    These bytes are stored once, served verbatim by the System Log API and hashed into the chain.
    """
    return orjson.dumps(event)
