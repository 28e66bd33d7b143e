"""Building full Okta ``LogEvent`` objects from a request context, and their canonical stored form.

Every event is bounded, whatever its inputs (DESIGN.md invariant 9; the README's "Limits" table):

- header-derived fields are cut to a documented length: ``client.userAgent.rawUserAgent``
  ``MAX_USER_AGENT_LENGTH`` (1024), ``debugData.requestUri`` and ``debugData.url`` ``MAX_URI_LENGTH``
  (2048), ``request.ipChain`` ``MAX_IP_CHAIN`` hops (the client and the hops nearest to us),
  ``outcome.reason`` (and ``debugData.errorMessage``) 255, Okta's own limit for ``LogOutcome.reason``.
  A cut string ends in "…".
- every string (and key) is stored without control characters: C0 (NUL included), DEL and C1 become
  U+FFFD, except TAB, LF and CR (``registrar.controls.replace_controls``): the stored JSON never holds
  a ``\\u0000`` escape, and no byte a terminal acts on.
- the canonical bytes never exceed ``MAX_EVENT_BYTES`` (65,535 bytes, the most an entry bundle can
  hold). An event that would is shrunk, never refused: long strings and lists are cut, step by step
  (``_SHRINK_STEPS``), ``debugData`` keeps only its core keys, and it carries ``debugData.truncated:
  true``. The operation is not failed for it.
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

import orjson

from registrar.context import ClientInfo, GeoContext, RequestContext
from registrar.context.useragent import MAX_USER_AGENT_LENGTH
from registrar.controls import clean_value, truncate
from registrar.ids import format_timestamp

from .catalog import EventType, Target

__all__ = [
    "MAX_EVENT_BYTES",
    "MAX_IP_CHAIN",
    "MAX_REASON_LENGTH",
    "MAX_URI_LENGTH",
    "MAX_USER_AGENT_LENGTH",
    "Outcome",
    "build_event",
    "canonical_bytes",
]

Outcome = Literal["SUCCESS", "FAILURE", "DENY"]

_SEVERITY: Mapping[str, str] = {"SUCCESS": "INFO", "FAILURE": "WARN", "DENY": "WARN"}

# 64 KiB less one byte: a tlog-tiles entry bundle prefixes each entry with a big-endian uint16 length.
MAX_EVENT_BYTES = 64 * 1024 - 1
MAX_URI_LENGTH = 2048  # as an admin-supplied URL (registrar.domain.urls.MAX_URL_LENGTH)
MAX_IP_CHAIN = 16
MAX_REASON_LENGTH = 255  # Okta's LogOutcome.reason: 1..255 characters

# The keys of debugData an over-sized event keeps; per-type extras go first.
_CORE_DEBUG = ("requestId", "requestUri", "url", "errorMessage")
# (longest string, longest list) of each shrinking step, tried in order until the event fits.
_SHRINK_STEPS = ((1024, 64), (256, 16), (64, 4))
# What orjson writes for a control character (``\u00XX``, ``\b``, ``\f``; DEL and C1 raw) or cannot
# write (a lone surrogate raises): a quick test of the serialized event before walking it. A literal
# backslash (``\\\\b``) matches too; the walk then simply finds nothing to replace.
_CONTROL_BYTES = re.compile(rb"\\u00[01]|\\[bf]|\x7f|\xc2[\x80-\x9f]")


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
        else {
            "rawUserAgent": truncate(client.raw_user_agent, MAX_USER_AGENT_LENGTH),
            "os": client.os,
            "browser": client.browser,
        },
        "zone": client.zone,
        "device": client.device,
        "id": ctx.token_id,
        "ipAddress": client.ip_address,
        "geographicalContext": _geo(client.geo),
    }


def _ip_chain(client: ClientInfo) -> list[dict[str, Any]]:
    if client.ip_chain:
        hops = client.ip_chain
        if len(hops) > MAX_IP_CHAIN:
            # Trusted proxies can be named many times over: keep the client and the hops nearest to us.
            hops = hops[:1] + hops[len(hops) - MAX_IP_CHAIN + 1 :]
        return [
            {"ip": hop.ip, "geographicalContext": _geo(hop.geo), "version": hop.version, "source": hop.source}
            for hop in hops
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
    """One LogEvent with every field of Okta's shape present, in Okta's key order, clean and bounded."""
    actor = ctx.actor
    security = ctx.security
    reason = truncate(reason, MAX_REASON_LENGTH)
    debug_data: dict[str, Any] = {"requestId": ctx.request_id}
    if ctx.request_uri:  # a job has no request line
        debug_data["requestUri"] = truncate(ctx.request_uri, MAX_URI_LENGTH)
        debug_data["url"] = truncate(ctx.url, MAX_URI_LENGTH)
    if outcome != "SUCCESS" and reason:
        debug_data["errorMessage"] = reason
    if debug:
        debug_data.update(debug)
    event = {
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
    return _bounded(event)


def _cut(value: Any, longest: int, items: int) -> Any:
    """``value`` with strings cut to ``longest`` characters and lists to ``items`` elements."""
    if isinstance(value, str):
        return truncate(value, longest)
    if isinstance(value, Mapping):
        return {key: _cut(item, longest, items) for key, item in value.items()}
    if isinstance(value, list):
        return [_cut(item, longest, items) for item in value[:items]]
    return value


def _shrunk(event: dict[str, Any], longest: int, items: int) -> dict[str, Any]:
    """A smaller copy of ``event``: every target kept, debugData reduced to its core, marked truncated."""
    debug = event["debugContext"]["debugData"]
    smaller = {key: value for key, value in event.items() if key not in {"target", "debugContext"}}
    smaller = _cut(smaller, longest, items)
    smaller["target"] = [_cut(target, longest, items) for target in event["target"]]
    core = {key: debug[key] for key in _CORE_DEBUG if key in debug}
    smaller["debugContext"] = {"debugData": {**_cut(core, longest, items), "truncated": True}}
    return {key: smaller[key] for key in event}  # Okta's key order, as built


def _skeleton(event: dict[str, Any]) -> dict[str, Any]:
    """The last resort: each target's identity only, no IP chain; always far below the cap."""
    smaller = _shrunk(event, 64, 4)
    smaller["target"] = [
        {key: target.get(key) for key in ("id", "type", "alternateId", "displayName", "detailEntry")}
        | {"detailEntry": None}
        for target in smaller["target"]
    ]
    smaller["request"] = {"ipChain": []}
    return smaller


def _bounded(event: dict[str, Any]) -> dict[str, Any]:
    """``event`` cleaned of control characters and, if its bytes would pass ``MAX_EVENT_BYTES``, shrunk."""
    try:
        body: bytes | None = orjson.dumps(event)
    except orjson.JSONEncodeError:  # a lone surrogate: the walk replaces it
        body = None
    if body is None or _CONTROL_BYTES.search(body) is not None:
        event = clean_value(event)
        body = orjson.dumps(event)
    if len(body) <= MAX_EVENT_BYTES:
        return event
    for longest, items in _SHRINK_STEPS:
        smaller = _shrunk(event, longest, items)
        if len(orjson.dumps(smaller)) <= MAX_EVENT_BYTES:
            return smaller
    return _skeleton(event)


def canonical_bytes(event: Mapping[str, Any]) -> bytes:
    """The one serialization of an event: compact UTF-8 JSON in the builder's key order.

    These bytes are stored once, served verbatim by the System Log API and hashed into the chain.
    """
    return orjson.dumps(event)
