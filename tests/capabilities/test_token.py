"""The client-credentials token request, against the real loopback authorization server."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from registrar.capabilities import ClientCredentials, ToolTarget, discover_tools
from registrar.discovery import FetchPolicy
from registrar.errors import DiscoveryFailed, UnsafeDestination

from ..discovery.servers import MetadataSite
from .conftest import CLIENTS, LOOPBACK_POLICY, target_for
from .servers import SCOPE, TokenIssuer, ToolServer


@pytest.fixture(scope="module")
def site() -> Iterator[MetadataSite]:
    """A loopback site standing in for a misbehaving token endpoint."""
    with MetadataSite().serve() as served:
        yield served


def _failure(target: ToolTarget, policy: FetchPolicy = LOOPBACK_POLICY) -> str:
    with pytest.raises(DiscoveryFailed) as failed:
        discover_tools(policy, target)
    return failed.value.cause


@pytest.mark.parametrize("client_id", sorted(CLIENTS))
def test_each_authentication_method_gets_a_token_for_the_mcp_server(
    tool_server: ToolServer, issuer: TokenIssuer, client_id: str
) -> None:
    tools = discover_tools(LOOPBACK_POLICY, target_for(tool_server, client_id))
    assert [t.name for t in tools] == ["echo", "add"]
    [sent] = issuer.token_requests
    assert sent["grant_type"] == "client_credentials"
    assert sent["resource"] == tool_server.resource_url  # RFC 8707: the token is for this server only
    assert sent["scope"] == SCOPE
    method = CLIENTS[client_id].method
    assert sent["authorization"].startswith("Basic ") == (method == "client_secret_basic")
    assert ("client_secret" in sent) == (method == "client_secret_post")
    assert ("client_assertion" in sent) == (method == "client_secret_jwt")


def test_basic_credentials_are_form_encoded_before_base64(
    tool_server: ToolServer, issuer: TokenIssuer
) -> None:
    issuer.clients["basic-client"].secret = "s p:a+c/e"
    discover_tools(LOOPBACK_POLICY, target_for(tool_server, secret="s p:a+c/e"))
    header = issuer.token_requests[0]["authorization"]
    assert base64.b64decode(header.removeprefix("Basic ")) == b"basic-client:s+p%3Aa%2Bc%2Fe"


@pytest.mark.parametrize("client_id", sorted(CLIENTS))
def test_a_wrong_secret_is_refused_and_never_quoted(
    tool_server: ToolServer, issuer: TokenIssuer, client_id: str
) -> None:
    cause = _failure(target_for(tool_server, client_id, secret="wrong-secret-value-0123456789abcdef"))
    assert cause == (
        f"the token endpoint {issuer.token_endpoint} refused the client credentials: HTTP 401 invalid_client"
    )
    assert tool_server.list_calls == 0


def test_a_client_must_use_its_registered_method(tool_server: ToolServer, issuer: TokenIssuer) -> None:
    target = target_for(tool_server, "post-client")
    wrong = replace(target, credentials=replace(target.credentials, auth_method="client_secret_basic"))
    assert "HTTP 401 invalid_client" in _failure(wrong)


def test_a_scope_the_client_may_not_have_is_refused(tool_server: ToolServer) -> None:
    target = target_for(tool_server)
    greedy = replace(target, credentials=replace(target.credentials, scopes=(SCOPE, "admin")))
    assert _failure(greedy).endswith("refused the client credentials: HTTP 400 invalid_scope")


def test_an_unknown_auth_method_is_not_a_credential() -> None:
    with pytest.raises(ValueError, match="private_key_jwt"):
        ClientCredentials("c", "s", "private_key_jwt")


def test_the_secret_is_not_in_the_repr() -> None:
    assert "hunter2" not in repr(ClientCredentials("c", "hunter2"))


def test_the_token_endpoint_passes_the_ssrf_guard(tool_server: ToolServer, issuer: TokenIssuer) -> None:
    no_allow_list = replace(LOOPBACK_POLICY, allowed_networks=())
    with pytest.raises(UnsafeDestination) as refused:
        discover_tools(no_allow_list, target_for(tool_server))
    assert "is not a public address" in refused.value.cause
    assert issuer.token_requests == []


def test_an_unreachable_token_endpoint(tool_server: ToolServer) -> None:
    target = replace(target_for(tool_server), token_endpoint="http://127.0.0.1:9/token")
    assert _failure(target) == "could not connect to the token endpoint http://127.0.0.1:9/token"


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ({"access_token": "t", "token_type": "DPoP"}, "issued no Bearer token"),
        ({"access_token": "t"}, "issued no Bearer token"),
        (
            {"access_token": "a\r\nX-Injected: 1", "token_type": "Bearer"},
            "issued an access token that cannot",
        ),
        ({"access_token": "x" * 20000, "token_type": "bearer"}, "issued an access token that cannot"),
        ({"access_token": 7, "token_type": "bearer"}, "issued an access token that cannot"),
        (["not", "an", "object"], "answered something other than a JSON object"),
    ],
)
def test_unusable_token_answers(
    site: MetadataSite, tool_server: ToolServer, answer: Any, expected: str
) -> None:
    site.reset()
    site.json("/token", answer)
    target = replace(target_for(tool_server), token_endpoint=site.url("/token"))
    assert expected in _failure(target)
    assert tool_server.list_calls == 0


def test_a_hostile_error_code_is_not_quoted(site: MetadataSite, tool_server: ToolServer) -> None:
    site.reset()
    site.json("/token", {"error": "invalid_client\x1b[2J"}, status=400)
    target = replace(target_for(tool_server), token_endpoint=site.url("/token"))
    assert _failure(target).endswith("refused the client credentials: HTTP 400")


def test_a_token_endpoint_that_redirects_is_not_followed(site: MetadataSite, tool_server: ToolServer) -> None:
    site.reset()
    site.json("/token", {}, status=307, headers={"location": tool_server.issuer.token_endpoint})
    target = replace(target_for(tool_server), token_endpoint=site.url("/token"))
    assert _failure(target).endswith("refused the client credentials: HTTP 307")
    assert tool_server.issuer.token_requests == []
