"""OCSF export: every record of real product events is a valid OCSF 1.3.0 event, mapped as documented."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine, select
from starlette.testclient import TestClient

from registrar.events.builder import canonical_bytes
from registrar.events.catalog import CATALOG, EXTENSION_EVENT_TYPES
from registrar.exports import CLASSIFICATIONS, ExportFormat, classify, export_log, to_ocsf
from registrar.store.schema import log_events
from registrar.syslog.query import parse_query
from tests.conftest import MakeToken

from .kind_events import NEWER_TYPES, every_newer_type
from .ocsf_schema import ocsf_problems
from .traffic import CAS, SECRET, McpSite, exercise_catalog

Events = Callable[[], list[dict[str, Any]]]


def stored_bodies(engine: Engine) -> list[bytes]:
    """The canonical bytes of every stored event, in log order."""
    with engine.connect() as conn:
        rows = conn.execute(select(log_events.c.body).order_by(log_events.c.seq)).scalars().all()
    return [row.encode() for row in rows]


def ocsf_export(engine: Engine) -> list[dict[str, Any]]:
    sink = io.BytesIO()
    export_log(engine, parse_query({"limit": "1000"}), ExportFormat.OCSF, sink)
    return [orjson.loads(line) for line in sink.getvalue().splitlines()]


@pytest.fixture
def catalog_records(
    client: TestClient,
    auth: dict[str, str],
    make_token: MakeToken,
    mcp_site: McpSite,
    loopback_discovery: None,
    engine: Engine,
) -> list[dict[str, Any]]:
    """The OCSF export of a log holding every one of the seed's 19 operations (and a failure and a denial)."""
    exercise_catalog(client, auth, make_token, mcp_site)
    return ocsf_export(engine)


def test_every_record_is_valid_ocsf_1_3_in_the_documented_class(
    catalog_records: list[dict[str, Any]], engine: Engine
) -> None:
    assert {r["metadata"]["event_code"] for r in catalog_records} == set(CATALOG) - NEWER_TYPES
    for record in catalog_records:
        assert ocsf_problems(record) == [], record["metadata"]["event_code"]
    assert [r["raw_data"].encode() for r in catalog_records] == stored_bodies(engine)
    for record in catalog_records:
        kind = CLASSIFICATIONS[record["metadata"]["event_code"]]
        assert (record["class_uid"], record["activity_id"]) == (kind.ocsf_class.uid, kind.activity.id)
    by_code = {r["metadata"]["event_code"]: r for r in catalog_records}
    activate = by_code["resource_servers.mcp_server.activate"]
    assert (activate["class_uid"], activate["type_uid"], activate["activity_name"]) == (
        3004,
        300408,
        "Enable",
    )
    linked = by_code["resource_servers.api_server.auth_server.add"]
    assert (linked["class_uid"], linked["type_uid"]) == (6003, 600301)
    assert [r["type"] for r in linked["resources"]] == ["ApiServer", "ApiAuthServer"]
    assert linked["api"]["operation"] == "resource_servers.api_server.auth_server.add"


def test_a_secret_rotation_maps_field_by_field_and_keeps_the_secret_out(
    catalog_records: list[dict[str, Any]], events: Events
) -> None:
    rotation = next(
        r
        for r in catalog_records
        if r["metadata"]["event_code"].endswith("client_authentication_settings.update")
    )
    event = orjson.loads(rotation["raw_data"])
    assert event in events()
    assert rotation["metadata"]["uid"] == event["uuid"]
    assert rotation["metadata"]["correlation_uid"] == event["transaction"]["id"]
    assert rotation["time_dt"] == event["published"]
    assert rotation["message"] == "Update client authentication settings"
    assert rotation["actor"]["user"] == {
        "name": "Alice Admin",
        "uid": event["actor"]["id"],
        "email_addr": "alice@example.com",
        "type_id": 1,
        "type": "User",
        "credential_uid": event["transaction"]["detail"]["requestApiTokenId"],
    }
    assert rotation["actor"]["session"]["uid"] == event["authenticationContext"]["externalSessionId"]
    assert rotation["http_request"]["uid"] == event["debugContext"]["debugData"]["requestId"]
    assert rotation["http_request"]["url"]["path"] == f"{CAS}/{event['target'][1]['id']}"
    assert rotation["http_request"]["user_agent"] == "registrar-tests/1.0"
    endpoint = rotation["src_endpoint"]
    assert (endpoint["ip"], endpoint["intermediate_ips"]) == ("8.8.8.8", ["198.51.100.23"])
    assert endpoint["location"]["country"] == "US"
    entity = rotation["entity"]
    assert (entity["uid"], entity["type"]) == (event["target"][1]["id"], "ClientAuthSettings")
    assert entity["data"]["changeDetails"]["to"]["clientSecret"] == "********"
    assert [t["type"] for t in rotation["unmapped"]["target"]] == ["ApiServer"]
    assert rotation["unmapped"]["transaction"] == {"type": "WEB"}
    assert rotation["unmapped"]["request"]["ipChain"] == event["request"]["ipChain"]
    assert (rotation["status_id"], rotation["status_code"], rotation["severity_id"]) == (1, "SUCCESS", 1)
    assert SECRET not in orjson.dumps(catalog_records).decode()

    # Refusals: DENY stays apart from FAILURE in status_code, both are OCSF Failures.
    refused = [r for r in catalog_records if r["status_id"] == 2]
    assert sorted(r["status_code"] for r in refused) == ["DENY", "FAILURE"]
    for record in refused:
        assert record["severity"] == "Medium" and record["status_detail"]
    failure = next(r for r in refused if r["status_code"] == "FAILURE")
    assert failure["entity"]["uid"] == "mcp00000000000000000"

    # A scheduled job: the system actor, and Registrar itself as the source.
    (job,) = [r for r in catalog_records if r["unmapped"].get("transaction", {}).get("type") == "JOB"]
    assert job["metadata"]["event_code"] == "resource_servers.mcp_server.update"
    assert job["actor"]["user"]["type"] == "System"
    assert job["src_endpoint"] == {"name": "registrar"}
    assert "http_request" not in job


@pytest.mark.usefixtures("some_events")
def test_an_event_type_outside_the_catalog_is_api_activity_other(engine: Engine) -> None:
    # A type added to the catalog later (as capability.discover was in 2026.06) must still export validly.
    later = orjson.loads(stored_bodies(engine)[0])
    later["eventType"] = "resource_servers.mcp_server.capability.invoke"
    record = to_ocsf(orjson.dumps(later))
    assert ocsf_problems(record) == []
    assert (record["class_uid"], record["activity_id"], record["activity_name"]) == (6003, 99, "invoke")
    assert classify(None).activity.id == 99


# (class_uid, activity_id, entity type) of each newer type, written out: the table of _ocsf_classes.
NEWER_CLASSES = {
    "mcp_server.capability.discover": (6003, 2, None),
    "virtual_mcp_server.capability.add": (6003, 1, None),
    "virtual_mcp_server.capability.remove": (6003, 4, None),
    "virtual_mcp_server.capability.update": (6003, 3, None),
    "virtual_mcp_server.auth_server.add": (6003, 1, None),
    "virtual_mcp_server.auth_server.remove": (6003, 4, None),
    "virtual_mcp_server.create": (3004, 1, "VirtualMcpServer"),
    "virtual_mcp_server.update": (3004, 3, "VirtualMcpServer"),
    "virtual_mcp_server.activate": (3004, 8, "VirtualMcpServer"),
    "virtual_mcp_server.deactivate": (3004, 9, "VirtualMcpServer"),
    "virtual_mcp_server.delete": (3004, 4, "VirtualMcpServer"),
    "a2a_server.register": (3004, 1, "A2aServer"),
    "a2a_server.update": (3004, 3, "A2aServer"),
    "a2a_server.activate": (3004, 8, "A2aServer"),
    "a2a_server.deactivate": (3004, 9, "A2aServer"),
    "a2a_server.delete": (3004, 4, "A2aServer"),
    "a2a_server.auth_server.add": (6003, 1, None),
    "a2a_server.auth_server.remove": (6003, 4, None),
}


def test_every_audited_type_is_classified() -> None:
    assert set(CLASSIFICATIONS) == set(CATALOG) | set(EXTENSION_EVENT_TYPES)
    assert {f"resource_servers.{name}" for name in NEWER_CLASSES} == NEWER_TYPES


def test_the_newer_kinds_events_are_valid_ocsf_in_their_documented_class() -> None:
    events = every_newer_type().events
    assert {e["eventType"] for e in events} == NEWER_TYPES
    for event in events:
        record = to_ocsf(canonical_bytes(event))
        code = event["eventType"]
        assert ocsf_problems(record) == [], code
        class_uid, activity_id, entity_type = NEWER_CLASSES[code.removeprefix("resource_servers.")]
        assert (record["class_uid"], record["activity_id"]) == (class_uid, activity_id), code
        assert record["type_uid"] == class_uid * 100 + activity_id
        targets = [(t["id"], t["type"]) for t in event["target"]]
        if entity_type is None:  # API Activity: every target is a resource, in order
            assert [(r["uid"], r["type"]) for r in record["resources"]] == targets, code
        else:  # Entity Management: the kind's object is the entity
            assert (record["entity"]["uid"], record["entity"]["type"]) == targets[0], code


def test_a_tool_discovery_keeps_the_tool_s_old_and_new_definition() -> None:
    discovery, unchanged, failed = every_newer_type().events[:3]
    record = to_ocsf(canonical_bytes(discovery))
    assert record["activity_name"] == "Read" and record["api"]["operation"] == discovery["eventType"]
    server, tool, settings = record["resources"]
    assert (server["type"], tool["type"], settings["type"]) == (
        "McpServer",
        "McpServerTool",
        "ClientAuthSettings",
    )
    assert server["data"]["detailEntry"]["mcpServerStatus"] == "ACTIVE"
    changes = tool["data"]["changeDetails"]
    assert (changes["from"]["description"], changes["to"]["description"]) == (
        "Reads a file.",
        "Reads any file.",
    )
    assert record["unmapped"]["debugContext"]["debugData"]["capabilityCount"] == 3
    assert [r["type"] for r in to_ocsf(canonical_bytes(unchanged))["resources"]] == [
        "McpServer",
        "ClientAuthSettings",
    ]
    refused = to_ocsf(canonical_bytes(failed))
    assert (refused["status_id"], refused["class_uid"], refused["activity_id"]) == (2, 6003, 2)
