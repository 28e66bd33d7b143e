"""The LogEvent attributes a System Log ``filter`` may name, and the SQL each one maps to.

Hot attributes are indexed columns (``eventType``, ``target.id`` through the target table, ...); the rest
are read from the stored JSON with the engine's JSON functions. ``target.*`` and ``request.ipChain.*``
match when any element of the array matches.

On PostgreSQL the body is a ``text`` column read as ``jsonb``. ``jsonb`` refuses two escapes that JSON
allows, ``\\u0000`` (text cannot hold NUL) and a lone surrogate; a single stored event holding one (written
by an older version, or inserted by hand: Registrar no longer writes either) would make the cast, and
with it every query filtering on a body attribute, fail. So a body that contains ``\\u`` at all is first
rewritten: each such escape (one preceded by an even number of backslashes, i.e. a real escape and not
literal text) becomes ``\\ufffd``, the replacement character the builder now stores. Bodies without
``\\u`` (every event this version writes, unless its text has a literal backslash-u) are cast as they are,
after one ``NOT LIKE`` scan. Measured with ``bench/bench_body_cast.py`` (100,000 events of 1.6 KB, the
backend's CPU time): +10% per row that a filter on a body attribute scans (about 0.8 µs), nothing for
filters on indexed columns; a ``strpos`` test instead cost +33%.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from typing import Any, Literal

from sqlalchemy import Boolean, Numeric, case, cast, exists, func, literal, literal_column, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql.elements import ColumnElement

from registrar.errors import InvalidFilter
from registrar.store.schema import log_event_targets, log_events

from .filter import ALL_OPS, And, Compare, Expr, Field, attributes, compare_column

__all__ = ["event_fields"]

Kind = Literal["string", "number", "boolean"]

_BODY = log_events.c.body
_NO_CONTAINS = ALL_OPS - {"co"}
_SEVERITY_RANK = {"DEBUG": 0, "INFO": 1, "WARN": 2, "ERROR": 3}

# Attributes read from the JSON body: wire path -> kind.
_JSON_FIELDS: Mapping[str, Kind] = {
    "uuid": "string",
    "version": "string",
    "displayMessage": "string",
    "legacyEventType": "string",
    "outcome.reason": "string",
    "actor.alternateId": "string",
    "actor.displayName": "string",
    "actor.type": "string",
    "client.ipAddress": "string",
    "client.zone": "string",
    "client.device": "string",
    "client.id": "string",
    "client.userAgent.rawUserAgent": "string",
    "client.userAgent.os": "string",
    "client.userAgent.browser": "string",
    "client.geographicalContext.country": "string",
    "client.geographicalContext.state": "string",
    "client.geographicalContext.city": "string",
    "client.geographicalContext.postalCode": "string",
    "authenticationContext.externalSessionId": "string",
    "authenticationContext.credentialType": "string",
    "authenticationContext.credentialProvider": "string",
    "authenticationContext.authenticationProvider": "string",
    "authenticationContext.interface": "string",
    "securityContext.isProxy": "boolean",
    "securityContext.asNumber": "number",
    "securityContext.asOrg": "string",
    "securityContext.isp": "string",
    "securityContext.domain": "string",
    "transaction.type": "string",
    "transaction.detail.requestApiTokenId": "string",
}
_ALIASES = {
    "event_type": "eventType",
    "display_message": "displayMessage",
    "legacy_event_type": "legacyEventType",
}
_TARGET_JSON = ("alternateId", "displayName")

# A ``\\u0000`` or lone-surrogate escape that is an escape (an even run of backslashes before it), in
# PostgreSQL's regular expression syntax; replaced by ``\\ufffd``, keeping the backslashes before it.
_UNSAFE_ESCAPE = (
    r"(?<!\\)((?:\\\\)*)"
    r"(?:\\u0000"
    r"|\\ud[89ab][0-9a-f]{2}(?!\\ud[c-f][0-9a-f]{2})"
    r"|(?<!\\ud[89ab][0-9a-f]{2})\\ud[c-f][0-9a-f]{2})"
)


@cache
def _pg_document() -> ColumnElement[Any]:
    """The body as ``jsonb``, whatever escapes a stored body holds (see the module docstring)."""
    safe = func.regexp_replace(_BODY, literal(_UNSAFE_ESCAPE), literal(r"\1\\ufffd"), literal_column("'gi'"))
    # LIKE is the cheapest scan PostgreSQL has for "no backslash-u anywhere" (a third of strpos's cost).
    text = case((_BODY.not_like(literal("%\\u%"), escape="/"), _BODY), else_=safe)
    return cast(text, JSONB)


def _json_scalar(dialect: str, path: str, kind: Kind) -> ColumnElement[Any]:
    parts = path.split(".")
    if dialect == "sqlite":
        return func.json_extract(_BODY, "$." + path)
    text = func.jsonb_extract_path_text(_pg_document(), *parts)
    if kind == "boolean":
        return cast(text, Boolean)
    if kind == "number":
        return cast(text, Numeric)
    return text


def _any_element(dialect: str, array_path: str, member: str) -> Callable[[str, Any], ColumnElement[bool]]:
    """A predicate: some element of the JSON array at ``array_path`` has ``member`` matching."""

    def predicate(op: str, value: Any) -> ColumnElement[bool]:
        if dialect == "sqlite":
            elements = func.json_each(_BODY, "$." + array_path).table_valued("value")
            item = func.json_extract(elements.c.value, "$." + member)
        else:
            array = func.jsonb_extract_path(_pg_document(), *array_path.split("."))
            elements = func.jsonb_array_elements(
                case((func.jsonb_typeof(array) == "array", array), else_=cast(literal("[]"), JSONB))
            ).table_valued("value")
            item = func.jsonb_extract_path_text(elements.c.value, member)
        return exists(select(literal(1)).select_from(elements).where(compare_column(item, op, value)))

    return predicate


def _target_column(
    column: ColumnElement[Any], event_type: str | None = None
) -> Callable[[str, Any], ColumnElement[bool]]:
    def predicate(op: str, value: Any) -> ColumnElement[bool]:
        matching = select(log_event_targets.c.seq).where(compare_column(column, op, value))
        if event_type is not None:
            # Every event the filter can match is of this type, and so is each of its target rows: the
            # (target_id, event_type, seq) index then yields only those rows, not all of a busy target's.
            matching = matching.where(log_event_targets.c.event_type == event_type)
        if op == "eq":
            # An IN list drives the (target_id, event_type, seq) index instead of a correlated probe.
            return log_events.c.seq.in_(matching)
        return exists(matching.where(log_event_targets.c.seq == log_events.c.seq))

    return predicate


def _severity(op: str, value: Any) -> ColumnElement[bool]:
    if not isinstance(value, str) or value not in _SEVERITY_RANK:
        raise InvalidFilter(f"Invalid filter value for severity: expected one of {', '.join(_SEVERITY_RANK)}")
    rank = case(_SEVERITY_RANK, value=log_events.c.severity, else_=-1)
    return compare_column(rank, op, _SEVERITY_RANK[value])


@cache
def _static_fields(dialect: str) -> dict[str, Field]:
    fields: dict[str, Field] = {
        "eventType": Field(log_events.c.event_type),
        "outcome.result": Field(log_events.c.outcome_result),
        "actor.id": Field(log_events.c.actor_id),
        "transaction.id": Field(log_events.c.transaction_id),
        "severity": Field(
            log_events.c.severity, ops=frozenset({"eq", "ne", "gt", "ge", "lt", "le"}), predicate=_severity
        ),
        "target.id": Field(
            log_event_targets.c.target_id, predicate=_target_column(log_event_targets.c.target_id)
        ),
        "target.type": Field(
            log_event_targets.c.target_type, predicate=_target_column(log_event_targets.c.target_type)
        ),
        "request.ipChain.ip": Field(_BODY, predicate=_any_element(dialect, "request.ipChain", "ip")),
    }
    for member in _TARGET_JSON:
        fields[f"target.{member}"] = Field(_BODY, predicate=_any_element(dialect, "target", member))
    for path, kind in _JSON_FIELDS.items():
        fields[path] = Field(_json_scalar(dialect, path, kind), kind=kind)
    for path in ("debugContext.debugData.url", "debugContext.debugData.requestUri"):
        # Okta refuses `co` on these two (E0000031): keep that contract.
        fields[path] = Field(_json_scalar(dialect, path, "string"), ops=_NO_CONTAINS)
    for alias, name in _ALIASES.items():
        fields[alias] = fields[name]
    return fields


def _required_event_type(expr: Expr) -> str | None:
    """The type every match of ``expr`` has: an ``eventType eq "<type>"`` among its top-level conjuncts."""
    pending = [expr]
    while pending:
        node = pending.pop()
        if isinstance(node, And):
            pending += (node.left, node.right)
        elif (
            isinstance(node, Compare)
            and node.op == "eq"
            and _ALIASES.get(node.attr, node.attr) == "eventType"
            and isinstance(node.value, str)
        ):
            return node.value
    return None


def event_fields(expr: Expr, dialect: str) -> dict[str, Field]:
    """The attribute map for ``expr``: the fixed attributes plus any ``debugContext.debugData.*`` it names."""
    fields = dict(_static_fields(dialect))
    event_type = _required_event_type(expr)
    if event_type is not None:
        for path, column in (
            ("target.id", log_event_targets.c.target_id),
            ("target.type", log_event_targets.c.target_type),
        ):
            fields[path] = Field(column, predicate=_target_column(column, event_type))
    for path in attributes(expr):
        if path == "published":
            raise InvalidFilter(
                "field is not valid: published (the published attribute cannot be filtered: "
                "use since and until)"
            )
        if path.startswith("debugContext.debugData.") and path not in fields:
            fields[path] = Field(_json_scalar(dialect, path, "string"))
    return fields
