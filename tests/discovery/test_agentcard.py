"""A2A agent-card discovery against a real a2a-sdk agent and real loopback authorization servers.

The agent (``a2a_agent``) is the SDK's own card and JSON-RPC routes; the authorization servers are the
``mcp`` SDK's (issuer ``http://127.0.0.1:PORT/``, with its terminating slash) and the hand-written metadata
site, which also serves the hand-written cards: the pure A2A 0.3 shape and hostile ones.
"""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from registrar.discovery import (
    MAX_AUTHORIZATION_SERVERS,
    MAX_BODY_BYTES,
    MAX_SECURITY_SCHEMES,
    AgentCardDiscovery,
    FetchPolicy,
    fetch_agent_card,
)

from .a2a_agent import AGENT_JSON, a2a_agent, api_key, oauth2, openid
from .servers import OAUTH_SERVER, OPENID, MetadataSite, Reply

CARD = "/.well-known/agent-card.json"
TOKEN = "http://127.0.0.1:1/token"  # a flow's endpoint: unused when the scheme names its metadata URL


def linked(found: AgentCardDiscovery) -> dict[str, str | None]:
    """Each authorization server the card led to: its issuer and its error (None: established)."""
    return {server.issuer: server.error for server in found.authorization_servers}


def card_03(site: MetadataSite, **fields: Any) -> dict[str, Any]:
    """A hand-written A2A 0.3 agent card for the site, with ``fields`` over the defaults."""
    return {
        "name": "Legacy agent",
        "description": "Speaks A2A 0.3.",
        "url": site.url("/rpc"),
        "protocolVersion": "0.3.0",
        "version": "0.9",
        "capabilities": {},
        "defaultInputModes": ["text/plain"],
        "defaultOutputModes": ["text/plain"],
        "skills": [{"id": "a", "name": "A", "description": "a", "tags": []}],
        **fields,
    }


# --- the SDK's agent --------------------------------------------------------------------------------


@pytest.mark.parametrize("protocol_version", ["1.0", "0.3"])
def test_the_card_links_its_oauth2_and_openid_connect_issuers(
    site: MetadataSite, sdk_issuer: str, policy: FetchPolicy, protocol_version: str
) -> None:
    oidc = site.issuer("/oidc", location=2)
    schemes = {
        "oauth": oauth2(metadata_url=f"{sdk_issuer}.well-known/oauth-authorization-server", token_url=TOKEN),
        "sso": openid(oidc + OPENID),
        "key": api_key(),  # names no authorization server
    }
    with a2a_agent(schemes, protocol_version=protocol_version) as resource_url:
        found = fetch_agent_card(resource_url, policy)
        # The fixture is a real agent: it answers a JSON-RPC message.
        message = {"messageId": "m1", "role": "ROLE_USER", "parts": [{"text": "hello"}]}
        rpc = {"jsonrpc": "2.0", "id": 1, "method": "SendMessage", "params": {"message": message}}
        echoed = httpx2.post(f"{resource_url}/", json=rpc, headers={"A2A-Version": "1.0"}).json()
    assert echoed["result"]["message"]["parts"] == [{"text": "hello"}]
    assert found.error is None and found.first_error is None
    assert found.card_url == resource_url + CARD
    assert (found.name, found.description, found.version) == (
        "Echo agent",
        "Echoes what it is sent.",
        "1.2.3",
    )
    assert (found.url, found.protocol_version, found.skills_count) == (
        f"{resource_url}/",
        protocol_version,
        2,
    )
    assert sorted(found.security_schemes) == ["key", "oauth", "sso"]
    assert linked(found) == {sdk_issuer: None, oidc: None}
    sdk, site_server = sorted(found.authorization_servers, key=lambda s: s.issuer != sdk_issuer)
    assert sdk.metadata is not None and sdk.metadata.token_endpoint == f"{sdk_issuer}token"
    assert site_server.metadata is not None and site_server.metadata.token_endpoint == f"{oidc}/token"
    assert found.detected_metadata["securitySchemes"] == list(found.security_schemes)
    assert found.detected_metadata["skillsCount"] == 2


def test_without_agent_card_json_the_older_agent_json_is_read(sdk_issuer: str, policy: FetchPolicy) -> None:
    with a2a_agent({"oauth": oauth2(token_url=f"{sdk_issuer}token")}, card_path=AGENT_JSON) as resource_url:
        found = fetch_agent_card(resource_url, policy)
    assert found.error is None and found.card_url == resource_url + AGENT_JSON
    assert linked(found) == {sdk_issuer: None}  # the flow's origin, whose metadata names it as issuer


def test_an_agent_under_a_path_serves_its_card_under_that_path(policy: FetchPolicy) -> None:
    with a2a_agent({}, path="/agents/echo") as resource_url:
        found = fetch_agent_card(resource_url + "/", policy)
    assert found.card_url == resource_url + CARD
    assert found.authorization_servers == [] and found.security_schemes == ()


def test_no_card_at_either_location(site: MetadataSite, policy: FetchPolicy) -> None:
    found = fetch_agent_card(site.url("/agent"), policy)
    assert found.error == (
        f"No agent card found: {site.url('/agent' + CARD)} answered HTTP 404; "
        f"{site.url('/agent' + AGENT_JSON)} answered HTTP 404"
    )
    assert found.name is None and found.authorization_servers == []


def test_a_redirect_to_the_card_is_not_followed(site: MetadataSite, policy: FetchPolicy) -> None:
    site.reply(CARD, Reply(302, headers={"location": site.url("/elsewhere")}))
    site.json("/elsewhere", card_03(site))
    found = fetch_agent_card(site.base, policy)
    assert found.error is not None and "redirects are not followed" in found.error
    assert "/elsewhere" not in site.paths_requested()


# --- the 0.3 shape, by hand -------------------------------------------------------------------------


def test_a_pure_a2a_0_3_card(site: MetadataSite, sdk_issuer: str, policy: FetchPolicy) -> None:
    oidc = site.issuer("/oidc", location=1)
    schemes = {
        "oauth": {"type": "oauth2", "oauth2MetadataUrl": sdk_issuer + OAUTH_SERVER[1:], "flows": {}},
        "sso": {"type": "openIdConnect", "openIdConnectUrl": f"{site.base}{OPENID}/oidc"},
        "key": {"type": "apiKey", "in": "header", "name": "X-Key"},
        "odd": "not a scheme",
    }
    site.json(AGENT_JSON, card_03(site, securitySchemes=schemes))
    found = fetch_agent_card(site.base, policy)
    assert found.error is None and found.card_url == site.url(AGENT_JSON)
    assert (found.url, found.protocol_version, found.version) == (site.url("/rpc"), "0.3.0", "0.9")
    assert found.security_schemes == ("oauth", "sso", "key", "odd")
    assert linked(found) == {sdk_issuer: None, oidc: None}


# --- issuers: matched exactly ---------------------------------------------------------------------


def test_a_metadata_document_naming_another_issuer_is_refused(
    site: MetadataSite, policy: FetchPolicy
) -> None:
    site.json(f"{OAUTH_SERVER}/t1", {"issuer": site.url("/t2"), "token_endpoint": site.url("/t")})
    site.json(f"/t3{OPENID}", {"issuer": "http://127.0.0.1:1/t3", "token_endpoint": site.url("/t")})
    schemes = {
        "oauth": {"type": "oauth2", "oauth2MetadataUrl": f"{site.base}{OAUTH_SERVER}/t1"},
        "sso": {"type": "openIdConnect", "openIdConnectUrl": site.url(f"/t3{OPENID}")},
    }
    site.json(CARD, card_03(site, securitySchemes=schemes))
    found = fetch_agent_card(site.base, policy)
    assert found.error is None
    assert linked(found) == {
        site.url("/t1"): (
            f"Authorization server {site.url('/t1')}: security scheme oauth: the metadata at "
            f"{site.base}{OAUTH_SERVER}/t1 names issuer '{site.url('/t2')}', whose metadata would not be "
            "published there (the two must match)"
        ),
        site.url("/t3"): (
            f"Authorization server {site.url('/t3')}: security scheme sso: the metadata at "
            f"{site.url('/t3' + OPENID)} names issuer 'http://127.0.0.1:1/t3', whose metadata would not be "
            "published there (the two must match)"
        ),
    }
    assert all(server.metadata is None for server in found.authorization_servers)
    assert found.first_error is not None and found.first_error.startswith("Authorization server")


def test_the_mcp_ordered_probes_decide_the_issuers_metadata(site: MetadataSite, policy: FetchPolicy) -> None:
    # The card names the appended OpenID form, whose document is right; the path-inserted RFC 8414
    # location, probed first for that issuer, names another issuer: the metadata is refused.
    site.json(f"/x{OPENID}", {"issuer": site.url("/x"), "token_endpoint": site.url("/t")})
    site.json(f"{OAUTH_SERVER}/x", {"issuer": site.url("/y"), "token_endpoint": site.url("/t")})
    site.json(
        CARD,
        card_03(
            site,
            securitySchemes={"sso": {"type": "openIdConnect", "openIdConnectUrl": site.url(f"/x{OPENID}")}},
        ),
    )
    found = fetch_agent_card(site.base, policy)
    (server,) = found.authorization_servers
    assert server.issuer == site.url("/x") and server.metadata is None
    assert server.error is not None and "(the two must be identical)" in server.error


def test_a_metadata_url_that_is_not_a_well_known_one_is_refused_unfetched(
    site: MetadataSite, policy: FetchPolicy
) -> None:
    site.json("/meta", {"issuer": site.base, "token_endpoint": site.url("/t")})
    site.json(
        CARD, card_03(site, securitySchemes={"o": {"type": "oauth2", "oauth2MetadataUrl": site.url("/meta")}})
    )
    found = fetch_agent_card(site.base, policy)
    assert linked(found) == {
        site.url("/meta"): (
            f"Authorization server {site.url('/meta')}: security scheme o: '{site.url('/meta')}' is not a "
            "well-known metadata URL (RFC 8414, OpenID Connect Discovery)"
        )
    }
    assert "/meta" not in site.paths_requested()


def test_a_flow_origin_is_linked_only_when_its_metadata_names_that_origin(
    site: MetadataSite, sdk_issuer: str, policy: FetchPolicy
) -> None:
    # The site's root metadata names a path issuer: the site's origin is not an issuer, so it stays
    # unlinked (a note, not a failure); the SDK server's root metadata names its own origin.
    site.json(OAUTH_SERVER, {"issuer": site.url("/tenant"), "token_endpoint": site.url("/t")})
    flows = {
        "clientCredentials": {"tokenUrl": site.url("/oauth/token"), "scopes": {}},
        "authorizationCode": {"authorizationUrl": f"{sdk_issuer}authorize", "tokenUrl": f"{sdk_issuer}token"},
    }
    site.json(CARD, card_03(site, securitySchemes={"o": {"type": "oauth2", "flows": flows}}))
    found = fetch_agent_card(site.base, policy)
    assert linked(found) == {sdk_issuer: None}
    assert found.first_error is None
    (note,) = found.unlinked
    assert note.startswith(f"security scheme o: the metadata at {site.url(OAUTH_SERVER)} names issuer ")


def test_a_flow_origin_without_metadata_is_left_unlinked(site: MetadataSite, policy: FetchPolicy) -> None:
    flows = {"clientCredentials": {"tokenUrl": site.url("/token"), "scopes": {}}}
    site.json(CARD, card_03(site, securitySchemes={"o": {"type": "oauth2", "flows": flows}}))
    found = fetch_agent_card(site.base, policy)
    assert found.authorization_servers == [] and found.first_error is None
    assert found.unlinked == (
        f"security scheme o: no metadata found: {site.url(OAUTH_SERVER)} answered HTTP 404; "
        f"{site.url(OPENID)} answered HTTP 404",
    )


# --- the SSRF guard -------------------------------------------------------------------------------


def test_the_guard_refuses_an_agent_on_a_non_allowed_address(site: MetadataSite) -> None:
    site.json(CARD, card_03(site))
    found = fetch_agent_card(site.base, FetchPolicy(allow_http=True, request_timeout=1.0))
    assert found.error == "127.0.0.1 is not a public address (loopback); nothing was fetched"
    assert site.requests == []


def test_the_guard_refuses_plain_http_unless_allowed(site: MetadataSite, policy: FetchPolicy) -> None:
    found = fetch_agent_card(site.base, FetchPolicy(allowed_networks=policy.allowed_networks))
    assert found.error == f"{site.url(CARD)}: must be an https URL"
    assert site.requests == []


@pytest.mark.parametrize(
    "metadata_url",
    [
        "http://169.254.169.254/.well-known/oauth-authorization-server",
        "http://10.0.0.1/.well-known/openid-configuration",
    ],
)
def test_the_guard_refuses_an_authorization_server_on_a_non_allowed_address(
    site: MetadataSite, policy: FetchPolicy, metadata_url: str
) -> None:
    site.json(
        CARD, card_03(site, securitySchemes={"o": {"type": "oauth2", "oauth2MetadataUrl": metadata_url}})
    )
    found = fetch_agent_card(site.base, policy)
    (server,) = found.authorization_servers
    assert server.metadata is None and server.error is not None
    assert "is not a public address" in server.error and "nothing was fetched" in server.error


# --- hostile cards --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "why"),
    [
        (Reply(body=b"<html>", headers={"content-type": "text/html"}), "answered text/html, not JSON"),
        (Reply(body=b"{", headers={"content-type": "application/json"}), "answered malformed JSON"),
        (
            Reply(body=b"[1]", headers={"content-type": "application/json"}),
            "answered JSON that is not an object",
        ),
        (
            Reply(body=b" " * (MAX_BODY_BYTES + 1), headers={"content-type": "application/json"}, chunks=4),
            f"the response is larger than {MAX_BODY_BYTES // 1024} KiB",
        ),
    ],
)
def test_a_body_that_is_not_a_json_object_is_refused(
    site: MetadataSite, policy: FetchPolicy, reply: Reply, why: str
) -> None:
    site.reply(CARD, reply)
    found = fetch_agent_card(site.base, policy)
    assert found.error is not None and found.error.endswith(why), found.error
    assert found.name is None


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        ({"name": None}, "has no name"),
        ({"name": "\x1b\x00 "}, "has no name"),
        ({"url": None}, "is not an agent card: it names no endpoint"),
        ({"supportedInterfaces": "x"}, "is not an agent card: supportedInterfaces"),
        ({"skills": {}}, "is not an agent card: skills"),
        ({"securitySchemes": []}, "is not an agent card: securitySchemes"),
    ],
)
def test_a_json_object_that_is_not_an_agent_card_is_refused(
    site: MetadataSite, policy: FetchPolicy, fields: dict[str, Any], why: str
) -> None:
    site.json(CARD, card_03(site, **fields))
    found = fetch_agent_card(site.base, policy)
    assert found.error == f"the agent card at {site.url(CARD)} {why}"


def test_control_characters_are_stripped_and_strings_bounded(site: MetadataSite, policy: FetchPolicy) -> None:
    schemes = {"o\x1b[2J": {"type": "apiKey"}, "\x9b": {"type": "apiKey"}}
    site.json(
        CARD,
        card_03(
            site,
            name="Evil\x1b]0;pwned\x07 agent\x00",
            description="line one\nline two\u009b" + "x" * 5000,
            version="1\r\n2",
            securitySchemes=schemes,
        ),
    )
    found = fetch_agent_card(site.base, policy)
    assert found.error is None
    assert found.name == "Evil]0;pwned agent"
    assert found.description is not None and len(found.description) == 1024
    assert found.description.startswith("line one line two") and found.description.endswith("…")
    assert found.version == "1  2"
    assert found.security_schemes == ("o[2J",)
    assert len(fetch_and_name(site, policy, "n" * 300)) == 255


def fetch_and_name(site: MetadataSite, policy: FetchPolicy, name: str) -> str:
    site.json(CARD, card_03(site, name=name))
    found = fetch_agent_card(site.base, policy)
    assert found.name is not None
    return found.name


def test_a_fetched_url_with_a_control_character_refuses_the_card(
    site: MetadataSite, policy: FetchPolicy
) -> None:
    schemes = {"sso": {"type": "openIdConnect", "openIdConnectUrl": site.url("/a\x1b" + OPENID)}}
    site.json(CARD, card_03(site, securitySchemes=schemes))
    found = fetch_agent_card(site.base, policy)
    assert found.error == "securitySchemes.sso.openIdConnectUrl must not contain control characters"
    assert site.paths_requested() == [CARD]


def test_too_many_security_schemes_refuse_the_card(site: MetadataSite, policy: FetchPolicy) -> None:
    schemes = {f"s{i}": {"type": "apiKey"} for i in range(MAX_SECURITY_SCHEMES + 1)}
    site.json(CARD, card_03(site, securitySchemes=schemes))
    found = fetch_agent_card(site.base, policy)
    assert found.error == (
        f"the agent card declares {MAX_SECURITY_SCHEMES + 1} security schemes; "
        f"at most {MAX_SECURITY_SCHEMES} are supported"
    )


def test_too_many_authorization_servers_refuse_the_card(site: MetadataSite, policy: FetchPolicy) -> None:
    count = MAX_AUTHORIZATION_SERVERS + 1
    schemes = {
        f"s{i}": {"type": "openIdConnect", "openIdConnectUrl": site.url(f"/as{i}{OPENID}")}
        for i in range(count)
    }
    site.json(CARD, card_03(site, securitySchemes=schemes))
    found = fetch_agent_card(site.base, policy)
    assert found.error == (
        f"the agent card's security schemes name {count} authorization servers; "
        f"at most {MAX_AUTHORIZATION_SERVERS} are supported"
    )
    assert site.paths_requested() == [CARD]


def test_a_resource_url_with_a_query_is_refused(site: MetadataSite, policy: FetchPolicy) -> None:
    found = fetch_agent_card(site.url("/agent?x=1"), policy)
    assert found.error == "an A2A server's resourceUrl must not have a query or a fragment"
    assert site.requests == []
