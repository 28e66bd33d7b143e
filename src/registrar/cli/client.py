"""The HTTP client behind ``registrar``'s registry and log commands, and the exit codes they promise.

The commands talk to a running server (``--url`` / ``REGISTRAR_URL``) with an API token (``--token`` /
``REGISTRAR_TOKEN``, sent as ``Authorization: SSWS <token>``). Every failure becomes a :class:`CliError`
carrying one line for stderr and an exit code scripts can rely on:

====  ==========================================================
code  meaning
====  ==========================================================
0     success
1     any other API error (a 4xx not listed below)
2     usage error (bad option or argument; as Typer reports it)
3     authentication or permission (401 / 403, or no token)
4     not found (404)
5     conflict (409: duplicate, or the object's state forbids it)
6     validation (400: invalid body, filter or parameter)
7     rate limited (429)
8     server error (5xx, or an answer that is not what the API sends)
9     cannot connect (refused, unresolvable, timed out)
====  ==========================================================
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from enum import IntEnum
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import httpx2
import orjson

from registrar.params import ascii_int

__all__ = [
    "CLIENT_AUTH_SETTINGS",
    "DEFAULT_URL",
    "EVENT_HOOKS",
    "EXIT_CODES_HELP",
    "LOGS",
    "MERGE_PATCH",
    "RESOURCE_SERVERS",
    "ApiError",
    "CannotConnect",
    "CliError",
    "ExitCode",
    "Params",
    "RegistrarClient",
    "error_from_response",
    "exit_code_for_status",
    "json_of",
]

DEFAULT_URL = "http://127.0.0.1:8080"
RESOURCE_SERVERS = "/resource-servers/api/v1"
CLIENT_AUTH_SETTINGS = f"{RESOURCE_SERVERS}/client-auth-settings"
EVENT_HOOKS = "/api/v1/eventHooks"
LOGS = "/api/v1/logs"
MERGE_PATCH = "application/merge-patch+json"

# Query parameters; ``None`` values are left out of the request.
Params = Mapping[str, str | list[str] | None]


class ExitCode(IntEnum):
    """The process exit codes of the HTTP commands (documented in ``registrar --help``)."""

    OK = 0
    API_ERROR = 1
    USAGE = 2
    AUTHENTICATION = 3
    NOT_FOUND = 4
    CONFLICT = 5
    VALIDATION = 6
    RATE_LIMITED = 7
    SERVER_ERROR = 8
    CANNOT_CONNECT = 9


EXIT_CODES_HELP = "\n".join(
    [
        "\b",  # click: keep these lines as they are
        "Exit codes of the commands that call the server (--url, --token):",
        "  0  ok",
        "  1  other API error (4xx)",
        "  2  usage error",
        "  3  authentication or permission (401, 403; or no token)",
        "  4  not found (404)",
        "  5  conflict (409)",
        "  6  validation (400)",
        "  7  rate limited (429)",
        "  8  server error (5xx)",
        "  9  cannot connect",
    ]
)


class CliError(Exception):
    """A failure shown as one line on stderr, ending the command with ``exit_code``."""

    def __init__(self, line: str, exit_code: ExitCode):
        super().__init__(line)
        self.line = line
        self.exit_code = exit_code


class ApiError(CliError):
    """The server answered with an error: an Okta error object, or at least a status."""

    def __init__(
        self,
        status: int,
        code: str | None,
        summary: str,
        causes: list[str],
        *,
        reset_at: int | None = None,
    ):
        self.status = status
        self.reset_at = reset_at  # a 429's X-Rate-Limit-Reset (epoch seconds)
        self.code = code
        self.summary = summary
        self.causes = causes
        label = code or f"HTTP {status}"
        line = f"error {label}: {summary}"
        # The first cause says what was wrong; skip it when the summary already contains it.
        if causes and causes[0] not in summary:
            line += f": {causes[0]}"
        if status == 429 and reset_at is not None:
            moment = datetime.fromtimestamp(reset_at, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            line += f" (the limit resets at {moment})"
        super().__init__(line, exit_code_for_status(status))


class CannotConnect(CliError):
    """No HTTP answer at all: refused, unresolvable, or timed out."""

    def __init__(self, url: str, error: httpx2.TransportError):
        reason = str(error) or type(error).__name__
        super().__init__(f"error: cannot connect to {url}: {reason}", ExitCode.CANNOT_CONNECT)


def exit_code_for_status(status: int) -> ExitCode:
    """The exit code for an HTTP error status."""
    if status in (401, 403):
        return ExitCode.AUTHENTICATION
    special = {
        404: ExitCode.NOT_FOUND,
        409: ExitCode.CONFLICT,
        400: ExitCode.VALIDATION,
        429: ExitCode.RATE_LIMITED,
    }
    if status in special:
        return special[status]
    return ExitCode.SERVER_ERROR if status >= 500 else ExitCode.API_ERROR


def error_from_response(response: httpx2.Response) -> ApiError:
    """The :class:`ApiError` an error response describes (Okta's error object when there is one)."""
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        body = None
    reset = response.headers.get("X-Rate-Limit-Reset", "")
    reset_at = ascii_int(reset)
    if isinstance(body, dict) and isinstance(body.get("errorSummary"), str):
        causes = [
            str(cause.get("errorSummary"))
            for cause in body.get("errorCauses") or []
            if isinstance(cause, dict) and cause.get("errorSummary")
        ]
        code = body.get("errorCode")
        code = code if isinstance(code, str) else None
        return ApiError(response.status_code, code, body["errorSummary"], causes, reset_at=reset_at)
    return ApiError(response.status_code, None, response.reason_phrase or "error", [], reset_at=reset_at)


def _user_agent() -> str:
    try:
        ours = version("registrar")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree without metadata
        ours = "0"
    return f"registrar-cli/{ours} httpx2/{httpx2.__version__}"


class RegistrarClient:
    """A thin, typed wrapper over ``httpx2.Client``: authentication, errors as :class:`CliError`, paging."""

    def __init__(
        self,
        url: str,
        token: str,
        *,
        timeout: float = 60.0,
        transport: httpx2.BaseTransport | None = None,
    ):
        self.url = url.rstrip("/")
        headers = {
            "Authorization": f"SSWS {token}",
            "Accept": "application/json",
            "User-Agent": _user_agent(),
        }
        self._http = httpx2.Client(base_url=self.url, headers=headers, timeout=timeout, transport=transport)

    def __enter__(self) -> RegistrarClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Params | None = None,
        content_type: str = "application/json",
    ) -> httpx2.Response:
        """Send one request; return the response when it is a success, raise :class:`CliError` otherwise."""
        content = None if json is None else orjson.dumps(json)
        headers = {"Content-Type": content_type} if content is not None else None
        try:
            response = self._http.request(
                method, path, content=content, params=_clean(params), headers=headers
            )
        except httpx2.InvalidURL as error:
            raise CliError(f"error: not a valid URL: {self.url}{path}: {error}", ExitCode.USAGE) from None
        except httpx2.UnsupportedProtocol as error:
            raise CliError(f"error: {error} (use http:// or https://)", ExitCode.USAGE) from None
        except httpx2.TransportError as error:
            raise CannotConnect(self.url, error) from None
        if response.status_code >= 400:
            raise error_from_response(response)
        return response

    def get(self, path: str, params: Params | None = None) -> httpx2.Response:
        """``GET`` a path (relative to the server URL) or a link the server gave."""
        return self.request("GET", self._own(path), params=params)

    def post(self, path: str, json: Any = None, params: Params | None = None) -> httpx2.Response:
        """``POST`` a JSON body (or none)."""
        return self.request("POST", path, json=json, params=params)

    def patch(self, path: str, json: Any) -> httpx2.Response:
        """``PATCH`` with a JSON merge patch."""
        return self.request("PATCH", path, json=json, content_type=MERGE_PATCH)

    def put(self, path: str, json: Any) -> httpx2.Response:
        """``PUT`` a whole object."""
        return self.request("PUT", path, json=json)

    def delete(self, path: str) -> httpx2.Response:
        """``DELETE`` an object."""
        return self.request("DELETE", path)

    def pages(
        self, path: str, params: Params | None = None, *, follow: bool = True
    ) -> Iterator[httpx2.Response]:
        """The pages of a registry list, following ``_links.next.href`` while ``follow`` is true."""
        response = self.get(path, params)
        yield response
        while follow:
            link = json_of(response).get("_links", {}).get("next")
            if not link:
                return
            response = self.get(link["href"])
            yield response

    def _own(self, url: str) -> str:
        """``url`` when it is a path or points at our server; a link elsewhere would carry our token."""
        if url.startswith("/"):
            return url
        target, own = httpx2.URL(url), httpx2.URL(self.url)
        if (target.scheme, target.host, target.port) != (own.scheme, own.host, own.port):
            raise CliError(
                f"error: the server sent a link to another origin ({target.scheme}://{target.host}); "
                "not following it with your token",
                ExitCode.SERVER_ERROR,
            )
        return url


def json_of(response: httpx2.Response) -> Any:
    """The response's JSON document; an answer that is not JSON is a server error."""
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        raise CliError(
            f"error: the server's answer to {response.request.method} {response.request.url.path} "
            "is not JSON",
            ExitCode.SERVER_ERROR,
        ) from None


def _clean(params: Params | None) -> dict[str, str | list[str]] | None:
    """Parameters without the unset (``None``) ones."""
    if params is None:
        return None
    return {name: value for name, value in params.items() if value is not None}
