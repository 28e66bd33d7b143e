"""OCSF 1.3.0 records from System Log events, field by field after the ocsf/examples Okta mapping.

The class and activity come from ``_ocsf_classes`` (the per-``eventType`` table). The fields:

| OCSF                                    | System Log                                                     |
|-----------------------------------------|----------------------------------------------------------------|
| ``metadata.uid``                        | ``uuid``                                                       |
| ``metadata.event_code``                 | ``eventType`` (also ``api.operation`` in API Activity)         |
| ``metadata.correlation_uid``            | ``transaction.id`` (shared by every event of one request/job)  |
| ``metadata.original_time``              | ``published``, as written                                      |
| ``metadata.log_version``                | ``version`` (the System Log format's, ``"0"``)                 |
| ``metadata.product``                    | ``Registrar System Log`` by ``Registrar``, Registrar's version |
| ``time`` / ``time_dt``                  | ``published`` as epoch milliseconds / as written               |
| ``message``                             | ``displayMessage``                                             |
| ``severity_id`` / ``severity``          | ``severity``: DEBUG, INFO → 1; WARN → 3 Medium; ERROR → 4 High |
| ``status_id`` / ``status``              | ``outcome.result``: SUCCESS, ALLOW → 1; FAILURE, DENY → 2      |
| ``status_code``                         | ``outcome.result`` verbatim (keeps DENY apart from FAILURE)    |
| ``status_detail``                       | ``outcome.reason``                                             |
| ``actor.user.name`` / ``uid``           | ``actor.displayName`` / ``actor.id``                           |
| ``actor.user.email_addr``               | ``actor.alternateId`` (``uid_alt`` when it is not an email)    |
| ``actor.user.type_id`` / ``type``       | ``actor.type``: User → 1 User, SystemPrincipal → 3 System      |
| ``actor.user.credential_uid``           | ``transaction.detail.requestApiTokenId`` (the API token used)  |
| ``actor.session.uid`` / ``issuer``      | ``authenticationContext.externalSessionId`` / ``.issuer.id``   |
| ``http_request.uid``                    | ``debugContext.debugData.requestId``                           |
| ``http_request.url.path``               | ``debugContext.debugData.url`` (its query: ``query_string``)   |
| ``http_request.user_agent``             | ``client.userAgent.rawUserAgent``                              |
| ``src_endpoint.ip``                     | ``client.ipAddress``                                           |
| ``src_endpoint.intermediate_ips``       | ``request.ipChain[1:].ip`` (the proxies in front of us)        |
| ``src_endpoint.domain``                 | ``securityContext.domain``                                     |
| ``src_endpoint.location``               | ``client.geographicalContext`` (state → ``region``),           |
|                                         | ``securityContext.isp``                                        |
| ``src_endpoint.autonomous_system``      | ``securityContext.asNumber`` / ``asOrg``                       |
| ``entity`` (Entity Management)          | the managed target: id → uid, displayName → name, type → type  |
|                                         | (type_id 99 Other), alternateId/detailEntry/changeDetails →    |
|                                         | ``data``                                                       |
| ``resources[]`` (API Activity)          | every target, the same way                                     |
| ``observables``                         | source IP, user name, email, user agent, resource uids         |
| ``unmapped``                            | every event member none of the above used, nulls dropped       |
| ``raw_data``                            | the stored canonical JSON verbatim: the bytes the hash chain   |
|                                         | covers, so a record can be checked against the log             |

Departures from the ocsf/examples samples, each to follow the 1.3.0 schema's own words: ``time`` is in
milliseconds (``timestamp_t``; the samples carry seconds), ``location.country`` is the ISO 3166-1 alpha-2
code (the samples carry Okta's country name), and the event's ``version`` is the log format's version
(``metadata.log_version``), not the product's. A job has no client address: its source endpoint is
Registrar itself.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime, timedelta
from importlib import metadata as package_metadata
from typing import Any

import orjson
import pycountry

from ._ocsf_classes import API_ACTIVITY, Classification, classify
from ._reader import EventReader

__all__ = ["OCSF_VERSION", "to_ocsf"]

OCSF_VERSION = "1.3.0"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# The schema's own ``email_t`` pattern: an alternateId that fails it would fail validation as email_addr.
_EMAIL = re.compile(r"^[a-zA-Z0-9!#$%&'*+-/=?^_`{|}~.]+@[a-zA-Z0-9-]+\.[a-zA-Z0-9-.]+$")
_SEVERITY = {
    "DEBUG": (1, "Informational"),
    "INFO": (1, "Informational"),
    "WARN": (3, "Medium"),
    "ERROR": (4, "High"),
}
_STATUS = {
    "SUCCESS": (1, "Success"),
    "ALLOW": (1, "Success"),
    "FAILURE": (2, "Failure"),
    "DENY": (2, "Failure"),
}
_USER_TYPES = {"User": (1, "User"), "SystemPrincipal": (3, "System")}
_OTHER = 99


@functools.cache
def _product_version() -> str:
    try:
        return package_metadata.version("registrar")
    except package_metadata.PackageNotFoundError:  # running from a source tree that is not installed
        return "0+unknown"


@functools.cache
def _country_code(name: str) -> str | None:
    """Okta writes the country's English name; OCSF wants its ISO 3166-1 alpha-2 code."""
    try:
        code: str = pycountry.countries.lookup(name).alpha_2
    except LookupError:
        return None
    return code


def _compact(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None and value != {}}


def to_ocsf(body: bytes) -> dict[str, Any]:
    """The OCSF 1.3.0 record of one stored event (its canonical JSON bytes)."""
    reader = EventReader(orjson.loads(body))
    kind = classify(reader.text("eventType"))
    record: dict[str, Any] = {
        **_class_fields(reader, kind),
        "metadata": _metadata(reader, kind),
        **_time(reader),
        "message": reader.text("displayMessage"),
        **_severity(reader),
        **_status(reader),
        "actor": _actor(reader),
        "http_request": _http_request(reader),
        "src_endpoint": _src_endpoint(reader),
    }
    if kind.ocsf_class is API_ACTIVITY:
        record["api"] = _compact(
            {
                "operation": reader.peek("eventType") or "unknown",
                "request": {"uid": reader.peek("debugContext", "debugData", "requestId") or "unknown"},
            }
        )
        record["resources"] = [_resource(target) for target in _targets(reader)] or None
        unmapped = reader.unmapped()
    else:
        entity, others = _entity(reader, kind)
        record["entity"] = entity
        unmapped = reader.unmapped()
        if others:
            unmapped["target"] = others
    record = _compact(record)
    record["observables"] = _observables(record) or None
    record["unmapped"] = unmapped or None
    record["raw_data"] = body.decode()
    return _compact(record)


def _class_fields(reader: EventReader, kind: Classification) -> dict[str, Any]:
    cls, activity = kind.ocsf_class, kind.activity
    name = activity.name
    if activity.id == _OTHER:
        # "Other": the activity is the source's own, named by the last word of its eventType.
        name = (reader.peek("eventType") or "unknown").rsplit(".", 1)[-1]
    return {
        "activity_id": activity.id,
        "activity_name": name,
        "category_uid": cls.category_uid,
        "category_name": cls.category_name,
        "class_uid": cls.uid,
        "class_name": cls.name,
        "type_uid": kind.type_uid,
        "type_name": f"{cls.name}: {activity.name}",
    }


def _metadata(reader: EventReader, kind: Classification) -> dict[str, Any]:
    return _compact(
        {
            "version": OCSF_VERSION,
            "profiles": list(kind.ocsf_class.profiles),
            "product": {
                "name": "Registrar System Log",
                "vendor_name": "Registrar",
                "version": _product_version(),
            },
            "uid": reader.text("uuid"),
            "event_code": reader.peek("eventType"),
            "correlation_uid": reader.text("transaction", "id"),
            "original_time": reader.peek("published"),
            "log_name": "System Log",
            "log_provider": "Registrar",
            "log_version": reader.text("version"),
        }
    )


def _time(reader: EventReader) -> dict[str, Any]:
    published = reader.text("published")
    if published is None:
        return {"time": 0}
    moment = datetime.fromisoformat(published)
    # Integer arithmetic: a float timestamp can land one millisecond short.
    return {"time": (moment - _EPOCH) // timedelta(milliseconds=1), "time_dt": published}


def _severity(reader: EventReader) -> dict[str, Any]:
    raw = reader.text("severity")
    severity_id, caption = _SEVERITY.get(raw or "", (_OTHER if raw else 0, raw or "Unknown"))
    return {"severity_id": severity_id, "severity": caption}


def _status(reader: EventReader) -> dict[str, Any]:
    result = reader.text("outcome", "result")
    status_id, caption = _STATUS.get(result or "", (_OTHER if result else 0, result or "Unknown"))
    return {
        "status_id": status_id,
        "status": caption,
        "status_code": result,
        "status_detail": reader.text("outcome", "reason"),
    }


def _actor(reader: EventReader) -> dict[str, Any]:
    alternate_id = reader.text("actor", "alternateId")
    actor_type = reader.text("actor", "type")
    type_id, type_name = _USER_TYPES.get(actor_type or "", (_OTHER if actor_type else 0, actor_type))
    email = alternate_id if alternate_id and _EMAIL.match(alternate_id) else None
    user = _compact(
        {
            "name": reader.text("actor", "displayName"),
            "uid": reader.text("actor", "id"),
            "email_addr": email,
            "uid_alt": alternate_id if email is None else None,
            "type_id": type_id,
            "type": type_name,
            "credential_uid": reader.text("transaction", "detail", "requestApiTokenId"),
        }
    )
    if not {"name", "uid"} & user.keys():
        user["name"] = "unknown"  # "All events have actors" (Okta); OCSF needs one of name/uid
    session = _compact(
        {
            "uid": reader.text("authenticationContext", "externalSessionId"),
            "issuer": reader.text("authenticationContext", "issuer", "id"),
        }
    )
    return _compact({"user": user, "session": session})


def _http_request(reader: EventReader) -> dict[str, Any] | None:
    url = reader.text("debugContext", "debugData", "url")
    agent = reader.text("client", "userAgent", "rawUserAgent")
    if url is None and agent is None:
        return None  # not sourced to an HTTP request: a job
    path, _, query = (url or "").partition("?")
    return _compact(
        {
            "uid": reader.text("debugContext", "debugData", "requestId"),
            "url": _compact({"path": path, "query_string": query or None}) if url else None,
            "user_agent": agent,
        }
    )


def _src_endpoint(reader: EventReader) -> dict[str, Any]:
    chain = reader.peek("request", "ipChain")
    hops = [hop.get("ip") for hop in chain[1:] if isinstance(hop, dict)] if isinstance(chain, list) else []
    as_number = reader.take("securityContext", "asNumber")
    endpoint = _compact(
        {
            "ip": reader.text("client", "ipAddress"),
            "intermediate_ips": [hop for hop in hops if isinstance(hop, str)] or None,
            "domain": reader.text("securityContext", "domain"),
            "location": _location(reader),
            "autonomous_system": _compact(
                {
                    "number": as_number if isinstance(as_number, int) else None,
                    "name": reader.text("securityContext", "asOrg"),
                }
            ),
        }
    )
    if "ip" not in endpoint:
        endpoint["name"] = "registrar"  # a job: the scheduler inside Registrar is the source
    return endpoint


def _location(reader: EventReader) -> dict[str, Any] | None:
    geo = ("client", "geographicalContext")
    country_name = reader.peek(*geo, "country")
    country = _country_code(country_name) if isinstance(country_name, str) else None
    if country is not None:
        reader.take(*geo, "country")  # an unknown name stays in `unmapped` rather than being lost
    point = reader.peek(*geo, "geolocation")
    location = _compact(
        {
            "city": reader.text(*geo, "city"),
            "country": country,
            "region": reader.text(*geo, "state"),
            "postal_code": reader.text(*geo, "postalCode"),
        }
    )
    if not location:
        return None  # OCSF needs one of city, country, postal code, region
    if isinstance(point, dict):
        reader.take(*geo, "geolocation")
        location.update(_compact({"lat": point.get("lat"), "long": point.get("lon")}))
    isp = reader.text("securityContext", "isp")
    if isp is not None:
        location["isp"] = isp
    return location


def _targets(reader: EventReader) -> list[dict[str, Any]]:
    targets = reader.take("target")
    return [t for t in targets if isinstance(t, dict)] if isinstance(targets, list) else []


def _described(target: dict[str, Any]) -> dict[str, Any]:
    """What a target says beyond its id, name and type, for the OCSF object's ``data``."""
    return _compact({key: target.get(key) for key in ("alternateId", "detailEntry", "changeDetails")})


def _resource(target: dict[str, Any]) -> dict[str, Any]:
    resource = _compact(
        {
            "uid": target.get("id"),
            "name": target.get("displayName"),
            "type": target.get("type"),
            "data": _described(target),
        }
    )
    if not {"uid", "name"} & resource.keys():
        resource["name"] = "unknown"
    return resource


def _entity(reader: EventReader, kind: Classification) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The managed target (the first of the class's type) and the other targets."""
    targets = _targets(reader)
    managed = next((t for t in targets if t.get("type") == kind.entity_type), None)
    others = [t for t in targets if t is not managed]
    if managed is None:
        # A request refused before its object existed (e.g. an invalid registration) names no target;
        # Okta writes "unknown" for what it cannot name, and so do we.
        return {"name": "unknown", "type": kind.entity_type, "type_id": _OTHER}, others
    entity = {**_resource(managed), "type_id": _OTHER}
    return entity, others


def _observables(record: dict[str, Any]) -> list[dict[str, Any]]:
    user = record.get("actor", {}).get("user", {})
    candidates: list[tuple[str, Any, int, str]] = [
        ("src_endpoint.ip", record.get("src_endpoint", {}).get("ip"), 2, "IP Address"),
        ("actor.user.name", user.get("name"), 4, "User Name"),
        ("actor.user.email_addr", user.get("email_addr"), 5, "Email Address"),
        ("http_request.user_agent", record.get("http_request", {}).get("user_agent"), 16, "HTTP User-Agent"),
    ]
    if "entity" in record:
        candidates.append(("entity.uid", record["entity"].get("uid"), 10, "Resource UID"))
    for resource in record.get("resources", []):
        candidates.append(("resources.uid", resource.get("uid"), 10, "Resource UID"))
    return [
        {"name": name, "value": value, "type_id": type_id, "type": caption}
        for name, value, type_id, caption in candidates
        if isinstance(value, str) and value
    ]
