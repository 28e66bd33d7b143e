"""Rendering every error as Okta's error object, in one place."""

from __future__ import annotations

import logging
import secrets

import orjson
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from registrar.errors import MethodNotAllowed, NotFound, RegistrarError, ServiceUnavailable, ValidationFailed
from registrar.store.database import unavailable

__all__ = ["error_response", "install_error_handlers"]

log = logging.getLogger(__name__)


def error_response(error: RegistrarError) -> Response:
    """The Okta error object for ``error``, with its HTTP status."""
    body = {
        "errorCode": error.code,
        "errorSummary": error.summary,
        "errorLink": error.code,
        "errorId": "oae" + secrets.token_urlsafe(16)[:22],
        "errorCauses": [{"errorSummary": cause} for cause in error.causes],
    }
    headers: dict[str, str] = {}
    if isinstance(error, MethodNotAllowed):
        headers["Allow"] = ", ".join(error.allowed)
    if isinstance(error, ServiceUnavailable):
        headers["Retry-After"] = "1"
    return Response(
        orjson.dumps(body), status_code=error.status, headers=headers, media_type="application/json"
    )


async def _registrar_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RegistrarError)
    return error_response(exc)


async def _database_error(request: Request, exc: Exception) -> Response:
    # A wait or a statement out of time is a 503 the caller may retry; anything else stays a 500.
    error = unavailable(exc)
    if error is None:
        raise exc
    log.warning("%s %s: %s", request.method, request.url.path, error.reason)
    return error_response(error)


async def _validation_error(_request: Request, exc: Exception) -> Response:
    # Only locations and rule messages are echoed, never input values (a body may hold a secret).
    assert isinstance(exc, RequestValidationError)
    causes = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()) if p not in {"query", "path", "body", "header"})
        causes.append(f"{where or 'request'}: {err.get('msg', 'is not valid')}")
    return error_response(ValidationFailed(causes or ["request: is not valid"]))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 405:
        allowed = (exc.headers or {}).get("Allow", "")
        return error_response(MethodNotAllowed([m.strip() for m in allowed.split(",") if m.strip()]))
    if exc.status_code == 404:
        return error_response(NotFound(request.url.path, "Path"))
    error = RegistrarError(str(exc.detail))
    error.status = exc.status_code
    error.code = "E0000001" if exc.status_code < 500 else "E0000009"
    return error_response(error)


def install_error_handlers(app: FastAPI) -> None:
    """Map the error tree, FastAPI's validation errors, Starlette's HTTP errors and a database out of time
    (503) to Okta errors."""
    app.add_exception_handler(RegistrarError, _registrar_error)
    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(PoolTimeout, _database_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
