"""A discovered tool's definition: read as hostile, bounded for storage and events, fingerprinted.

A tool listing comes from the MCP server's operator, so every string in it is remote text. The name is
the tool's identity (unique per server, the key drift is tracked by): one with a control character, none,
or more than ``MAX_NAME_LENGTH`` characters fails the discovery, as does a name listed twice, rather than
the tool being silently left out of the record. Everything else is kept, cleaned: control characters become
U+FFFD as events store them (TAB, LF and CR stay, as in an admin's description), so the tampering shows.

Each definition is bounded so that an event holding two of them (a change's ``from`` and ``to``) stays
well under ``MAX_EVENT_BYTES``: title and description are cut (ending in "…"), a schema larger than
``MAX_SCHEMA_BYTES`` is replaced by an empty schema whose ``$comment`` says so and gives its digest, and
the whole is at most ``MAX_DEFINITION_BYTES``.

The fingerprint is the SHA-256 of the canonical JSON (sorted keys, compact, UTF-8) of the *whole* cleaned
definition, before any cut: a change hidden past the cut of a long description still changes it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import mcp_types
import orjson

from registrar.controls import clean_value, control_problem, truncate
from registrar.errors import DiscoveryFailed

__all__ = [
    "MAX_DEFINITION_BYTES",
    "MAX_DESCRIPTION_LENGTH",
    "MAX_NAME_LENGTH",
    "MAX_SCHEMA_BYTES",
    "MAX_TITLE_LENGTH",
    "ToolDefinition",
    "canonical_json",
    "normalize_tools",
]

MAX_NAME_LENGTH = 128  # the MCP specification's bound (SEP-986)
MAX_TITLE_LENGTH = 255  # as an admin's displayName
MAX_DESCRIPTION_LENGTH = 4096
MAX_SCHEMA_BYTES = 8 * 1024
MAX_DEFINITION_BYTES = 24 * 1024  # two of them, and the rest of an event, stay under 64 KiB

_MEMBERS = ("name", "title", "description", "inputSchema", "outputSchema", "annotations")


def canonical_json(value: Any) -> bytes:
    """The one serialization that is hashed and stored: sorted keys, compact, UTF-8."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


@dataclass(frozen=True, slots=True)
class ToolDefinition:
    """One tool as recorded: bounded members, and the fingerprint of what the server sent."""

    name: str
    title: str | None
    description: str | None
    input_schema: Mapping[str, Any]
    output_schema: Mapping[str, Any] | None
    annotations: Mapping[str, Any] | None
    fingerprint: str

    def to_json(self) -> dict[str, Any]:
        """The definition in wire form (the API's member names): what is stored, and shown in changes."""
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "inputSchema": dict(self.input_schema),
            "outputSchema": None if self.output_schema is None else dict(self.output_schema),
            "annotations": None if self.annotations is None else dict(self.annotations),
        }

    def to_event(self) -> dict[str, Any]:
        """A ``changeDetails`` side: the definition with its fingerprint (a change past a cut shows)."""
        return {**self.to_json(), "fingerprint": self.fingerprint}


def normalize_tools(tools: Sequence[mcp_types.Tool]) -> tuple[ToolDefinition, ...]:
    """The definitions of a listing, in the server's order; ``DiscoveryFailed`` for an unusable name."""
    seen: set[str] = set()
    definitions = []
    for index, tool in enumerate(tools):
        why = "must not be empty" if not tool.name else control_problem(tool.name, MAX_NAME_LENGTH)
        if why:
            raise DiscoveryFailed(f"tools[{index}].name {why}")
        if tool.name in seen:
            raise DiscoveryFailed(f"tools[{index}].name is listed twice")
        seen.add(tool.name)
        try:
            definitions.append(_definition(tool))
        except (ValueError, orjson.JSONEncodeError):  # pydantic's or orjson's depth limit
            raise DiscoveryFailed(f"tools[{index}] is nested too deeply to be recorded") from None
    return tuple(definitions)


def _definition(tool: mcp_types.Tool) -> ToolDefinition:
    sent = tool.model_dump(by_alias=True, mode="json", exclude_none=True)
    whole = clean_value({key: sent.get(key) for key in _MEMBERS})
    fingerprint = hashlib.sha256(canonical_json(whole)).hexdigest()
    description = truncate(whole["description"], MAX_DESCRIPTION_LENGTH)
    kept = ToolDefinition(
        name=whole["name"],
        title=truncate(whole["title"], MAX_TITLE_LENGTH),
        description=description,
        input_schema=_schema(whole["inputSchema"]) or {},
        output_schema=_schema(whole["outputSchema"]),
        annotations=_annotations(whole["annotations"]),
        fingerprint=fingerprint,
    )
    # Only many multi-byte characters can pass the bound now; the description gives way.
    while description and len(canonical_json(kept.to_event())) > MAX_DEFINITION_BYTES:
        description = truncate(description, len(description) // 2)
        kept = replace(kept, description=description)
    return kept


def _schema(schema: Any) -> dict[str, Any] | None:
    """A schema object as kept: itself, or, past ``MAX_SCHEMA_BYTES``, a placeholder naming its digest."""
    if not isinstance(schema, dict):
        return None
    body = canonical_json(schema)
    if len(body) <= MAX_SCHEMA_BYTES:
        return schema
    digest = hashlib.sha256(body).hexdigest()
    return {"$comment": f"not kept: {len(body)} bytes, more than {MAX_SCHEMA_BYTES}; SHA-256 {digest}"}


def _annotations(annotations: Any) -> dict[str, Any] | None:
    """The behaviour hints as the SDK's model parsed them (booleans), the display title cut."""
    if not isinstance(annotations, dict) or not annotations:
        return None
    title = annotations.get("title")
    return annotations | ({"title": truncate(title, MAX_TITLE_LENGTH)} if isinstance(title, str) else {})
