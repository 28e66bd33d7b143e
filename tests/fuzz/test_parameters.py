"""Fuzzing the query parameters of every list endpoint: never a 5xx, every 4xx an Okta error object.

Where ``test_openapi_fuzz`` generates from the published schema (which says little about what a string
parameter may hold), these strategies aim at what broke before: huge and negative integers, Unicode digits
that ``str.isdigit()`` accepts and ``int()`` refuses, NUL and control characters, very long strings,
deeply nested filters, escapes that decode to unpaired surrogates, times at the edges of the calendar.
Hypothesis runs a bounded number of examples per endpoint (``REGISTRAR_FUZZ_EXAMPLES``, default 150) on
both databases, against a log and registry that hold a few objects.
"""

from __future__ import annotations

import base64
import json
import os
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

EXAMPLES = int(os.environ.get("REGISTRAR_FUZZ_EXAMPLES", "150"))
OKTA_ERROR_KEYS = {"errorCode", "errorSummary", "errorLink", "errorId", "errorCauses"}
API_SERVERS = "/resource-servers/api/v1/api-servers"
MCP_SERVERS = "/resource-servers/api/v1/mcp-servers"
CLIENT_AUTH_SETTINGS = "/resource-servers/api/v1/client-auth-settings"
fuzz = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# --- strategies ----------------------------------------------------------------------------------------

# What a query string can carry: any character but a surrogate (not encodable as UTF-8, so no client can
# send one; an escape that decodes to one is generated below).
chars = st.characters(exclude_categories=["Cs"])
# Every Unicode digit and number (superscripts, Arabic-Indic, fullwidth, ...) mixed with ASCII digits.
unicode_digits = st.text(
    st.characters(categories=("Nd", "No")) | st.sampled_from("0123456789"), min_size=1, max_size=25
)
integers = st.integers(min_value=-(10**40), max_value=10**40).map(str)
edge_integers = st.sampled_from(
    [str(v) for v in (0, 1, -1, 200, 201, 1000, 1001, 2**31, 2**53 + 1, 2**63 - 1, 2**63, 2**64, 10**23)]
)
numberish = (
    integers | edge_integers | unicode_digits | st.sampled_from(["+5", " 7", "7 ", "1_0", "0x10", "1e3"])
)
controls = st.text(st.sampled_from("\x00\x01\x08\t\n\r\x1b\x7f\x85\u2028\ufeff"), min_size=1, max_size=5)
long_strings = st.integers(1, 6000).map(lambda n: "9" * n) | st.integers(1, 6000).map(
    lambda n: "a(" * (n // 2)
)
nasty_text = st.text(chars, max_size=60) | controls | long_strings | numberish

# The calendar's edges, where the arithmetic of a default window or a UTC conversion can overflow.
edge_times = st.sampled_from(
    [
        "0001-01-01",
        "0001-01-01T00:00:00+14:00",
        "0001-01-01T00:00:00Z",
        "0001-01-07T23:59:59-01:00",
        "9999-12-31",
        "9999-12-31T23:59:59-14:00",
        "9999-12-31T23:59:59.999999Z",
        "9999-12-31T23:59:59.9999999Z",
        "10000-01-01T00:00:00Z",
        "0000-12-31T23:59:59Z",
    ]
)
generated_times = st.builds(
    lambda y, rest, f, o: f"{y}-{rest}{f}{o}",
    st.sampled_from(["0000", "0001", "0001", "1969", "1970", "2038", "9999", "9999", "10000", "2024"]),
    st.sampled_from(["01-01", "12-31T23:59:59", "01-01T00:00:00", "02-29T12:00:00", "13-01T00:00:00"]),
    st.sampled_from(["", ".", ".9", ".999", ".999999", ".9999999", ".123456789012"]),
    st.sampled_from(["", "Z", "+14:00", "-14:00", "+23:59", "-24:00", "+00:00", " 14:00", "+1400", "+99:99"]),
)
timestamps = edge_times | generated_times

LOG_ATTRIBUTES = [
    "eventType",
    "event_type",
    "outcome.result",
    "actor.alternateId",
    "target.id",
    "target.displayName",
    "request.ipChain.ip",
    "severity",
    "securityContext.isProxy",
    "securityContext.asNumber",
    "debugContext.debugData.requestUri",
    "debugContext.debugData.url",
]
REGISTRY_ATTRIBUTES = [
    "status",
    "metadata.displayName",
    "resourceUrl",
    "detectedMetadata.resourceName",
    "authorizationServerId",
    "resourceOrn",
    "purpose",
    "issuer",
]
odd_attributes = st.sampled_from(["published", "nope", "a.b-c_d"]) | st.integers(1, 160).map(
    lambda n: "debugContext.debugData." + ".".join(["k"] * n)
)
# JSON strings of any code points: json.dumps escapes each non-ASCII one, so unpaired surrogates (and NUL,
# and controls) arrive as the "\\ud800"-style escapes a client can send; surrogates are drawn often.
string_values = st.text(
    st.characters(categories=["Cs"]) | st.characters(max_codepoint=0x7F) | st.characters(), max_size=12
).map(json.dumps)
values = st.one_of(
    string_values,
    string_values,
    integers,
    st.sampled_from(["1e999", "-1e999", "1e-400", "-0", "0.5", "true", "null", "FALSE", "2.", ".5"]),
    st.text(chars, max_size=10),
)
# The operators each field takes come up most; the rest (and garbage) less often.
operators = st.sampled_from(
    ["eq", "eq", "co", "co", "sw", "ew", "ne", "gt", "ge", "lt", "le", "pr", "EQ", "eqq"]
)


def _nested(depth: int, inner: str, negate: bool) -> str:
    opening = "not (" if negate else "("
    return opening * depth + inner + ")" * depth


def _joined(parts: list[str]) -> st.SearchStrategy[str]:
    joins = st.lists(st.sampled_from([" and ", " or ", " AND ", " Or ", " "]), min_size=len(parts) - 1)
    return joins.map(lambda js: parts[0] + "".join(j + p for j, p in zip(js, parts[1:], strict=False)))


def filters_over(names: list[str]) -> st.SearchStrategy[str]:
    """SCIM filters mostly over ``names`` (the attributes the endpoint knows), some odd, some not filters."""
    attribute = st.one_of(st.sampled_from(names), st.sampled_from(names), odd_attributes)
    comparison = st.builds(
        lambda a, op, v: f"{a} {op}" if op.lower() == "pr" else f"{a} {op} {v}", attribute, operators, values
    )
    return st.one_of(
        st.lists(comparison, min_size=1, max_size=8).flatmap(_joined),
        st.lists(comparison, min_size=1, max_size=3).flatmap(_joined),
        st.builds(_nested, st.integers(1, 200), comparison, st.booleans()),
        st.integers(1, 600).map(lambda n: " or ".join(['actor.alternateId co "x"'] * n)),
        nasty_text,
    )


# Registry cursors are base64url JSON {"pk": n}: well-formed ones for any n (and other JSON), padded or not.
registry_cursors = st.builds(
    lambda pk, pad: (
        base64.urlsafe_b64encode(json.dumps({"pk": pk}).encode()).decode().rstrip("=" if pad else "")
    ),
    st.one_of(
        st.integers(-(2**70), 2**70),
        st.sampled_from([2**63 - 1, 2**63, 2**64 - 1, 2**64]),
        st.text(max_size=5),
    ),
    st.booleans(),
)


def params_of(spec: dict[str, st.SearchStrategy[str]]) -> st.SearchStrategy[dict[str, str]]:
    """Any subset of ``spec``'s parameters, each drawn from its strategy (or from anything at all)."""
    return st.fixed_dictionaries({}, optional={name: s | nasty_text for name, s in spec.items()})


LOG_PARAMS = params_of(
    {
        "since": timestamps,
        "until": timestamps,
        "after": st.builds(lambda a, b: f"{a}_{b}", numberish, numberish),
        "filter": filters_over(LOG_ATTRIBUTES),
        "q": nasty_text,
        "limit": numberish,
        "sortOrder": st.sampled_from(["ASCENDING", "descending", "ascend\u0131ng", "DESCEND\u0130NG", ""]),
    }
)
PAGE_PARAMS = params_of(
    {"limit": numberish, "after": registry_cursors | nasty_text, "search": filters_over(REGISTRY_ATTRIBUTES)}
)
CHECKPOINT_PARAMS = params_of({"limit": numberish, "after": numberish})

# --- checks --------------------------------------------------------------------------------------------


def check(response: Any, params: dict[str, str]) -> None:
    """No 5xx; a 4xx is an Okta error object; a 200 is JSON."""
    assert response.status_code < 500, f"{params!r}: {response.status_code} {response.text[:500]}"
    assert response.headers["content-type"].startswith("application/json"), params
    body = response.json()
    if response.status_code >= 400:
        assert set(body) == OKTA_ERROR_KEYS, f"{params!r}: {body}"
        assert body["errorLink"] == body["errorCode"] and body["errorCode"].startswith("E0000"), body
        assert all(set(cause) == {"errorSummary"} for cause in body["errorCauses"]), body


@pytest.fixture
def seeded(client: TestClient, auth: dict[str, str]) -> dict[str, str]:
    """A registry with an API server (so the log holds events) and an authorization server under it."""
    server = client.post(
        API_SERVERS,
        json={"resourceUrl": "https://fuzz.example/", "metadata": {"displayName": "fuzz"}},
        headers=auth,
    )
    assert server.status_code == 201, server.text
    server_id = server.json()["id"]
    auth_server = client.post(
        f"{API_SERVERS}/{server_id}/authorization-servers",
        json={
            "issuer": "https://issuer.fuzz.example",
            "authorizationEndpoint": "https://issuer.fuzz.example/authorize",
            "tokenEndpoint": "https://issuer.fuzz.example/token",
            "grantTypesSupported": ["client_credentials"],
        },
        headers=auth,
    )
    assert auth_server.status_code == 201, auth_server.text
    return {"api_server": server_id}


def _fuzz(
    strategy: st.SearchStrategy[dict[str, str]],
    call: Callable[[dict[str, str]], Any],
    expected: frozenset[int] = frozenset({200, 400}),
) -> None:
    """Run ``call`` on generated parameters; the answers must include each status of ``expected``, and only
    200 or 400 (a 401 or 403 would mean the fuzzing never got past authentication)."""
    seen: Counter[int] = Counter()

    @fuzz
    @given(params=strategy)
    def run(params: dict[str, str]) -> None:
        response = call(params)
        check(response, params)
        seen[response.status_code] += 1

    run()
    assert set(seen) == expected, seen


def test_system_log_parameters(client: TestClient, auth: dict[str, str], seeded: dict[str, str]) -> None:
    _fuzz(LOG_PARAMS, lambda params: client.get("/api/v1/logs", params=params, headers=auth))


def test_system_log_checkpoint_parameters(
    client: TestClient, auth: dict[str, str], seeded: dict[str, str]
) -> None:
    _fuzz(
        CHECKPOINT_PARAMS, lambda params: client.get("/api/v1/logs/checkpoints", params=params, headers=auth)
    )


@pytest.mark.parametrize("path", [API_SERVERS, MCP_SERVERS, CLIENT_AUTH_SETTINGS])
def test_registry_list_parameters(
    client: TestClient, auth: dict[str, str], seeded: dict[str, str], path: str
) -> None:
    _fuzz(PAGE_PARAMS, lambda params: client.get(path, params=params, headers=auth))


def test_authorization_server_list_parameters(
    client: TestClient, auth: dict[str, str], seeded: dict[str, str]
) -> None:
    path = f"{API_SERVERS}/{seeded['api_server']}/authorization-servers"
    strategy = params_of(
        {
            "limit": numberish,
            "after": registry_cursors | nasty_text,
            "filter": filters_over(REGISTRY_ATTRIBUTES),
        }
    )
    _fuzz(strategy, lambda params: client.get(path, params=params, headers=auth))


def test_event_hook_list_parameters(client: TestClient, auth: dict[str, str], seeded: dict[str, str]) -> None:
    # The list takes no parameters (Okta's returns every hook): whatever is sent must not matter.
    strategy = params_of(
        {"limit": numberish, "after": numberish, "search": filters_over(REGISTRY_ATTRIBUTES), "q": nasty_text}
    )

    def call(params: dict[str, str]) -> Any:
        return client.get("/api/v1/eventHooks", params=params, headers=auth)

    _fuzz(strategy, call, expected=frozenset({200}))


@pytest.mark.parametrize(
    ("path", "parameter", "names"),
    [
        ("/api/v1/logs", "filter", LOG_ATTRIBUTES),
        (API_SERVERS, "search", ["status", "metadata.displayName", "resourceUrl"]),
        (MCP_SERVERS, "search", ["metadata.displayName", "detectedMetadata.resourceName"]),
    ],
)
def test_any_string_value_on_a_known_attribute(
    client: TestClient,
    auth: dict[str, str],
    seeded: dict[str, str],
    path: str,
    parameter: str,
    names: list[str],
) -> None:
    # Every string a JSON escape can spell, NUL and unpaired surrogates included, on attributes that exist.
    comparison = st.builds(
        lambda a, op, v: f"{a} {op} {v}", st.sampled_from(names), st.sampled_from(["eq", "sw"]), string_values
    )
    strategy = st.fixed_dictionaries({parameter: comparison})
    _fuzz(strategy, lambda params: client.get(path, params=params, headers=auth))
