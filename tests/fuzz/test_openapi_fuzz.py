"""Fuzzing every operation in ``/openapi.json`` with a valid token: never a 5xx, every 4xx in Okta's format.

Schemathesis generates the cases (valid and invalid ones) from the published schema; Hypothesis runs them.
The operations are driven from one test per backend (schemathesis' pytest plugin does not support the
pytest release in use), with a bounded number of examples to keep the suite fast; raise
``REGISTRAR_FUZZ_EXAMPLES`` for a longer run.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

OKTA_ERROR_KEYS = {"errorCode", "errorSummary", "errorLink", "errorId", "errorCauses"}
# The org authorization server answers as Okta's does: RFC 6749 error objects, not Okta API errors.
OAUTH_ERRORS = {"invalid_request", "invalid_client", "invalid_scope", "unsupported_grant_type"}
EXAMPLES = int(os.environ.get("REGISTRAR_FUZZ_EXAMPLES", "10"))


def _check(case: Any, auth: dict[str, str]) -> None:
    response = case.call(headers=dict(auth))
    where = f"{case.method} {case.formatted_path}"
    assert response.status_code < 500, f"{where}: {response.status_code} {response.text}"
    assert response.headers.get("x-okta-request-id"), where
    if response.status_code >= 400:
        content_type = response.headers["content-type"]
        assert (content_type[0] if isinstance(content_type, list) else content_type).startswith(
            "application/json"
        )
        body = response.json()
        if case.formatted_path.startswith("/oauth2/"):
            assert set(body) == {"error", "error_description"}, f"{where}: {body}"
            assert body["error"] in OAUTH_ERRORS, f"{where}: {body}"
            return
        assert set(body) == OKTA_ERROR_KEYS, f"{where}: {body}"
        assert body["errorLink"] == body["errorCode"]
        assert body["errorCode"].startswith("E0000")


# ~1.5 s per example over every operation measured (15 s at 10): the bound follows REGISTRAR_FUZZ_EXAMPLES
# and leaves room for more operations and a loaded machine.
@pytest.mark.timeout(60 * EXAMPLES)
def test_every_operation_survives_fuzzing(app: FastAPI, auth: dict[str, str]) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) >= 10
    for operation, mode in [
        (o, m) for o in operations for m in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    ]:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
        )
        def run(case: Any) -> None:
            _check(case, auth)

        try:
            run()
        except Unsatisfiable:
            # Some operations have nothing to get wrong (no parameters, no body) in negative mode.
            assert mode == GenerationMode.NEGATIVE


def test_nul_and_control_characters_are_refused_not_crashing(client: Any, auth: dict[str, str]) -> None:
    servers = "/resource-servers/api/v1/api-servers"
    for i, name in enumerate(("a\u0000b", "a\x01b", "line\nbreak")):
        body = {
            "resourceUrl": f"https://nul{i}.example",
            "metadata": {"displayName": name, "description": name},
        }
        response = client.post(servers, json=body, headers=auth)
        assert response.status_code == 400, response.text
        assert response.json()["errorCauses"][0]["errorSummary"].startswith("metadata.displayName:")
    response = client.get(servers, params={"search": 'metadata.displayName eq "a\\u0000b"'}, headers=auth)
    assert response.status_code == 400
    assert response.json()["errorCode"] == "E0000053"
    response = client.get("/api/v1/logs", params={"q": "a\x00b"}, headers=auth)
    assert response.status_code == 200
