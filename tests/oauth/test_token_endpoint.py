"""``POST /oauth2/v1/token``: the client credentials grant with ``private_key_jwt``, in Okta's shapes.

A good assertion gets an RFC 9068 access token with the scopes asked for, usable as ``Bearer`` on the
API; every refusal is an RFC 6749 error with its status, and is audited as Okta's
``app.oauth2.token.grant`` FAILURE with the app as actor, unless the request names no client at all.
Every event is read back through the okta SDK's strict ``LogEvent`` model.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet
from okta.models.log_event import LogEvent
from starlette.testclient import TestClient

from registrar.scopes import API_MANAGE, API_READ, LOGS_READ

from .conftest import (
    API_SERVERS,
    LOGS,
    ORG,
    TOKEN_URL,
    MakeApp,
    access_token,
    bearer,
    ec_key,
    rsa_key,
    token_request,
)

Events = Callable[[], list[dict[str, Any]]]


def _checked(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for event in events:
        assert LogEvent.from_dict(event) is not None
    return events


def _grant_events(events: Events) -> list[dict[str, Any]]:
    return _checked([e for e in events() if e["eventType"].startswith("app.oauth2.")])


def _app_actor(client_id: str, name: str = "SIEM collector") -> dict[str, Any]:
    return {
        "id": client_id,
        "type": "PublicClientApp",
        "alternateId": client_id,
        "displayName": name,
        "detailEntry": None,
    }


def test_a_good_assertion_gets_an_access_token_and_the_grant_is_audited(
    client: TestClient, make_app: MakeApp, events: Events
) -> None:
    client_id, key = make_app(LOGS_READ, API_READ)
    response = token_request(client, key.assertion(client_id), f"{API_READ} {LOGS_READ}")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert list(body) == ["token_type", "expires_in", "access_token", "scope"]
    assert (body["token_type"], body["expires_in"], body["scope"]) == (
        "Bearer",
        3600,
        f"{API_READ} {LOGS_READ}",
    )

    # RFC 9068, checked with the published key set.
    keys = KeySet.import_key_set(client.get("/oauth2/v1/keys").json())
    decoded = jwt.decode(body["access_token"], keys, algorithms=["ES256"])
    assert decoded.header["typ"] == "at+jwt"
    claims = decoded.claims
    assert (claims["iss"], claims["aud"], claims["sub"], claims["client_id"]) == (
        ORG,
        ORG,
        client_id,
        client_id,
    )
    assert claims["scope"] == f"{API_READ} {LOGS_READ}" and claims["scp"] == [API_READ, LOGS_READ]
    assert claims["exp"] - claims["iat"] == 3600 and abs(claims["iat"] - time.time()) < 60
    assert claims["jti"].startswith("AT.")

    [grant] = _grant_events(events)
    assert grant["eventType"] == "app.oauth2.token.grant.access_token"
    assert grant["displayMessage"] == "OIDC access token is granted"
    assert grant["outcome"] == {"result": "SUCCESS", "reason": None}
    assert grant["actor"] == _app_actor(client_id)
    assert grant["authenticationContext"]["credentialType"] == "JWT"
    assert grant["authenticationContext"]["externalSessionId"] == claims["jti"]
    [target] = grant["target"]
    assert (target["id"], target["type"], target["displayName"]) == (
        claims["jti"],
        "access_token",
        "Access Token",
    )
    assert target["detailEntry"]["subject"] == client_id
    assert body["access_token"] not in orjson.dumps(grant).decode()
    debug = grant["debugContext"]["debugData"]
    assert debug["grantType"] == "client_credentials" and debug["clientAuthType"] == "private_key_jwt"
    assert debug["grantedScopes"] == f"{API_READ} {LOGS_READ}"
    assert debug["requestUri"] == "/oauth2/v1/token"


def test_the_access_token_is_a_bearer_token_whose_events_name_the_app(
    client: TestClient, make_app: MakeApp, events: Events
) -> None:
    client_id, key = make_app(LOGS_READ, API_MANAGE, name="Agent gateway")
    token = access_token(client, client_id, key, f"{LOGS_READ} {API_MANAGE}")
    session = jwt.decode(token, KeySet.import_key_set(client.get("/oauth2/v1/keys").json())).claims["jti"]
    created = client.post(
        API_SERVERS,
        headers=bearer(token),
        json={"resourceUrl": "https://api.example.com/", "metadata": {"displayName": "Example"}},
    )
    assert created.status_code == 201, created.text
    assert (
        client.get(LOGS, headers={"Authorization": f"Bearer{token}"}).status_code == 200
    )  # the SDK's spelling
    [register] = _checked([e for e in events() if e["eventType"] == "resource_servers.api_server.register"])
    assert register["actor"] == _app_actor(client_id, "Agent gateway")
    assert register["authenticationContext"]["externalSessionId"] == session
    assert register["transaction"]["detail"] == {}  # no API token was used


def test_a_log_read_only_token_cannot_write_and_the_denial_names_the_app(
    client: TestClient, make_app: MakeApp, events: Events
) -> None:
    client_id, key = make_app(LOGS_READ)
    token = access_token(client, client_id, key)
    assert client.get(LOGS, headers=bearer(token)).status_code == 200
    denied = client.post(
        API_SERVERS,
        headers=bearer(token),
        json={"resourceUrl": "https://api.example.com/", "metadata": {"displayName": "Example"}},
    )
    assert denied.status_code == 403 and denied.json()["errorCode"] == "E0000006"
    [deny] = _checked([e for e in events() if e["eventType"] == "resource_servers.api_server.register"])
    assert deny["outcome"]["result"] == "DENY"
    assert deny["outcome"]["reason"] == f"The access token lacks the scope {API_MANAGE}."
    assert deny["actor"] == _app_actor(client_id)
    assert client.get(API_SERVERS, headers=bearer(token)).status_code == 403  # reads need their own scope


def test_a_replayed_assertion_is_refused_and_audited(
    client: TestClient, make_app: MakeApp, events: Events
) -> None:
    client_id, key = make_app()
    assertion = key.assertion(client_id)
    first = token_request(client, assertion)
    assert first.status_code == 200, first.text
    replay = token_request(client, assertion)
    assert replay.status_code == 401
    assert replay.json() == {
        "error": "invalid_client",
        "error_description": "Client authentication failed: the client_assertion has already been used.",
    }
    success, failure = _grant_events(events)
    assert success["eventType"] == "app.oauth2.token.grant.access_token"
    assert failure["eventType"] == "app.oauth2.token.grant"
    assert failure["outcome"]["result"] == "FAILURE"
    assert "already been used" in failure["outcome"]["reason"]
    assert failure["actor"] == _app_actor(client_id)
    assert [(t["id"], t["type"], t["alternateId"]) for t in failure["target"]] == [
        (client_id, "AppInstance", "oidc_client")
    ]


Claims = Callable[[int], dict[str, Any]]


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        (lambda now: {"exp": now - 600}, "has expired"),
        (lambda now: {"exp": None}, "has no exp"),
        (lambda now: {"exp": now + 2 * 3600}, "more than 3600 s ahead"),
        (lambda now: {"jti": None}, "has no jti"),
        (lambda now: {"aud": "https://other.example/oauth2/v1/token"}, "aud must be the token endpoint URL"),
        (lambda now: {"sub": "0oaSomebodyElse00000"}, "iss and sub must both be the client id"),
        (lambda now: {"nbf": now + 600}, "nbf is in the future"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_assertions_that_do_not_hold_are_refused_and_audited(
    client: TestClient, make_app: MakeApp, events: Events, claims: Claims, reason: str
) -> None:
    """The times are taken when the test runs, not when it is collected (a long run outlives them)."""
    client_id, key = make_app()
    refused = token_request(client, key.assertion(client_id, **claims(int(time.time()))))
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
    assert reason in refused.json()["error_description"]
    [failure] = _grant_events(events)
    assert failure["eventType"] == "app.oauth2.token.grant" and reason in failure["outcome"]["reason"]


def test_the_audience_may_be_the_issuer_or_a_list_naming_the_endpoint(
    client: TestClient, make_app: MakeApp
) -> None:
    client_id, key = make_app()
    assert token_request(client, key.assertion(client_id, aud=ORG)).status_code == 200
    assert (
        token_request(client, key.assertion(client_id, aud=["https://x.example", TOKEN_URL])).status_code
        == 200
    )


def test_an_assertion_signed_by_a_key_the_app_did_not_register_is_refused(
    client: TestClient, make_app: MakeApp, events: Events
) -> None:
    client_id, _ = make_app()
    stranger = rsa_key()
    refused = token_request(client, stranger.assertion(client_id))
    assert refused.status_code == 401
    assert "signature does not verify" in refused.json()["error_description"]
    named = rsa_key(kid="not-registered")
    refused = token_request(client, named.assertion(client_id))
    assert "did not register" in refused.json()["error_description"]
    assert [e["outcome"]["result"] for e in _grant_events(events)] == ["FAILURE", "FAILURE"]


def test_a_tampered_assertion_is_refused(client: TestClient, make_app: MakeApp) -> None:
    client_id, key = make_app()
    header, payload, signature = key.assertion(client_id).split(".")
    claims = orjson.loads(base64.urlsafe_b64decode(payload + "=="))
    forged = base64.urlsafe_b64encode(orjson.dumps(claims | {"exp": claims["exp"] + 1})).rstrip(b"=").decode()
    assert token_request(client, f"{header}.{forged}.{signature}").status_code == 401
    assert token_request(client, f"{header}.{payload}.{signature}").status_code == 200


def test_ec_keys_sign_assertions_too_and_kids_pick_the_key(client: TestClient, make_app: MakeApp) -> None:
    client_id, key = make_app(key=ec_key(kid="ec-1"))
    assert token_request(client, key.assertion(client_id)).status_code == 200


def test_a_tampered_or_foreign_access_token_is_refused(
    client: TestClient, make_app: MakeApp, events: Events
) -> None:
    client_id, key = make_app(LOGS_READ, API_MANAGE)
    token = access_token(client, client_id, key)  # okta.logs.read only
    header, payload, signature = token.split(".")
    claims = orjson.loads(base64.urlsafe_b64decode(payload + "=="))
    wider = claims | {"scope": f"{LOGS_READ} {API_MANAGE}", "scp": [LOGS_READ, API_MANAGE]}
    forged = base64.urlsafe_b64encode(orjson.dumps(wider)).rstrip(b"=").decode()
    flipped = signature[:10] + ("B" if signature[10] == "A" else "A") + signature[11:]
    before = len(events())
    for bad in (f"{header}.{forged}.{signature}", f"{header}.{payload}.{flipped}"):
        refused = client.get(LOGS, headers=bearer(bad))
        assert refused.status_code == 401 and refused.json()["errorCode"] == "E0000011"
    assert len(events()) == before  # a refused token writes no event
    # Signed by someone else's key, with every claim right.
    other = ec_key()
    foreign = jwt.encode({"alg": "ES256", "typ": "at+jwt"}, claims, other.key, algorithms=["ES256"])
    assert client.get(LOGS, headers=bearer(foreign)).status_code == 401
    # Issued for another origin (the Host the client reached decides).
    assert client.get(LOGS, headers=bearer(token) | {"Host": "elsewhere.example"}).status_code == 401
    assert client.get(LOGS, headers=bearer(token)).status_code == 200


@pytest.mark.parametrize(
    ("scope", "error", "description"),
    [
        (API_MANAGE, "invalid_scope", f"may not be granted these scopes: {API_MANAGE}"),
        ("", "invalid_scope", "The 'scope' parameter is required"),
        (None, "invalid_scope", "The 'scope' parameter is required"),
    ],
)
def test_scopes_must_be_asked_for_and_granted(
    client: TestClient, make_app: MakeApp, events: Events, scope: str | None, error: str, description: str
) -> None:
    client_id, key = make_app(LOGS_READ)
    refused = token_request(client, key.assertion(client_id), scope)
    assert refused.status_code == 400
    assert refused.json()["error"] == error and description in refused.json()["error_description"]
    [failure] = _grant_events(events)
    assert failure["outcome"]["result"] == "FAILURE" and description in failure["outcome"]["reason"]


def test_other_grant_types_are_unsupported_and_audited(
    client: TestClient, make_app: MakeApp, events: Events
) -> None:
    client_id, key = make_app()
    refused = token_request(client, key.assertion(client_id), grant_type="password")
    assert refused.status_code == 400 and refused.json()["error"] == "unsupported_grant_type"
    missing = client.post("/oauth2/v1/token", data={"client_id": client_id})
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"
    assert [e["actor"]["id"] for e in _grant_events(events)] == [client_id, client_id]


def test_client_secrets_and_missing_assertions_are_invalid_client(
    client: TestClient, make_app: MakeApp, events: Events
) -> None:
    client_id, _ = make_app()
    secret = client.post(
        "/oauth2/v1/token",
        data={"grant_type": "client_credentials", "scope": LOGS_READ},
        auth=(client_id, "a-secret"),
    )
    assert secret.status_code == 401 and secret.json()["error"] == "invalid_client"
    assert "client secrets are not accepted" in secret.json()["error_description"]
    # Named by the client_id field: audited; named by nothing: not.
    assert token_request(client, None, client_id=client_id).status_code == 401
    assert len(_grant_events(events)) == 1  # Basic credentials name no client we believe


def test_unknown_and_revoked_clients_are_refused_and_audited(
    client: TestClient, make_app: MakeApp, events: Events, engine: Any
) -> None:
    from registrar.store.service_apps import revoke_service_app

    unknown = rsa_key().assertion("0oaNoSuchClient000000")
    refused = token_request(client, unknown)
    assert (
        refused.status_code == 401
        and "no client 0oaNoSuchClient000000" in refused.json()["error_description"]
    )
    client_id, key = make_app()
    with engine.begin() as conn:
        assert revoke_service_app(conn, client_id)
    refused = token_request(client, key.assertion(client_id))
    assert refused.status_code == 401 and "is revoked" in refused.json()["error_description"]
    first, second = _grant_events(events)
    assert first["actor"]["id"] == "0oaNoSuchClient000000" and first["actor"]["displayName"] == "unknown"
    assert first["target"][0]["type"] == "AppInstance"
    assert second["actor"] == _app_actor(client_id)


@pytest.mark.parametrize(
    "request_kwargs",
    [
        {"content": b"grant_type=client_credentials", "headers": {"Content-Type": "text/plain"}},
        {"json": {"grant_type": "client_credentials"}},
        {
            "data": {
                "grant_type": "client_credentials",
                "client_assertion_type": "x",
                "client_assertion": "garbage",
            }
        },
        {"data": {"grant_type": "client_credentials", "client_id": "not an id!"}},
    ],
)
def test_requests_naming_no_client_are_refused_without_an_event(
    client: TestClient, events: Events, request_kwargs: dict[str, Any]
) -> None:
    response = client.post("/oauth2/v1/token", **request_kwargs)
    assert response.status_code in (400, 401)
    assert set(response.json()) == {"error", "error_description"}
    assert response.headers["cache-control"] == "no-store"
    assert _grant_events(events) == []


def test_the_authorization_server_metadata(client: TestClient) -> None:
    metadata = client.get("/.well-known/oauth-authorization-server").json()
    assert metadata["issuer"] == ORG
    assert metadata["token_endpoint"] == TOKEN_URL
    assert metadata["jwks_uri"] == f"{ORG}/oauth2/v1/keys"
    assert metadata["grant_types_supported"] == ["client_credentials"]
    assert metadata["token_endpoint_auth_methods_supported"] == ["private_key_jwt"]
    assert "RS256" in metadata["token_endpoint_auth_signing_alg_values_supported"]
    assert LOGS_READ in metadata["scopes_supported"]
    [key] = client.get("/oauth2/v1/keys").json()["keys"]
    assert (key["kty"], key["crv"], key["alg"], key["use"]) == ("EC", "P-256", "ES256", "sig")
    assert "d" not in key


def test_an_untrusted_forwarded_host_chooses_neither_the_issuer_nor_the_audience(
    client: TestClient, make_app: MakeApp
) -> None:
    spoofed = {"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"}
    assert client.get("/.well-known/oauth-authorization-server", headers=spoofed).json()["issuer"] == ORG
    client_id, key = make_app()
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": key.assertion(client_id, aud="https://evil.example/oauth2/v1/token"),
        "scope": LOGS_READ,
    }
    assert client.post("/oauth2/v1/token", data=form, headers=spoofed).status_code == 401
