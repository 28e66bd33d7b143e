"""Every field the seed catalog lists, on every event type, for every way a request can reach us.

The seed gives all its event types (and Okta's newer ones, and Registrar's extensions) the same
fields: ``actor.{id,type,alternateId,displayName}``,
``target[].{id,type,alternateId}``, ``outcome.{result,reason}``, ``client.ipAddress``,
``client.userAgent.rawUserAgent``, ``client.geographicalContext.country``, ``securityContext.isProxy``,
``authenticationContext.externalSessionId`` and ``transaction.id``. ``STEPS`` drives the HTTP API one
operation at a time (each row: the request, the events it must write and the types of their targets);
``ARRIVALS`` are the network paths; ``FIELDS`` says what each field must hold. The scheduler's job shape
is checked for all 19 types through ``job_context``.

MCP servers are registered against a loopback metadata site (the discovery tests' ``MetadataSite``),
which the settings let discovery reach, as an operator's allow-list would.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx2 as httpx
import pytest
from fastapi import FastAPI
from okta.models.log_event import LogEvent
from sqlalchemy import Engine
from starlette.testclient import TestClient

from registrar.api import create_app
from registrar.config import Settings
from registrar.context import SYSTEM_ACTOR, job_context
from registrar.domain.entities import ApiToken
from registrar.events.catalog import AUDITED, CATALOG, target
from registrar.store.tokens import find_token
from registrar.store.uow import unit_of_work

from ..capabilities.servers import SCOPE, OAuthClient, TokenIssuer, ToolServer, tool
from ..conftest import MakeToken, stored_events
from ..discovery.a2a_agent import a2a_agent, openid
from ..discovery.servers import OPENID, MetadataSite

API = "/resource-servers/api/v1/api-servers"
SETTINGS = "/resource-servers/api/v1/client-auth-settings"
MCP = "/resource-servers/api/v1/mcp-servers"
A2A = "/resource-servers/api/v1/a2a-servers"
VMCP = "/resource-servers/api/v1/virtual-mcp-servers"
A2A_ISSUER_PATH = "/a2a-as"
TOOL_CLIENT = ("fields-client", "fields-secret")
PREFIX = "resource_servers."
USER_AGENT = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/127.0.0.0 Safari/537.36"
)


# -- how the request reaches us ---------------------------------------------------------------------


@dataclass(frozen=True)
class Arrival:
    """A network path, and what the events must say about it."""

    peer: str
    headers: dict[str, str]
    client_ip: str
    country: str | None
    is_proxy: bool
    ip_chain: tuple[str, ...]
    zone: str = "null"


TRUSTED_PROXIES = ("10.0.0.0/8",)
ZONES = (("office", ("192.168.0.0/16",)),)

ARRIVALS = {
    "direct": Arrival("8.8.8.8", {}, "8.8.8.8", "United States", False, ("8.8.8.8",)),
    "direct, private network": Arrival(
        "192.168.1.20", {}, "192.168.1.20", None, False, ("192.168.1.20",), zone="office"
    ),
    "trusted proxy (X-Forwarded-For)": Arrival(
        "10.0.0.2", {"X-Forwarded-For": "8.8.8.8"}, "8.8.8.8", "United States", False, ("8.8.8.8", "10.0.0.2")
    ),
    "trusted proxies (Forwarded)": Arrival(
        "10.0.0.2",
        {"Forwarded": 'for=81.2.69.160;proto=https, for="10.0.0.3:443"'},
        "81.2.69.160",
        "United Kingdom",
        False,
        ("81.2.69.160", "10.0.0.3", "10.0.0.2"),
    ),
    "untrusted proxy, spoofed header ignored": Arrival(
        "81.2.69.160", {"X-Forwarded-For": "8.8.8.8"}, "81.2.69.160", "United Kingdom", True, ("81.2.69.160",)
    ),
    "trusted proxy behind an untrusted one": Arrival(
        "10.0.0.2",
        {"X-Forwarded-For": "8.8.8.8, 81.2.69.160"},
        "81.2.69.160",
        "United Kingdom",
        True,
        ("81.2.69.160", "10.0.0.2"),
    ),
}


# -- what happens: one row per operation --------------------------------------------------------------


@dataclass
class Upstreams:
    """The loopback servers the newer kinds reach: an A2A agent, a token issuer and an MCP tool server."""

    agent_url: str
    issuer: TokenIssuer
    tools: ToolServer


@dataclass
class World:
    """What the steps created (target type → (id, alternateId)), and the servers they reach."""

    site: MetadataSite
    upstreams: Upstreams
    objects: dict[str, tuple[str, str]] = field(default_factory=dict)

    def id(self, kind: str) -> str:
        return self.objects[kind][0]


Act = Callable[["Caller", World], httpx.Response]


@dataclass(frozen=True)
class Write:
    """One event a step must write: its type (without ``resource_servers.``) and its targets' types."""

    event_type: str
    targets: tuple[str, ...]


@dataclass(frozen=True)
class Step:
    writes: tuple[Write, ...]  # in the order they are written, all in the step's transaction
    act: Act
    outcome: str = "SUCCESS"
    caller: str = "admin"


def step(event_type: str, targets: tuple[str, ...], act: Act, **options: Any) -> Step:
    """A step that writes exactly one event."""
    return Step((Write(event_type, targets),), act, **options)


def _register(api: Caller, world: World) -> httpx.Response:
    url = "https://api.example.com/v1/"
    response = api.post(API, json={"resourceUrl": url, "metadata": {"displayName": "Payments"}})
    world.objects["ApiServer"] = (response.json()["id"], url)
    return response


def _add_auth_server(base: str, owner: str, issuer: str, grant: str) -> Act:
    """An admin entering an authorization server (issuer, endpoints, a grant) on the ``owner`` made last."""

    def act(api: Caller, world: World) -> httpx.Response:
        body = {
            "issuer": issuer,
            "authorizationEndpoint": f"{issuer}authorize",
            "tokenEndpoint": f"{issuer}token",
            "grantTypesSupported": [grant],
        }
        response = api.post(f"{base}/{world.id(owner)}/authorization-servers", json=body)
        world.objects["ApiAuthServer"] = (response.json()["id"], issuer)
        return response

    return act


def _create_settings(api: Caller, world: World) -> httpx.Response:
    server = api.get(f"{API}/{world.id('ApiServer')}").json()
    body = {
        "name": "Payments client",
        "resourceOrn": server["orn"],
        "purpose": ["STS"],
        "configuration": {
            "clientId": "client-1",
            "clientSecret": "s3cret-value",
            "scopes": ["payments"],
            "tokenEndpointAuthMethod": "client_secret_post",
        },
    }
    response = api.post(SETTINGS, json=body)
    world.objects["ClientAuthSettings"] = (response.json()["id"], response.json()["orn"])
    return response


def _register_mcp(api: Caller, world: World) -> httpx.Response:
    issuer = world.site.issuer("/as")
    url = world.site.resource([issuer])
    response = api.post(MCP, json={"resourceUrl": url, "metadata": {"displayName": "Tools"}})
    server_id = response.json()["id"]
    world.objects["McpServer"] = (server_id, url)
    listed = api.get(f"{MCP}/{server_id}/authorization-servers").json()["data"]
    world.objects["ExternalAuthServer"] = (listed[0]["id"], issuer)
    return response


def _refresh_mcp(api: Caller, world: World) -> httpx.Response:
    issuer = world.objects["ExternalAuthServer"][1]
    world.site.issuer("/as", token_endpoint=f"{issuer}/oauth/token")  # the server's metadata changed
    return api.post(f"{MCP}/{world.id('McpServer')}/discovery")


def _register_a2a(api: Caller, world: World) -> httpx.Response:
    issuer = world.site.issuer(A2A_ISSUER_PATH, location=2)  # where the card's OpenID Connect URL points
    url = world.upstreams.agent_url
    response = api.post(A2A, json={"resourceUrl": url})
    server_id = response.json()["id"]
    world.objects["A2aServer"] = (server_id, url)
    (linked,) = api.get(f"{A2A}/{server_id}/authorization-servers").json()["data"]
    world.objects["ExternalAuthServer"] = (linked["id"], issuer)
    return response


def _link_a2a_issuer(api: Caller, world: World) -> httpx.Response:
    issuer = world.objects["ExternalAuthServer"][1]
    response = api.post(f"{A2A}/{world.id('A2aServer')}/authorization-servers", json={"issuer": issuer})
    world.objects["ExternalAuthServer"] = (response.json()["id"], issuer)
    return response


def _register_tools(api: Caller, world: World) -> httpx.Response:
    tools = world.upstreams.tools
    tools.tools = [tool("echo", "Echo text back.")]
    response = api.post(MCP, json={"resourceUrl": tools.resource_url})
    server_id = response.json()["id"]
    world.objects["McpServer"] = (server_id, tools.resource_url)
    (linked,) = api.get(f"{MCP}/{server_id}/authorization-servers").json()["data"]
    world.objects["ExternalAuthServer"] = (linked["id"], world.upstreams.issuer.issuer)
    return response


def _create_tool_settings(api: Caller, world: World) -> httpx.Response:
    server = api.get(f"{MCP}/{world.id('McpServer')}").json()
    client_id, secret = TOOL_CLIENT
    configuration = {"clientId": client_id, "clientSecret": secret, "scopes": [SCOPE]}
    body = {"name": "Tools client", "resourceOrn": server["orn"], "configuration": configuration}
    response = api.post(SETTINGS, json=body)
    world.objects["ClientAuthSettings"] = (response.json()["id"], response.json()["orn"])
    return response


def _discover(api: Caller, world: World) -> httpx.Response:
    credential = {"authType": "CLIENT_AUTH_SETTINGS", "clientAuthSettingsId": world.id("ClientAuthSettings")}
    response = api.post(f"{MCP}/{world.id('McpServer')}/discoveries", json={"credential": credential})
    (found,) = api.get(f"{MCP}/{world.id('McpServer')}/capabilities").json()["data"]
    world.objects["McpServerTool"] = (found["id"], found["orn"])
    return response


def _create_virtual(api: Caller, world: World) -> httpx.Response:
    capability = {"mcpServerId": world.id("McpServer"), "name": "echo"}
    body = {"metadata": {"displayName": "Gateway"}, "capabilities": [capability]}
    response = api.post(VMCP, json=body)
    world.objects["VirtualMcpServer"] = (response.json()["id"], response.json()["orn"])
    return response


def _change_tool(api: Caller, world: World) -> httpx.Response:
    world.upstreams.tools.tools = [tool("echo", "Echo text back, and send it elsewhere.")]
    return _discover(api, world)


@dataclass(frozen=True)
class _Under:
    """URLs below the ``owner`` the steps made last, e.g. ``_api("/lifecycle/activate")``."""

    base: str
    owner: str

    def __call__(self, path: str = "") -> Callable[[World], str]:
        return lambda w: f"{self.base}/{w.id(self.owner)}{path}"


_api = _Under(API, "ApiServer")
_a2a = _Under(A2A, "A2aServer")
_vmcp = _Under(VMCP, "VirtualMcpServer")


API_AS = ("ApiServer", "ApiAuthServer")
API_CAS = ("ApiServer", "ClientAuthSettings")
MCP_AS = ("ExternalAuthServer", "McpServer")
A2A_AS = ("A2aServer", "ExternalAuthServer")
TOOL_TARGETS = ("McpServer", "McpServerTool", "ClientAuthSettings")
CAPABILITY = ("VirtualMcpServer", "McpServerTool", "McpServer")
VMCP_AS = ("VirtualMcpServer", "ApiAuthServer")

STEPS = (
    step("api_server.register", ("ApiServer",), _register),
    step(
        "api_server.update",
        ("ApiServer",),
        lambda api, w: api.patch(_api()(w), json={"metadata": {"displayName": "Pay"}}),
    ),
    step(
        "api_server.auth_server.add",
        API_AS,
        _add_auth_server(API, "ApiServer", "https://login.example.com/", "authorization_code"),
    ),
    step(
        "api_server.auth_server.update",
        API_AS,
        lambda api, w: api.patch(
            _api(f"/authorization-servers/{w.id('ApiAuthServer')}")(w),
            json={"tokenEndpoint": "https://login.example.com/oauth/token"},
        ),
    ),
    step("client_authentication_settings.create", API_CAS, _create_settings),
    step(
        "client_authentication_settings.update",
        API_CAS,
        lambda api, w: api.patch(f"{SETTINGS}/{w.id('ClientAuthSettings')}", json={"name": "Renamed"}),
    ),
    step("api_server.activate", ("ApiServer",), lambda api, w: api.post(_api("/lifecycle/activate")(w))),
    # An active server cannot be deleted: a FAILURE event, with the server as target.
    step("api_server.delete", ("ApiServer",), lambda api, w: api.delete(_api()(w)), outcome="FAILURE"),
    step("api_server.deactivate", ("ApiServer",), lambda api, w: api.post(_api("/lifecycle/deactivate")(w))),
    # A token without the scope: DENY, the reader is the actor, nothing is targeted yet.
    step(
        "api_server.register",
        (),
        lambda api, w: api.post(API, json={"resourceUrl": "https://x.example/"}),
        outcome="DENY",
        caller="reader",
    ),
    step(
        "client_authentication_settings.delete",
        API_CAS,
        lambda api, w: api.delete(f"{SETTINGS}/{w.id('ClientAuthSettings')}"),
    ),
    step(
        "api_server.auth_server.remove",
        API_AS,
        lambda api, w: api.delete(_api(f"/authorization-servers/{w.id('ApiAuthServer')}")(w)),
    ),
    step("api_server.delete", ("ApiServer",), lambda api, w: api.delete(_api()(w))),
    # MCP servers: registration discovers the authorization server on the loopback metadata site.
    Step(
        (Write("mcp_server.auth_server.create", MCP_AS), Write("mcp_server.register", ("McpServer",))),
        _register_mcp,
    ),
    step(
        "mcp_server.update",
        ("McpServer",),
        lambda api, w: api.patch(f"{MCP}/{w.id('McpServer')}", json={"metadata": {"displayName": "T2"}}),
    ),
    step("mcp_server.auth_server.update", MCP_AS, _refresh_mcp),
    step(
        "mcp_server.activate",
        ("McpServer",),
        lambda api, w: api.post(f"{MCP}/{w.id('McpServer')}/lifecycle/activate"),
    ),
    step(
        "mcp_server.deactivate",
        ("McpServer",),
        lambda api, w: api.post(f"{MCP}/{w.id('McpServer')}/lifecycle/deactivate"),
    ),
    Step(
        (Write("mcp_server.auth_server.delete", MCP_AS), Write("mcp_server.delete", ("McpServer",))),
        lambda api, w: api.delete(f"{MCP}/{w.id('McpServer')}"),
    ),
    # Tool discovery: an MCP server behind a real token check, a credential for it, one tool found.
    Step(
        (Write("mcp_server.auth_server.create", MCP_AS), Write("mcp_server.register", ("McpServer",))),
        _register_tools,
    ),
    step("client_authentication_settings.create", ("McpServer", "ClientAuthSettings"), _create_tool_settings),
    step("mcp_server.capability.discover", TOOL_TARGETS, _discover),
    # Virtual MCP servers compose discovered tools.
    Step(
        (
            Write("virtual_mcp_server.create", ("VirtualMcpServer",)),
            Write("virtual_mcp_server.capability.add", CAPABILITY),
        ),
        _create_virtual,
    ),
    step(
        "virtual_mcp_server.update",
        ("VirtualMcpServer",),
        lambda api, w: api.patch(_vmcp()(w), json={"metadata": {"displayName": "Gateway 2"}}),
    ),
    step(
        "virtual_mcp_server.auth_server.add",
        VMCP_AS,
        _add_auth_server(
            VMCP, "VirtualMcpServer", "https://gateway-login.example.com/", "client_credentials"
        ),
    ),
    step(
        "virtual_mcp_server.activate",
        ("VirtualMcpServer",),
        lambda api, w: api.post(_vmcp("/lifecycle/activate")(w)),
    ),
    # The tool changes under it: the rediscovery records the drift and flags the capability.
    Step(
        (
            Write("mcp_server.capability.discover", TOOL_TARGETS),
            Write("virtual_mcp_server.capability.update", CAPABILITY),
        ),
        _change_tool,
    ),
    step(
        "virtual_mcp_server.delete",
        ("VirtualMcpServer",),
        lambda api, w: api.delete(_vmcp()(w)),
        outcome="FAILURE",
    ),
    step(
        "virtual_mcp_server.deactivate",
        ("VirtualMcpServer",),
        lambda api, w: api.post(_vmcp("/lifecycle/deactivate")(w)),
    ),
    step(
        "virtual_mcp_server.capability.remove",
        CAPABILITY,
        lambda api, w: api.patch(_vmcp()(w), json={"capabilities": []}),
    ),
    step(
        "virtual_mcp_server.auth_server.remove",
        VMCP_AS,
        lambda api, w: api.delete(_vmcp(f"/authorization-servers/{w.id('ApiAuthServer')}")(w)),
    ),
    step("virtual_mcp_server.delete", ("VirtualMcpServer",), lambda api, w: api.delete(_vmcp()(w))),
    # A2A servers: the agent card's OpenID Connect scheme names the authorization server.
    Step(
        (Write("a2a_server.register", ("A2aServer",)), Write("a2a_server.auth_server.add", A2A_AS)),
        _register_a2a,
    ),
    step(
        "a2a_server.update",
        ("A2aServer",),
        lambda api, w: api.patch(_a2a()(w), json={"metadata": {"displayName": "Echo 2"}}),
    ),
    step("a2a_server.activate", ("A2aServer",), lambda api, w: api.post(_a2a("/lifecycle/activate")(w))),
    step("a2a_server.delete", ("A2aServer",), lambda api, w: api.delete(_a2a()(w)), outcome="FAILURE"),
    step("a2a_server.deactivate", ("A2aServer",), lambda api, w: api.post(_a2a("/lifecycle/deactivate")(w))),
    step(
        "a2a_server.auth_server.remove",
        A2A_AS,
        lambda api, w: api.delete(_a2a(f"/authorization-servers/{w.id('ExternalAuthServer')}")(w)),
    ),
    step("a2a_server.auth_server.add", A2A_AS, _link_a2a_issuer),
    Step(
        (Write("a2a_server.auth_server.remove", A2A_AS), Write("a2a_server.delete", ("A2aServer",))),
        lambda api, w: api.delete(_a2a()(w)),
    ),
)


# -- what each field must hold -------------------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    """Everything one event should say, gathered from the step, the arrival and the token."""

    write: Write
    outcome: str
    arrival: Arrival
    token: ApiToken
    request_id: str
    world: World


def _targets(x: Expected, key: int) -> list[str]:
    return [x.world.objects[kind][key] for kind in x.write.targets]


FIELDS: dict[str, Callable[[Expected], Any]] = {
    "eventType": lambda x: PREFIX + x.write.event_type,
    "actor.id": lambda x: x.token.user.id,
    "actor.type": lambda x: "User",
    "actor.alternateId": lambda x: x.token.user.email,
    "actor.displayName": lambda x: x.token.user.display_name,
    "target[].id": lambda x: _targets(x, 0),
    "target[].type": lambda x: list(x.write.targets),
    "target[].alternateId": lambda x: _targets(x, 1),
    "outcome.result": lambda x: x.outcome,
    "client.ipAddress": lambda x: x.arrival.client_ip,
    "client.userAgent.rawUserAgent": lambda x: USER_AGENT,
    "client.geographicalContext.country": lambda x: x.arrival.country,
    "securityContext.isProxy": lambda x: x.arrival.is_proxy,
    "authenticationContext.externalSessionId": lambda x: x.token.session_id,
    "transaction.id": lambda x: x.request_id,
    # Beyond the seed's list, but part of the same promise.
    "transaction.type": lambda x: "WEB",
    "transaction.detail.requestApiTokenId": lambda x: x.token.id,
    "debugContext.debugData.requestId": lambda x: x.request_id,
    "client.id": lambda x: x.token.id,
    "client.zone": lambda x: x.arrival.zone,
    "client.device": lambda x: "Computer",
    "client.userAgent.browser": lambda x: "CHROME",
    "client.userAgent.os": lambda x: "Mac OS X",
    "request.ipChain[].ip": lambda x: list(x.arrival.ip_chain),
    "authenticationContext.credentialType": lambda x: None,
}


def dig(event: dict[str, Any], path: str) -> Any:
    """The value at a dotted ``path``; ``a[].b`` maps over the list ``a``; ``None`` past a null."""
    head, _, rest = path.partition(".")
    if head.endswith("[]"):
        items = event.get(head[:-2]) or []
        return [dig(item, rest) for item in items]
    value = event.get(head)
    if not rest:
        return value
    return None if value is None else dig(value, rest)


# -- running it ----------------------------------------------------------------------------------------


class Log:
    """The event log as the steps go: which events the latest request added."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.seen = len(stored_events(engine))
        self.last: list[dict[str, Any]] = []

    def catch_up(self) -> None:
        events = stored_events(self.engine)
        # The app's scheduler runs meanwhile; what its jobs write (transaction JOB) is not the request's.
        self.last = [e for e in events[self.seen :] if e["transaction"]["type"] == "WEB"]
        self.seen = len(events)


class Caller:
    """One caller (token) on one network path."""

    def __init__(self, client: TestClient, log: Log, headers: dict[str, str]):
        self.client = client
        self.log = log
        self.headers = headers

    def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        response = self.client.request(method, url, headers=self.headers, **kwargs)
        self.log.catch_up()
        return response

    def get(self, url: str) -> httpx.Response:
        # Reads write no events (a read that did would show up in the next step's list).
        return self.client.get(url, headers=self.headers)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self._send("POST", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> httpx.Response:
        return self._send("PATCH", url, **kwargs)

    def delete(self, url: str) -> httpx.Response:
        return self._send("DELETE", url)


@pytest.fixture
def context_app(settings: Settings, engine: Engine) -> FastAPI:
    context_settings = dataclasses.replace(
        settings,
        trusted_proxies=TRUSTED_PROXIES,
        network_zones=ZONES,
        discovery_allow_http=True,
        discovery_allowed_networks=("127.0.0.0/8",),  # the metadata site
    )
    return create_app(context_settings, engine=engine)


@pytest.fixture
def tokens(engine: Engine, make_token: MakeToken) -> dict[str, tuple[str, ApiToken]]:
    secrets = {"admin": make_token(), "reader": make_token("okta.logs.read", email="reader@example.com")}
    found: dict[str, tuple[str, ApiToken]] = {}
    with engine.connect() as conn:
        for name, secret in secrets.items():
            token = find_token(conn, secret)
            assert token is not None
            found[name] = (secret, token)
    return found


def test_the_table_covers_the_catalog() -> None:
    # Okta's 29 types and Registrar's extension types for the operations Okta's catalog has none for.
    assert {PREFIX + write.event_type for step in STEPS for write in step.writes} == set(AUDITED)


@pytest.fixture(scope="module")
def site() -> Iterator[MetadataSite]:
    """A loopback site serving MCP and authorization server metadata for discovery."""
    with MetadataSite().serve() as served:
        yield served


@pytest.fixture(scope="module")
def upstreams(site: MetadataSite) -> Iterator[Upstreams]:
    """A real a2a-sdk agent naming the site's issuer; a token issuer and the MCP server it guards."""
    schemes = {"sso": openid(site.url(A2A_ISSUER_PATH) + OPENID)}
    with (
        a2a_agent(schemes) as agent_url,
        TokenIssuer().serve() as issuer,
        ToolServer(issuer).serve() as tools,
    ):
        issuer.clients[TOOL_CLIENT[0]] = OAuthClient(TOOL_CLIENT[1])
        yield Upstreams(agent_url, issuer, tools)


@pytest.mark.parametrize("arrival_name", ARRIVALS)
def test_every_seed_field_of_every_event(
    arrival_name: str,
    context_app: FastAPI,
    engine: Engine,
    tokens: dict[str, tuple[str, ApiToken]],
    site: MetadataSite,
    upstreams: Upstreams,
) -> None:
    arrival = ARRIVALS[arrival_name]
    site.reset()
    world = World(site, upstreams)
    with TestClient(context_app, client=(arrival.peer, 40123), raise_server_exceptions=False) as client:
        log = Log(engine)
        callers = {
            name: Caller(
                client, log, {"Authorization": f"SSWS {secret}", "User-Agent": USER_AGENT, **arrival.headers}
            )
            for name, (secret, _) in tokens.items()
        }
        for step in STEPS:
            response = step.act(callers[step.caller], world)
            label = f"{'+'.join(w.event_type for w in step.writes)} {step.outcome} ({arrival_name})"
            written = [event["eventType"] for event in log.last]
            assert written == [PREFIX + w.event_type for w in step.writes], f"{label}: {response.text}"
            request_id = response.headers["x-okta-request-id"]
            token = tokens[step.caller][1]
            for write, event in zip(step.writes, log.last, strict=True):
                expected = Expected(write, step.outcome, arrival, token, request_id, world)
                for path, value in FIELDS.items():
                    assert dig(event, path) == value(expected), f"{label}: {path}"
                reason = event["outcome"]["reason"]
                assert reason is None if step.outcome == "SUCCESS" else isinstance(reason, str) and reason
                assert LogEvent.from_dict(event) is not None


@pytest.mark.parametrize("event_type", sorted(CATALOG))
def test_job_events_have_okta_s_job_shape(event_type: str, engine: Engine) -> None:
    ctx = job_context("job-refresh-0001")
    subject = target("mcpJob0000000000000", "McpServer", "https://mcp.example/", "MCP")
    with unit_of_work(engine, ctx) as uow:
        uow.record(CATALOG[event_type], [subject])
    (event,) = stored_events(engine)
    expected = {
        "actor.id": SYSTEM_ACTOR.id,
        "actor.type": SYSTEM_ACTOR.type,
        "actor.alternateId": SYSTEM_ACTOR.alternate_id,
        "actor.displayName": SYSTEM_ACTOR.display_name,
        "target[].id": ["mcpJob0000000000000"],
        "target[].type": ["McpServer"],
        "target[].alternateId": ["https://mcp.example/"],
        "outcome.result": "SUCCESS",
        "outcome.reason": None,
        "client.ipAddress": None,
        "client.userAgent.rawUserAgent": None,
        "client.geographicalContext.country": None,
        "securityContext.isProxy": None,
        "authenticationContext.externalSessionId": None,
        "transaction.id": "job-refresh-0001",
        "transaction.type": "JOB",
        "debugContext.debugData.requestId": "job-refresh-0001",
    }
    assert {path: dig(event, path) for path in expected} == expected
    # "Blank client": every member present and null; JOB events have no geographical context.
    assert event["client"] == dict.fromkeys(
        ("userAgent", "zone", "device", "id", "ipAddress", "geographicalContext")
    )
    assert event["request"] == {"ipChain": []}
    assert LogEvent.from_dict(event) is not None
