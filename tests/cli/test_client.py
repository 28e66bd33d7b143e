"""The HTTP client and the promises that need no server: error lines, exit codes, paging, usage errors."""

from __future__ import annotations

import io
import subprocess
import sys

import httpx2
import orjson
import pytest
from rich.console import Console
from typer.testing import CliRunner

from registrar.cli import app, logs_tail
from registrar.cli.client import CliError, ExitCode, RegistrarClient, error_from_response

from ..live import free_port
from .conftest import QUIET_ENV, fails


def _error(status: int, body: object, headers: dict[str, str] | None = None) -> httpx2.Response:
    content = body if isinstance(body, bytes) else orjson.dumps(body)
    return httpx2.Response(status, content=content, headers=headers)


def _okta(code: str, summary: str, *causes: str) -> dict[str, object]:
    return {
        "errorCode": code,
        "errorSummary": summary,
        "errorLink": code,
        "errorId": "oae123",
        "errorCauses": [{"errorSummary": cause} for cause in causes],
    }


@pytest.mark.parametrize(
    ("status", "body", "line", "code"),
    [
        (
            404,
            _okta("E0000007", "Not found: Resource not found: apsX (ApiServer)"),
            "error E0000007: Not found: Resource not found: apsX (ApiServer)",
            ExitCode.NOT_FOUND,
        ),
        (
            400,
            _okta("E0000001", "Api validation failed: metadata", "metadata.displayName: too short", "other"),
            "error E0000001: Api validation failed: metadata: metadata.displayName: too short",
            ExitCode.VALIDATION,
        ),
        (
            409,
            _okta("E0000038", "Not allowed. Deactivate it first.", "Deactivate it first."),
            "error E0000038: Not allowed. Deactivate it first.",
            ExitCode.CONFLICT,
        ),
        (401, _okta("E0000011", "Invalid token provided"), "error E0000011: Invalid token provided", 3),
        (
            403,
            _okta("E0000006", "You do not have permission"),
            "error E0000006: You do not have permission",
            3,
        ),
        (
            405,
            _okta("E0000022", "Method not allowed"),
            "error E0000022: Method not allowed",
            ExitCode.API_ERROR,
        ),
        (500, _okta("E0000009", "Internal Server Error"), "error E0000009: Internal Server Error", 8),
        (502, b"<html>bad gateway</html>", "error HTTP 502: Bad Gateway", ExitCode.SERVER_ERROR),
    ],
)
def test_an_error_response_is_one_line_with_code_summary_and_first_new_cause(
    status: int, body: object, line: str, code: int
) -> None:
    error = error_from_response(_error(status, body))
    assert (error.line, error.exit_code) == (line, code)


def test_a_rate_limited_answer_says_when_the_limit_resets() -> None:
    body = _okta("E0000047", "API call exceeded rate limit due to too many requests.")
    error = error_from_response(_error(429, body, {"X-Rate-Limit-Reset": "1800000000"}))
    assert error.exit_code == 7
    assert error.reset_at == 1800000000
    assert error.line.endswith("(the limit resets at 2027-01-15T08:00:00Z)")


def test_requests_carry_the_token_and_lists_follow_next_links() -> None:
    seen: list[httpx2.Request] = []

    def answer(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        after = request.url.params.get("after")
        links: dict[str, object] = {"self": {"href": str(request.url)}}
        if after is None:
            links["next"] = {"href": "https://registrar.example/resource-servers/api/v1/api-servers?after=2"}
        return httpx2.Response(200, json={"data": [{"id": after or "1"}], "_links": links})

    transport = httpx2.MockTransport(answer)
    with RegistrarClient("https://registrar.example/", "t0k", transport=transport) as client:
        pages = list(client.pages("/resource-servers/api/v1/api-servers", {"limit": "1", "search": None}))
    assert [page.json()["data"][0]["id"] for page in pages] == ["1", "2"]
    assert str(seen[0].url) == "https://registrar.example/resource-servers/api/v1/api-servers?limit=1"
    assert {request.headers["Authorization"] for request in seen} == {"SSWS t0k"}
    assert seen[0].headers["User-Agent"].startswith("registrar-cli/")


def test_a_next_link_to_another_origin_is_not_followed_with_the_token() -> None:
    seen: list[str] = []

    def answer(request: httpx2.Request) -> httpx2.Response:
        seen.append(str(request.url))
        links = {"self": {"href": str(request.url)}, "next": {"href": "https://elsewhere.example/steal"}}
        return httpx2.Response(200, json={"data": [], "_links": links})

    with (
        RegistrarClient("https://registrar.example", "t0k", transport=httpx2.MockTransport(answer)) as client,
        pytest.raises(CliError) as raised,
    ):
        list(client.pages("/resource-servers/api/v1/api-servers"))
    assert raised.value.exit_code == ExitCode.SERVER_ERROR
    assert "another origin" in raised.value.line
    assert seen == ["https://registrar.example/resource-servers/api/v1/api-servers"]


def _run(*args: str, **env: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), env={**QUIET_ENV, "REGISTRAR_TOKEN": None, **env})
    return result.exit_code, result.stdout, result.stderr


def test_no_server_listening_is_exit_code_9_on_one_line() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = CliRunner().invoke(app, ["api-servers", "list", "--url", url, "--token", "x"], env=QUIET_ENV)
    fails(result, 9, f"error: cannot connect to {url}")


def test_the_console_entry_reports_a_refused_connection_with_exit_code_9() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    env = {"REGISTRAR_URL": url, "REGISTRAR_TOKEN": "x", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-m", "registrar", "mcp-servers", "get", "mcpX"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert (done.returncode, done.stdout) == (9, "")
    assert done.stderr.strip().splitlines() == [
        f"error: cannot connect to {url}: [Errno 111] Connection refused"
    ]


def test_without_a_token_nothing_is_sent_and_the_exit_code_is_3() -> None:
    code, out, err = _run("api-servers", "list", "--url", f"http://127.0.0.1:{free_port()}")
    assert (code, out) == (3, "")
    assert "no API token" in err and "REGISTRAR_TOKEN" in err


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["auth-servers", "list", "xyz123"], "is not the id of an API server (aps…), an MCP server (mcp…)"),
        (["auth-servers", "add", "mcp123", "--issuer", "i", "--authorization-endpoint", "a",
          "--token-endpoint", "t", "--grant-type", "g"], "registrar mcp-servers refresh mcp123"),
        (["auth-servers", "add", "aps123", "--issuer", "i", "--grant-type", "g"],
         "give --authorization-endpoint and --token-endpoint"),
        (["auth-servers", "add", "vms123", "--issuer", "i", "--authorization-endpoint", "a",
          "--token-endpoint", "t"], "give at least one --grant-type"),
        (["auth-servers", "add", "a2a123", "--issuer", "i", "--token-endpoint", "t"],
         "an A2A server's authorization server is read from its issuer's metadata: give --issuer only"),
        (["auth-servers", "update", "a2a123", "eas1", "--token-endpoint", "t"],
         "an A2A server's authorization servers cannot be changed"),
        (["auth-servers", "remove", "mcp123", "eas1"], "are discovered, not edited"),
        (["api-servers", "update", "aps123"], "nothing to update: give --name and/or --description"),
        (["virtual-mcp-servers", "update", "vms123"],
         "nothing to update: give --name, --description or --capability"),
        (["virtual-mcp-servers", "create", "--name", "n", "--capability", "mcp123"],
         "--capability wants MCP_SERVER_ID:TOOL_NAME, not 'mcp123'"),
        (["virtual-mcp-servers", "create", "--name", "n", "--capability", ":echo"],
         "MCP_SERVER_ID:TOOL_NAME"),
        (["logs", "--filter", 'eventType eq "x"', "tail"], "put options after the subcommand"),
        (["logs", "--json", "--jsonl"], "choose one"),
    ],
)  # fmt: skip
def test_usage_errors_exit_2_before_any_request(args: list[str], needle: str) -> None:
    code, out, err = _run(*args, REGISTRAR_URL=f"http://127.0.0.1:{free_port()}", REGISTRAR_TOKEN="x")
    assert (code, out) == (2, "")
    assert needle in err


def test_the_exit_codes_are_documented_in_the_help() -> None:
    code, out, _ = _run("--help")
    assert code == 0
    for line in ("0  ok", "3  authentication or permission", "4  not found (404)", "9  cannot connect"):
        assert line in out


def test_tail_waits_out_lost_connections_5xx_and_429_but_not_other_errors() -> None:
    answers: list[httpx2.Response | Exception] = [
        httpx2.ConnectError("refused"),
        _error(503, _okta("E0000009", "Internal Server Error")),
        _error(429, _okta("E0000047", "API call exceeded rate limit"), {"X-Rate-Limit-Reset": "0"}),
        httpx2.Response(200, json=[]),
        _error(404, _okta("E0000007", "Not found")),
    ]

    def answer(request: httpx2.Request) -> httpx2.Response:
        reply = answers.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return reply

    waits: list[float] = []
    written = io.StringIO()
    warnings = Console(file=written, width=200)
    with RegistrarClient("https://registrar.example", "t", transport=httpx2.MockTransport(answer)) as client:
        assert logs_tail._fetch(client, "/api/v1/logs?after=1_1", 0.5, warnings, waits.append).json() == []
        with pytest.raises(CliError) as raised:
            logs_tail._fetch(client, "/api/v1/logs?after=1_1", 0.5, warnings, waits.append)
    # Doubling from the polling interval; a 429 waits until the limit resets (at least a second).
    assert waits == [0.5, 2.0, 1.0]
    assert raised.value.exit_code == ExitCode.NOT_FOUND
    lines = written.getvalue().splitlines()
    assert [line.split(":")[0] for line in lines] == ["warning", "warning E0000009", "warning E0000047"]
