"""A real A2A agent on 127.0.0.1: the a2a-sdk's agent-card and JSON-RPC routes over an executor that echoes.

Its card declares the security schemes a test gives (``oauth2`` and ``openid`` build the SDK's own
``SecurityScheme`` messages), and is served the way the SDK serves it: the 1.x shape, with the 0.3 shape
merged in when the agent speaks protocol 0.3.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from a2a.helpers.proto_helpers import new_text_message
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.events import EventQueue
from a2a.server.request_handlers import DefaultRequestHandler
from a2a.server.routes import create_agent_card_routes, create_jsonrpc_routes
from a2a.server.tasks import InMemoryTaskStore
from a2a.types.a2a_pb2 import (
    AgentCapabilities,
    AgentCard,
    AgentInterface,
    AgentSkill,
    APIKeySecurityScheme,
    AuthorizationCodeOAuthFlow,
    ClientCredentialsOAuthFlow,
    OAuth2SecurityScheme,
    OAuthFlows,
    OpenIdConnectSecurityScheme,
    SecurityScheme,
)
from a2a.utils.constants import AGENT_CARD_WELL_KNOWN_PATH
from starlette.applications import Starlette

from .servers import bound_socket, port_of, running

__all__ = ["AGENT_JSON", "EchoExecutor", "a2a_agent", "api_key", "oauth2", "openid"]

AGENT_JSON = "/.well-known/agent.json"  # where agents before A2A 0.3 served their card
SCOPES = {"agent:invoke": "Send the agent messages"}


class EchoExecutor(AgentExecutor):
    """Answers every message with its own text."""

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        await event_queue.enqueue_event(new_text_message(context.get_user_input()))

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        raise NotImplementedError("an echo has nothing to cancel")


def oauth2(
    *,
    metadata_url: str = "",
    token_url: str = "",
    authorization_url: str = "",
    scopes: Mapping[str, str] = SCOPES,
) -> SecurityScheme:
    """An OAuth 2 scheme: an RFC 8414 metadata URL and/or client-credentials / authorization-code flows."""
    flows = OAuthFlows()
    if token_url:
        flows.client_credentials.CopyFrom(ClientCredentialsOAuthFlow(token_url=token_url, scopes=scopes))
    if authorization_url:
        flows.authorization_code.CopyFrom(
            AuthorizationCodeOAuthFlow(
                authorization_url=authorization_url, token_url=token_url or authorization_url, scopes=scopes
            )
        )
    scheme = OAuth2SecurityScheme(oauth2_metadata_url=metadata_url, flows=flows)
    return SecurityScheme(oauth2_security_scheme=scheme)


def api_key(header: str = "X-Api-Key") -> SecurityScheme:
    """An API key scheme (names no authorization server)."""
    return SecurityScheme(api_key_security_scheme=APIKeySecurityScheme(location="header", name=header))


def openid(discovery_url: str) -> SecurityScheme:
    """An OpenID Connect scheme naming a discovery document."""
    return SecurityScheme(
        open_id_connect_security_scheme=OpenIdConnectSecurityScheme(open_id_connect_url=discovery_url)
    )


@contextmanager
def a2a_agent(
    schemes: Mapping[str, SecurityScheme],
    *,
    name: str = "Echo agent",
    protocol_version: str = "1.0",
    card_path: str = AGENT_CARD_WELL_KNOWN_PATH,
    path: str = "",
) -> Iterator[str]:
    """Serve an echo agent whose card declares ``schemes``; yields its resource URL (``base + path``)."""
    sock = bound_socket()
    resource_url = f"http://127.0.0.1:{port_of(sock)}{path}"
    card = AgentCard(
        name=name,
        description="Echoes what it is sent.",
        version="1.2.3",
        supported_interfaces=[
            AgentInterface(
                url=f"{resource_url}/", protocol_binding="JSONRPC", protocol_version=protocol_version
            )
        ],
        capabilities=AgentCapabilities(streaming=False),
        default_input_modes=["text/plain"],
        default_output_modes=["text/plain"],
        skills=[
            AgentSkill(id="echo", name="Echo", description="Repeats the message.", tags=["echo"]),
            AgentSkill(id="shout", name="Shout", description="Repeats it louder.", tags=["echo"]),
        ],
        security_schemes=dict(schemes),
    )
    handler = DefaultRequestHandler(
        agent_executor=EchoExecutor(), task_store=InMemoryTaskStore(), agent_card=card
    )
    routes = [
        *create_agent_card_routes(card, card_url=path + card_path),
        *create_jsonrpc_routes(handler, rpc_url=f"{path}/", enable_v0_3_compat=protocol_version == "0.3"),
    ]
    with running(Starlette(routes=routes), sock):
        yield resource_url
