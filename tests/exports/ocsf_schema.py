"""Validating OCSF records against the official OCSF 1.3.0 schema, offline.

The schema is the ``schema.ocsf.io/1.3.0/export/schema`` document that the ``ocsf-json-schema`` package
ships; the package turns one class (with the record's profiles) into a JSON Schema 2020-12 document:
required attributes, enums, the schema's regular expressions for ips/emails/datetimes,
``at_least_one``/``just_one`` constraints, and no attribute the class does not define. What JSON Schema
cannot say (``type_uid`` = ``class_uid * 100 + activity_id``, the captions of the ``*_id`` siblings) is
checked here against the same schema document.
"""

from __future__ import annotations

import functools
from typing import Any

from jsonschema import Draft202012Validator
from ocsf_json_schema import OcsfJsonSchemaEmbedded, get_ocsf_schema  # type: ignore[import-untyped]

__all__ = ["ocsf_problems"]

VERSION = "1.3.0"


@functools.cache
def _schema() -> Any:
    return OcsfJsonSchemaEmbedded(get_ocsf_schema(version=VERSION))


@functools.cache
def _class(class_uid: int) -> dict[str, Any]:
    schema = _schema()
    definition: dict[str, Any] = schema.schema.schema["classes"][schema.lookup_class_name_from_uid(class_uid)]
    return definition


@functools.cache
def _validator(class_uid: int, profiles: tuple[str, ...]) -> Any:
    schema = _schema()
    document = schema.get_class_schema(schema.lookup_class_name_from_uid(class_uid), list(profiles))
    Draft202012Validator.check_schema(document)
    return Draft202012Validator(document)


def _caption(class_uid: int, attribute: str, value: int) -> str | None:
    enum = _class(class_uid)["attributes"][attribute].get("enum", {})
    entry = enum.get(str(value))
    return None if entry is None else str(entry["caption"])


def ocsf_problems(record: dict[str, Any]) -> list[str]:
    """Everything wrong with ``record`` as an OCSF 1.3.0 event (an empty list: it is valid)."""
    class_uid = record.get("class_uid")
    if not isinstance(class_uid, int):
        return [f"class_uid is not an integer: {class_uid!r}"]
    profiles = tuple(record.get("metadata", {}).get("profiles", []))
    problems = [
        f"{'/'.join(map(str, error.absolute_path)) or '<record>'}: {error.message[:300]}"
        for error in _validator(class_uid, profiles).iter_errors(record)
    ]
    definition = _class(class_uid)
    expected = {
        "type_uid": class_uid * 100 + record.get("activity_id", -1),
        "class_name": definition["caption"],
        "category_uid": definition["category_uid"],
        "metadata.version": VERSION,
    }
    actual = {**record, "metadata.version": record.get("metadata", {}).get("version")}
    problems += [
        f"{key}: {actual.get(key)!r} != {want!r}" for key, want in expected.items() if actual.get(key) != want
    ]
    for attribute, sibling in (("severity_id", "severity"), ("status_id", "status")):
        caption = _caption(class_uid, attribute, record.get(attribute, -1))
        if record.get(attribute) != 99 and record.get(sibling) != caption:
            problems.append(
                f"{sibling}: {record.get(sibling)!r} is not the caption of {attribute} ({caption!r})"
            )
    if record.get("activity_id") != 99:
        caption = _caption(class_uid, "activity_id", record.get("activity_id", -1))
        if record.get("activity_name") != caption:
            problems.append(f"activity_name {record.get('activity_name')!r} is not {caption!r}")
    return problems
