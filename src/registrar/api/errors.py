"""Rendering every error as Okta's error object, in one place."""

from __future__ import annotations

import secrets

import orjson
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from registrar.errors import MethodNotAllowed, NotFound, RegistrarError, ValidationFailed

__all__ = ["error_response", "install_error_handlers"]


def error_response(error: RegistrarError) -> Response:
    """The Okta error object for ``error``, with its HTTP status."""
    body = {
        "errorCode": error.code,
        "errorSummary": error.summary,
        "errorLink": error.code,
        "errorId": "oae" + secrets.token_urlsafe(16)[:22],
        "errorCauses": [{"errorSummary": cause} for cause in error.causes],
    }
    headers = {"Allow": ", ".join(error.allowed)} if isinstance(error, MethodNotAllowed) else None
    return Response(
        orjson.dumps(body), status_code=error.status, headers=headers, media_type="application/json"
    )


async def _registrar_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RegistrarError)
    return error_response(exc)


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
    """Map the error tree, FastAPI's validation errors and Starlette's HTTP errors to Okta errors."""
    app.add_exception_handler(RegistrarError, _registrar_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
