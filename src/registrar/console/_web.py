"""The console's HTTP plumbing: templates, security headers, sessions from cookies, CSRF, the audit context.

Every console route uses ``ConsoleRoute``, which adds the security headers to whatever the route returns
(pages, redirects, fragments, errors) and turns "not signed in" and "bad CSRF token" into the right
response for a page load or an htmx request.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Coroutine, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar
from urllib.parse import quote

from fastapi import Depends, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from registrar.context import RequestContext, context_for_user, external_origin
from registrar.controls import escape_controls
from registrar.discovery import FetchPolicy
from registrar.errors import RegistrarError
from registrar.services.deps import Deps

from ._forms import NOTICES, FormErrors, errors_of
from ._jsonview import visible_json
from ._sessions import ConsoleSession, csrf_matches, load_session

if TYPE_CHECKING:  # registrar.api imports the console: a runtime import would be circular
    from registrar.api.slow_work import SlowWork

T = TypeVar("T")

__all__ = [
    "STATIC_PATH",
    "ConsoleRoute",
    "ConsoleStatic",
    "CsrfRejected",
    "CurrentSession",
    "LoginRequired",
    "PollingSession",
    "ScopeMissing",
    "attempt",
    "attempt_discovery",
    "attempt_on",
    "audit_context",
    "check_csrf",
    "cookie_name",
    "deps_of",
    "fetch_policy",
    "is_https",
    "listed",
    "not_found",
    "notice_of",
    "posted",
    "render",
    "require_scopes",
    "see_other",
    "templates",
]

_HERE = Path(__file__).parent
STATIC_PATH = "/console/static"

# No inline script or style anywhere: the chart's data travels in a non-executable JSON <script> block.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    # Console pages show registry state and audit events: nothing is kept in caches or the back-forward cache.
    "Cache-Control": "no-store",
}


class LoginRequired(Exception):
    """No live console session: send the browser to the sign-in page."""


class CsrfRejected(Exception):
    """A state-changing request without the session's CSRF token."""


class ScopeMissing(Exception):
    """The session's scopes do not allow reading this page."""

    def __init__(self, scopes: tuple[str, ...]):
        super().__init__(", ".join(scopes))
        self.scopes = scopes


def _static_versions() -> dict[str, str]:
    # A content hash in every static URL: browsers cache the files for good, yet never serve stale ones.
    versions = {}
    for path in (_HERE / "static").rglob("*"):
        if path.is_file():
            relative = path.relative_to(_HERE / "static").as_posix()
            versions[relative] = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    return versions


_VERSIONS = _static_versions()


def _static_url(name: str) -> str:
    return f"{STATIC_PATH}/{name}?v={_VERSIONS.get(name, '0')}"


def _timestamp(ms: int | None) -> str:
    if ms is None:
        return "—"
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


templates = Jinja2Templates(directory=_HERE / "templates")
templates.env.globals["static"] = _static_url
templates.env.filters["timestamp"] = _timestamp
templates.env.filters["urlquote"] = lambda value: quote(str(value), safe="")
templates.env.filters["visible_json"] = visible_json  # a str: escaped like any other value
# Every value a page shows may have come from outside (remote metadata, an old event): control and
# invisible format characters are shown as visible escapes, before HTML escaping. TAB, LF and CR stay,
# so that a description round-trips through its form.
templates.env.finalize = lambda value: (
    escape_controls(value, keep_line_breaks=True) if isinstance(value, str) else value
)


class ConsoleStatic(StaticFiles):
    """The console's CSS, JS and vendored libraries, with the same hardening headers as the pages."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        """Serve a static file with nosniff, a long cache (URLs are versioned) and no framing."""
        response = super().file_response(*args, **kwargs)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        response.headers["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'none'"
        return response


def _is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


class ConsoleRoute(APIRoute):
    """A console route: security headers on every response; sign-in redirects; CSRF rejections."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """Wrap the endpoint (and its dependencies) so their console exceptions become pages."""
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                response = await original(request)
            except LoginRequired:
                response = _to_login(request)
            except CsrfRejected:
                response = render(request, "error.html", {"title": "Request refused", "kind": "csrf"}, 403)
            except ScopeMissing as missing:
                context = {"title": "Not allowed", "kind": "scope", "scopes": missing.scopes}
                response = render(request, "error.html", context, 403)
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
            return response

        return handler


def _to_login(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    location = "/login" if target in {"/", "/logout"} else f"/login?next={quote(target, safe='')}"
    if _is_htmx(request):
        # htmx follows HX-Redirect with a full page load (a plain 303 would be swapped into the page).
        return Response(status_code=401, headers={"HX-Redirect": location})
    return RedirectResponse(location, status_code=303)


def deps_of(request: Request) -> Deps:
    """The application's service dependencies."""
    deps: Deps = request.app.state.deps
    return deps


def fetch_policy(request: Request) -> FetchPolicy:
    """The operator's SSRF policy for what the console's operations fetch, exactly as the API applies it."""
    return FetchPolicy.from_settings(deps_of(request).settings)


def is_https(request: Request) -> bool:
    """Whether the browser reached us over https (directly or through a trusted proxy)."""
    scheme, _ = external_origin(request.scope, request.app.state.enricher.trusted_proxies)
    return scheme == "https"


def cookie_name(request: Request) -> str:
    """The session cookie's name: the ``__Host-`` prefix (Secure, host-only, Path=/) whenever https."""
    return "__Host-registrar_session" if is_https(request) else "registrar_session"


def _session(request: Request, *, touch: bool) -> ConsoleSession:
    secret = request.cookies.get(cookie_name(request))
    if not secret:
        raise LoginRequired()
    session = load_session(deps_of(request).engine, secret, touch=touch)
    if session is None:
        raise LoginRequired()
    request.state.console_session = session
    return session


def _active_session(request: Request) -> ConsoleSession:
    return _session(request, touch=True)


def _polling_session(request: Request) -> ConsoleSession:
    # Automatic polling (live mode) is not the user's activity: it must not keep an idle session alive.
    return _session(request, touch=False)


# Sync dependencies: FastAPI runs them in the thread pool, so the session lookup never blocks the loop.
CurrentSession = Annotated[ConsoleSession, Depends(_active_session)]
PollingSession = Annotated[ConsoleSession, Depends(_polling_session)]


def check_csrf(request: Request, session: ConsoleSession, form: Mapping[str, Any]) -> None:
    """Refuse a state-changing request that lacks the session's synchronizer token (form field or header)."""
    presented = form.get("csrf_token") or request.headers.get("x-csrf-token")
    if not csrf_matches(session, presented if isinstance(presented, str) else None):
        raise CsrfRejected()


async def posted(request: Request, session: ConsoleSession) -> tuple[FormData, RequestContext]:
    """A submitted form whose CSRF token matches the session's, and the audit context of what it asks."""
    form = await request.form()
    check_csrf(request, session, form)
    return form, audit_context(request, session)


def see_other(location: str) -> RedirectResponse:
    """After a form's action succeeded: the page to show, loaded with GET (a reload does not repeat it)."""
    return RedirectResponse(location, status_code=303)


def require_scopes(session: ConsoleSession, *any_of: str) -> None:
    """Refuse a page whose data the session may not read (it holds none of ``any_of``)."""
    if not session.scopes.intersection(any_of):
        raise ScopeMissing(any_of)


def audit_context(request: Request, session: ConsoleSession) -> RequestContext:
    """The event context of a console action: the same enrichment as an API call, the console session."""
    return context_for_user(
        request.scope,
        request.app.state.enricher,
        session.user,
        session_id=session.id,
        scopes=session.scopes,
        token_id=session.token_id,
        credential_type="PASSWORD" if session.credential == "PASSWORD" else None,
    )


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A page (or fragment) rendered with the session, its CSRF token and the current path at hand."""
    session: ConsoleSession | None = getattr(request.state, "console_session", None)
    values = {
        "session": session,
        "csrf_token": session.csrf_token if session else "",
        "path": request.url.path,
        **(context or {}),
    }
    return templates.TemplateResponse(request, template, values, status_code=status_code, headers=headers)


async def attempt(call: Callable[..., T], *args: Any) -> tuple[T | None, FormErrors | None]:
    """Run a service call in the thread pool; a ``RegistrarError`` (already audited) becomes form errors."""
    try:
        return await run_in_threadpool(call, *args), None
    except RegistrarError as error:
        return None, errors_of(error)


async def attempt_discovery(
    request: Request, session: ConsoleSession, call: Callable[..., T], *args: Any
) -> tuple[T | None, FormErrors | None]:
    """``attempt`` for an operation that discovers: on the app's discovery capacity, as the API runs it
    (``registrar.api.slow_work``), so console users cannot starve the shared thread pool either."""
    discoveries: SlowWork = request.app.state.discoveries
    try:
        return await discoveries.run(session.token_id or session.user.id, call, *args), None
    except RegistrarError as error:
        return None, errors_of(error)


async def attempt_on(
    request: Request, session: ConsoleSession, fetches: bool, call: Callable[..., T], *args: Any
) -> tuple[T | None, FormErrors | None]:
    """``attempt_discovery`` for an operation that reads the network (``fetches``), else ``attempt``."""
    if fetches:
        return await attempt_discovery(request, session, call, *args)
    return await attempt(call, *args)


def listed(call: Callable[..., Any], **arguments: Any) -> tuple[list[Any], str | None, FormErrors | None]:
    """One page of a list (its items and the next page's cursor), or the error its filter or cursor made."""
    try:
        page = call(**arguments)
    except RegistrarError as error:
        return [], None, errors_of(error)
    return list(page.items), page.next_cursor, None


def notice_of(request: Request) -> str | None:
    """The message a redirect asked the page to show (``?notice=``), from the fixed set."""
    return NOTICES.get(request.query_params.get("notice") or "")


def not_found(request: Request, object_id: str) -> Response:
    """The console's 404 page: the object may have been deleted; its events are still in the log."""
    context = {"title": "Not found", "kind": "missing", "object_id": object_id}
    return render(request, "error.html", context, 404)
