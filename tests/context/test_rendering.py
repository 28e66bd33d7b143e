"""What the event builder makes of a fully enriched context: Okta's shapes, keys and order."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from okta.models.log_event import LogEvent

from registrar.config import Settings
from registrar.context import SYSTEM_ACTOR, Enricher, RequestContext
from registrar.events.builder import build_event
from registrar.events.catalog import API_SERVER_UPDATE, target

from .mmdb import city, write_mmdb

SAFARI_IPAD = (
    "Mozilla/5.0 (iPad; CPU OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.2 Mobile/15E148 Safari/604.1"
)


def _event(tmp_path: Path) -> dict[str, Any]:
    enricher = Enricher.from_settings(
        Settings(
            trusted_proxies=("10.0.0.0/8",),
            geoip_db=write_mmdb(
                tmp_path / "city.mmdb",
                "GeoIP2-City",
                {
                    "81.2.69.0/24": city(
                        "GB",
                        "United Kingdom",
                        state="England",
                        city="London",
                        postal="EC2V",
                        lat=51.5,
                        lon=-0.1,
                    )
                },
            ),
            asn_db=write_mmdb(
                tmp_path / "asn.mmdb",
                "GeoLite2-ASN",
                {
                    "81.2.69.0/24": {
                        "autonomous_system_number": 20712,
                        "autonomous_system_organization": "A&A",
                    }
                },
            ),
        )
    )
    headers = [(b"user-agent", SAFARI_IPAD.encode()), (b"x-forwarded-for", b"81.2.69.160")]
    client, security = enricher.describe(headers, "10.0.0.2")
    ctx = RequestContext(
        request_id="req-1",
        actor=SYSTEM_ACTOR,
        client=client,
        request_uri="/x",
        url="/x?y=1",
        token_id="00T0000000000000000t",
        session_id="trs-session",
        security=security,
    )
    subject = target("aps00000000000000001", "ApiServer", "https://a.example/", "A")
    return build_event(API_SERVER_UPDATE, ctx, [subject], datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC))


def test_enriched_event_in_okta_s_shape_and_key_order(tmp_path: Path) -> None:
    event = _event(tmp_path)
    london = {
        "city": "London",
        "state": "England",
        "country": "United Kingdom",
        "postalCode": "EC2V",
        "geolocation": {"lat": 51.5, "lon": -0.1},
    }
    assert list(event) == [
        "actor",
        "client",
        "device",
        "authenticationContext",
        "displayMessage",
        "eventType",
        "outcome",
        "published",
        "securityContext",
        "severity",
        "debugContext",
        "legacyEventType",
        "transaction",
        "uuid",
        "version",
        "request",
        "target",
    ]
    assert event["client"] == {
        "userAgent": {"rawUserAgent": SAFARI_IPAD, "os": "iOS", "browser": "SAFARI"},
        "zone": "null",
        "device": "Tablet",
        "id": "00T0000000000000000t",
        "ipAddress": "81.2.69.160",
        "geographicalContext": london,
    }
    assert list(event["client"]["geographicalContext"]) == list(london)
    assert event["securityContext"] == {
        "asNumber": 20712,
        "asOrg": "A&A",
        "isp": None,
        "domain": None,
        "isProxy": False,
    }
    assert event["request"]["ipChain"] == [
        {"ip": "81.2.69.160", "geographicalContext": london, "version": "V4", "source": None},
        {"ip": "10.0.0.2", "geographicalContext": None, "version": "V4", "source": None},
    ]
    assert event["authenticationContext"]["externalSessionId"] == "trs-session"
    assert event["debugContext"]["debugData"] == {"requestId": "req-1", "requestUri": "/x", "url": "/x?y=1"}
    parsed = LogEvent.from_dict(event)
    assert parsed is not None and parsed.client is not None
    assert parsed.client.geographical_context is not None
    assert parsed.client.geographical_context.geolocation is not None
    assert parsed.security_context is not None and parsed.security_context.as_number == 20712
