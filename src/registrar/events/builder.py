"""Building full Okta ``LogEvent`` objects from a request context, and their canonical stored form."""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

import orjson

from registrar.context import ClientInfo, GeoContext, RequestContext
from registrar.ids import format_timestamp

from .catalog import EventType, Target

__all__ = ["Outcome", "build_event", "canonical_bytes"]

Outcome = Literal["SUCCESS", "FAILURE", "DENY"]

_SEVERITY: Mapping[str, str] = {"SUCCESS": "INFO", "FAILURE": "WARN", "DENY": "WARN"}


def _ip_version(address: str) -> str | None:
    try:
        return "V4" if ipaddress.ip_address(address).version == 4 else "V6"
    except ValueError:
        return None


def _geo(geo: GeoContext | None) -> dict[str, Any] | None:
    if geo is None:
        return None
    return {
        "city": geo.city,
        "state": geo.state,
        "country": geo.country,
        "postalCode": geo.postal_code,
        "geolocation": None if geo.lat is None or geo.lon is None else {"lat": geo.lat, "lon": geo.lon},
    }


def _client(ctx: RequestContext) -> dict[str, Any]:
    client = ctx.client
    agent = (client.raw_user_agent, client.os, client.browser)
    return {
        "userAgent": None
        if agent == (None, None, None)
        else {"rawUserAgent": client.raw_user_agent, "os": client.os, "browser": client.browser},
        "zone": client.zone,
        "device": client.device,
        "id": ctx.token_id,
        "ipAddress": client.ip_address,
        "geographicalContext": _geo(client.geo),
    }


def _ip_chain(client: ClientInfo) -> list[dict[str, Any]]:
    if client.ip_chain:
        return [
            {"ip": hop.ip, "geographicalContext": _geo(hop.geo), "version": hop.version, "source": hop.source}
            for hop in client.ip_chain
        ]
    if client.ip_address is None:
        return []
    # A context built by hand, without enrichment: the client is the whole chain.
    return [
        {
            "ip": client.ip_address,
            "geographicalContext": _geo(client.geo),
            "version": _ip_version(client.ip_address),
            "source": None,
        }
    ]


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
    security = ctx.security
    debug_data: dict[str, Any] = {"requestId": ctx.request_id}
    if ctx.request_uri:  # a job has no request line
        debug_data["requestUri"] = ctx.request_uri
        debug_data["url"] = ctx.url
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
        "client": _client(ctx),
        "device": None,
        "authenticationContext": {
            "authenticationProvider": ctx.authentication_provider,
            "credentialProvider": ctx.credential_provider,
            "credentialType": ctx.credential_type,
            "issuer": None,
            "interface": None,
            "authenticationStep": 0,
            "externalSessionId": ctx.session_id,
        },
        "displayMessage": event_type.display_message,
        "eventType": event_type.name,
        "outcome": {"result": outcome, "reason": reason},
        "published": format_timestamp(published),
        "securityContext": {
            "asNumber": security.as_number,
            "asOrg": security.as_org,
            "isp": security.isp,
            "domain": security.domain,
            "isProxy": security.is_proxy,
        },
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
        "request": {"ipChain": _ip_chain(ctx.client)},
        "target": list(targets),
    }


def canonical_bytes(event: Mapping[str, Any]) -> bytes:
    """The one serialization of an event: compact UTF-8 JSON in the builder's key order.

    These bytes are stored once, served verbatim by the System Log API and hashed into the chain.
    """
    return orjson.dumps(event)
