"""``registrar a2a-servers``: a real ``a2a-sdk`` agent registered from its URL, its card read by the server.
What every kind does alike is in ``test_kinds``.
"""

from __future__ import annotations

from ..discovery.a2a_agent import a2a_agent, oauth2
from .conftest import Cli, fails


def test_what_the_agent_card_says_is_shown(cli: Cli, sdk_issuer: str) -> None:
    metadata = f"{sdk_issuer}.well-known/oauth-authorization-server"
    with a2a_agent({"oauth": oauth2(metadata_url=metadata)}) as resource_url:
        registered = cli.json("a2a-servers", "register", "--resource-url", resource_url, "--name", "Echo")
    (auth,) = registered["_embedded"]["authorizationServers"]
    assert (registered["id"][:3], auth["issuer"]) == ("a2a", sdk_issuer)

    shown = cli.ok("a2a-servers", "get", registered["id"]).stdout
    for value in (
        f"A2A server {registered['id']}",
        "Echo agent",
        "1.2.3",
        "Authorization servers (1)",
        sdk_issuer,
    ):
        assert value in shown


def test_an_agent_without_a_card_is_a_validation_error(cli: Cli) -> None:
    fails(
        cli("a2a-servers", "register", "--resource-url", "http://127.0.0.1:9", "--name", "Nobody"),
        6,
        "error E0000001: ",
    )
