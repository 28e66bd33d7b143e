"""The refresh planner: every branch of the diff between a new discovery and what is stored."""

from __future__ import annotations

from registrar.discovery import AuthServerResult, Discovery, plan_refresh
from registrar.domain.mcp import AuthServerMetadata, McpAuthServer, McpServer, ResourceMetadata
from registrar.errors import DiscoveryFailed

A, B, C = "https://a.example", "https://b.example", "https://c.example"
RESOURCE = ResourceMetadata("tools", ("read",))


def meta(path: str = "/token") -> AuthServerMetadata:
    return AuthServerMetadata(
        token_endpoint=f"https://t.example{path}", grant_types_supported=("authorization_code",)
    )


def server(status: str = "ACTIVE") -> McpServer:
    return McpServer("mcp1", "https://mcp.example/mcp", "Tools", None, status, RESOURCE, 1, 1, 1)


def stored(issuer: str, status: str = "ACTIVE", detected: AuthServerMetadata | None = None) -> McpAuthServer:
    return McpAuthServer(f"eas-{issuer[-9]}", "mcp1", issuer, status, detected or meta(), 1, 1)


def found(*results: AuthServerResult, resource: ResourceMetadata = RESOURCE) -> Discovery:
    return Discovery("https://mcp.example/mcp", resource, results)


def test_nothing_changed_plans_nothing() -> None:
    plan = plan_refresh(server(), [stored(A)], found(AuthServerResult(A, meta())))
    assert (plan.status, plan.detected, plan.error, plan.create, plan.update) == (
        "ACTIVE",
        RESOURCE,
        None,
        (),
        (),
    )


def test_a_new_issuer_is_created() -> None:
    plan = plan_refresh(
        server(), [stored(A)], found(AuthServerResult(A, meta()), AuthServerResult(B, meta()))
    )
    assert [r.issuer for r in plan.create] == [B]
    assert plan.update == ()


def test_a_new_issuer_that_fails_is_not_created() -> None:
    plan = plan_refresh(
        server(), [stored(A)], found(AuthServerResult(A, meta()), AuthServerResult(B, None, "x"))
    )
    assert plan.create == () and plan.update == () and plan.status == "ACTIVE"


def test_changed_metadata_is_an_update() -> None:
    plan = plan_refresh(server(), [stored(A)], found(AuthServerResult(A, meta("/v2/token"))))
    (change,) = plan.update
    assert (change.current.issuer, change.status, change.detected) == (A, "ACTIVE", meta("/v2/token"))


def test_a_failing_issuer_becomes_invalid_and_keeps_its_last_metadata() -> None:
    plan = plan_refresh(
        server(),
        [stored(A), stored(B)],
        found(AuthServerResult(A, None, "down"), AuthServerResult(B, meta())),
    )
    (change,) = plan.update
    assert (change.current.issuer, change.status, change.detected) == (A, "INVALID", meta())
    assert plan.status == "ACTIVE"


def test_an_invalid_issuer_that_works_again_becomes_active() -> None:
    plan = plan_refresh(server(), [stored(A, "INVALID")], found(AuthServerResult(A, meta())))
    assert [(c.current.issuer, c.status) for c in plan.update] == [(A, "ACTIVE")]


def test_an_issuer_gone_from_the_metadata_becomes_inactive_once() -> None:
    plan = plan_refresh(server(), [stored(A), stored(C)], found(AuthServerResult(A, meta())))
    assert [(c.current.issuer, c.status) for c in plan.update] == [(C, "INACTIVE")]
    again = plan_refresh(server(), [stored(A), stored(C, "INACTIVE")], found(AuthServerResult(A, meta())))
    assert again.update == ()


def test_changed_server_metadata_is_planned() -> None:
    renamed = ResourceMetadata("tools-v2", ("read", "write"))
    plan = plan_refresh(server(), [stored(A)], found(AuthServerResult(A, meta()), resource=renamed))
    assert plan.detected == renamed and plan.update == ()


def test_failed_discovery_makes_the_server_invalid_and_touches_nothing_else() -> None:
    plan = plan_refresh(server(), [stored(A)], DiscoveryFailed("No authorization servers found"))
    assert (plan.status, plan.detected, plan.error) == ("INVALID", RESOURCE, "No authorization servers found")
    assert plan.create == () and plan.update == ()


def test_every_authorization_server_failing_makes_the_server_invalid() -> None:
    plan = plan_refresh(
        server(), [stored(A)], found(AuthServerResult(A, None, "Authorization server A: down"))
    )
    assert (plan.status, plan.error) == ("INVALID", "Authorization server A: down")
    assert [(c.current.issuer, c.status) for c in plan.update] == [(A, "INVALID")]


def test_an_invalid_server_that_recovers_becomes_inactive() -> None:
    plan = plan_refresh(server("INVALID"), [stored(A)], found(AuthServerResult(A, meta())))
    assert (plan.status, plan.error) == ("INACTIVE", None)
