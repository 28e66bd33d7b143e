"""Signing in (email and password, or an API token) and out; the work and its audit are in ``_signin``."""

from __future__ import annotations

import hmac
import secrets
from typing import Literal

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from ._forms import NOTICES, safe_next, text
from ._sessions import ABSOLUTE_LIFETIME, load_session
from ._signin import Attempt, sign_in, sign_out
from ._web import ConsoleRoute, CurrentSession, check_csrf, cookie_name, deps_of, is_https, render

__all__ = ["router"]

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

# Login CSRF (a forged sign-in into the attacker's account) is stopped by a double-submit token: a random
# value in a SameSite=Strict cookie that the sign-in form must echo.
_LOGIN_COOKIE = "registrar_login_csrf"


# One message for every refused credential: which part was wrong, or whether the account exists, is not
# for the browser to learn (the audit log records the reason).
_REFUSED = {
    "password": "The email address or the password is not correct.",
    "token": "That API token is not valid.",
}


def _throttled_message(seconds: int) -> str:
    minutes = -(-seconds // 60)
    wait = f"{minutes} minute{'s' if minutes != 1 else ''}" if seconds > 60 else f"{seconds} seconds"
    return f"Too many failed sign-in attempts. Please wait {wait} before trying again."


def _login_page(
    request: Request,
    *,
    error: str | None = None,
    method: str = "password",
    email: str = "",
    next_url: str = "",
    status_code: int | None = None,
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
    response = render(request, "login.html", context, status_code or (401 if error else 200))
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


@router.post("/login")
async def login(request: Request) -> Response:
    """Check the credential; on success open a session and set its cookie."""
    form = await request.form()
    method: Literal["password", "token"] = "token" if form.get("method") == "token" else "password"
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
    attempt = Attempt(
        method=method,
        login=email,
        password=password if isinstance(password, str) else "",
        token=text(form, "token"),
    )
    result = await run_in_threadpool(sign_in, request, attempt)
    if result.secret is None:
        throttled = result.retry_after is not None
        response = _login_page(
            request,
            error=_throttled_message(result.retry_after or 0) if throttled else _REFUSED[method],
            method=method,
            email=email if method == "password" else "",
            next_url=text(form, "next"),
            status_code=429 if throttled else 401,
        )
        if throttled:
            response.headers["Retry-After"] = str(result.retry_after)
        return response
    secret = result.secret
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


@router.post("/logout")
async def logout(request: Request, session: CurrentSession) -> Response:
    """End the session (CSRF-checked, so no other site can sign an admin out)."""
    check_csrf(request, session, await request.form())
    await run_in_threadpool(sign_out, request, session)
    response = RedirectResponse("/login?notice=signed-out", status_code=303)
    response.delete_cookie(
        cookie_name(request), path="/", httponly=True, samesite="strict", secure=is_https(request)
    )
    return response
