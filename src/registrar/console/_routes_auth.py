"""Signing in (email and password, or an API token) and out."""

from __future__ import annotations

import hmac
import secrets

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from ._accounts import Credential, verify_password, verify_token
from ._forms import NOTICES, safe_next, text
from ._sessions import ABSOLUTE_LIFETIME, end_session, load_session, open_session
from ._web import ConsoleRoute, CurrentSession, check_csrf, cookie_name, deps_of, is_https, render

__all__ = ["router"]

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

# Login CSRF (a forged sign-in into the attacker's account) is stopped by a double-submit token: a random
# value in a SameSite=Strict cookie that the sign-in form must echo.
_LOGIN_COOKIE = "registrar_login_csrf"


def _login_page(
    request: Request,
    *,
    error: str | None = None,
    method: str = "password",
    email: str = "",
    next_url: str = "",
) -> Response:
    token = secrets.token_urlsafe(32)
    context = {
        "title": "Sign in",
        "error": error,
        "method": method,
        "email": email,
        "next": safe_next(next_url or request.query_params.get("next")),
        "login_csrf": token,
        "notice": NOTICES.get(request.query_params.get("notice") or ""),
    }
    response = render(request, "login.html", context, 401 if error else 200)
    response.set_cookie(
        _LOGIN_COOKIE, token, httponly=True, samesite="strict", secure=is_https(request), path="/login"
    )
    return response


@router.get("/login")
def login_form(request: Request) -> Response:
    """The sign-in page (straight to the console when already signed in)."""
    secret = request.cookies.get(cookie_name(request))
    if secret and load_session(deps_of(request).engine, secret, touch=False) is not None:
        return RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    return _login_page(request)


def _check(request: Request, method: str, email: str, password: str, token: str) -> Credential | None:
    with deps_of(request).engine.begin() as conn:
        if method == "token":
            return verify_token(conn, token)
        return verify_password(conn, email, password)


def _start_session(request: Request, credential: Credential) -> str:
    """Open the session (ending the one this browser had, if any); returns the cookie secret."""
    enricher = request.app.state.enricher
    peer = request.scope.get("client")
    client, _ = enricher.describe(request.scope.get("headers", ()), peer[0] if peer else None)
    engine = deps_of(request).engine
    previous = request.cookies.get(cookie_name(request))
    old = load_session(engine, previous, touch=False) if previous else None
    with engine.begin() as conn:
        if old is not None:
            end_session(conn, old.id)  # a new sign-in never keeps the old session id
        _, secret = open_session(
            conn, credential, ip_address=client.ip_address, user_agent=request.headers.get("user-agent")
        )
    return secret


@router.post("/login")
async def login(request: Request) -> Response:
    """Check the credential; on success open a session and set its cookie."""
    form = await request.form()
    method = "token" if form.get("method") == "token" else "password"
    cookie, echoed = request.cookies.get(_LOGIN_COOKIE, ""), text(form, "login_csrf")
    if not cookie or not hmac.compare_digest(cookie.encode(), echoed.encode()):
        return _login_page(
            request,
            error="The sign-in form expired. Please try again.",
            method=method,
            next_url=text(form, "next"),
        )
    email = text(form, "email")
    password = form.get("password")
    credential = await run_in_threadpool(
        _check,
        request,
        method,
        email,
        password if isinstance(password, str) else "",
        text(form, "token"),
    )
    if credential is None:
        message = (
            "That API token is not valid."
            if method == "token"
            else "The email address or the password is not correct."
        )
        return _login_page(
            request,
            error=message,
            method=method,
            email=email if method == "password" else "",
            next_url=text(form, "next"),
        )
    secret = await run_in_threadpool(_start_session, request, credential)
    response = RedirectResponse(safe_next(text(form, "next")), status_code=303)
    response.set_cookie(
        cookie_name(request),
        secret,
        max_age=int(ABSOLUTE_LIFETIME.total_seconds()),
        path="/",
        httponly=True,
        samesite="strict",
        secure=is_https(request),
    )
    response.delete_cookie(
        _LOGIN_COOKIE, path="/login", httponly=True, samesite="strict", secure=is_https(request)
    )
    return response


def _end_session(request: Request, session_id: str) -> None:
    with deps_of(request).engine.begin() as conn:
        end_session(conn, session_id)


@router.post("/logout")
async def logout(request: Request, session: CurrentSession) -> Response:
    """End the session (CSRF-checked, so no other site can sign an admin out)."""
    check_csrf(request, session, await request.form())
    await run_in_threadpool(_end_session, request, session.id)
    response = RedirectResponse("/login?notice=signed-out", status_code=303)
    response.delete_cookie(
        cookie_name(request), path="/", httponly=True, samesite="strict", secure=is_https(request)
    )
    return response
