"""The admin console: server-rendered pages (Jinja2 + htmx) over the same audited services as the API.

Sign-in is with an email and password (``registrar users set-password``) or with an API token. A password
session holds every scope (console users are administrators); a token session holds the token's scopes, so
a read-only token gives a read-only console. Every action a console user takes goes through the service
layer's ``perform`` and is audited exactly like the API call it mirrors, with the console session's public
id as ``authenticationContext.externalSessionId``.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from . import _routes_auth, _routes_home, _routes_logs, _routes_servers, _routes_settings
from ._accounts import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, password_problem, set_password
from ._sessions import ABSOLUTE_LIFETIME, IDLE_TIMEOUT, end_user_sessions
from ._web import STATIC_PATH, ConsoleStatic

__all__ = [
    "ABSOLUTE_LIFETIME",
    "IDLE_TIMEOUT",
    "MAX_PASSWORD_LENGTH",
    "MIN_PASSWORD_LENGTH",
    "end_user_sessions",
    "install_console",
    "password_problem",
    "set_password",
]


def install_console(app: FastAPI) -> None:
    """Serve the console at ``/`` (its pages never appear in the OpenAPI document)."""
    for module in (_routes_home, _routes_auth, _routes_servers, _routes_settings, _routes_logs):
        app.include_router(module.router)
    app.mount(STATIC_PATH, ConsoleStatic(directory=Path(__file__).with_name("static")), name="console-static")
