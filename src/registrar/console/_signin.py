"""Signing in and out, audited as Okta does: ``user.session.start`` (SUCCESS, or FAILURE with Okta's
reason) and ``user.session.end``, each in the transaction that opens or ends the session.

The actor is the account the attempt names; an attempt naming no account gets Okta's unknown-user actor,
built from the submitted login (bounded, control characters dropped). ``externalSessionId`` is the console
session's public id. Throttled attempts (:mod:`._throttle`) are refused before any credential is checked and
recorded as FAILURE ``LOCKED_OUT``, with the limit that refused them in ``debugData``.
"""

from __future__ import annotations

import dataclasses
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from fastapi import Request

from registrar.context import Actor, RequestContext, context_for_user
from registrar.domain.entities import User
from registrar.events.catalog import USER_SESSION_END, USER_SESSION_START
from registrar.store.tokens import note_token_use
from registrar.store.uow import unit_of_work

from ._accounts import MAX_LOGIN_LENGTH, Check, find_user, store_rehash, verify_password, verify_token
from ._sessions import ConsoleSession, end_session, load_session, new_session_id, open_session
from ._throttle import SignInThrottle
from ._web import audit_context, cookie_name, deps_of

__all__ = ["Attempt", "SignInResult", "sign_in", "sign_out"]

LOCKED_OUT = "LOCKED_OUT"
_UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Attempt:
    """What the sign-in form submitted."""

    method: Literal["password", "token"]
    login: str = ""
    password: str = ""
    token: str = ""


@dataclass(frozen=True, slots=True)
class SignInResult:
    """A new session's cookie secret; or nothing (refused); or how long to wait (throttled)."""

    secret: str | None = None
    retry_after: int | None = None


def _printable(text: str) -> str:
    """``text`` without control or format characters, cut to an email address's length."""
    kept = "".join(ch for ch in text.strip() if not unicodedata.category(ch).startswith("C"))
    return kept[:MAX_LOGIN_LENGTH]


def _actor(user: User | None, attempt: Attempt) -> Actor:
    if user is not None:
        return Actor(id=user.id, type="User", alternate_id=user.email, display_name=user.display_name)
    login = _printable(attempt.login) if attempt.method == "password" else ""
    return Actor(id=_UNKNOWN, type="User", alternate_id=login or _UNKNOWN, display_name=_UNKNOWN)


def _context(request: Request, attempt: Attempt) -> RequestContext:
    """The sign-in request's context, before anyone is known: client, network, transaction."""
    nobody = User(id=_UNKNOWN, email=_UNKNOWN, display_name=_UNKNOWN)
    ctx = context_for_user(
        request.scope, request.app.state.enricher, nobody, session_id="", scopes=frozenset()
    )
    if attempt.method == "token":  # Okta has no credential type for an API token
        return dataclasses.replace(ctx, session_id=None)
    return dataclasses.replace(
        ctx,
        session_id=None,
        credential_type="PASSWORD",
        credential_provider="OKTA_CREDENTIAL_PROVIDER",
        authentication_provider="OKTA_AUTHENTICATION_PROVIDER",
    )


def _refuse(
    request: Request, ctx: RequestContext, reason: str, debug: Mapping[str, object] | None = None
) -> None:
    with unit_of_work(deps_of(request).engine, ctx) as uow:
        uow.record(USER_SESSION_START, [], outcome="FAILURE", reason=reason, debug=debug)


def sign_out(request: Request, session: ConsoleSession) -> None:
    """End ``session`` and write its ``user.session.end`` (nothing when it had already ended)."""
    with unit_of_work(deps_of(request).engine, audit_context(request, session)) as uow:
        if end_session(uow.conn, session.id):
            uow.record(USER_SESSION_END, [])


def _check(request: Request, attempt: Attempt) -> Check:
    with deps_of(request).engine.connect().execution_options(sqlite_immediate=False) as conn:
        if attempt.method == "token":
            return verify_token(conn, attempt.token)
        return verify_password(conn, attempt.login, attempt.password)


def sign_in(request: Request, attempt: Attempt) -> SignInResult:
    """Throttle, check the credential, and on success open a session (ending this browser's old one)."""
    deps = deps_of(request)
    ctx = _context(request, attempt)
    throttle = SignInThrottle.from_settings(deps.engine, deps.settings)
    login = attempt.login if attempt.method == "password" else None
    reservation = throttle.reserve(login=login, address=ctx.client.ip_address)
    if reservation.refused_by is not None:
        user = None
        if login is not None:
            with deps.engine.connect().execution_options(sqlite_immediate=False) as conn:
                user = find_user(conn, login)
        debug = {"signInThrottle": reservation.refused_by, "retryAfterSeconds": reservation.retry_after}
        _refuse(request, dataclasses.replace(ctx, actor=_actor(user, attempt)), LOCKED_OUT, debug)
        return SignInResult(retry_after=reservation.retry_after)
    check = _check(request, attempt)
    credential = check.credential
    if credential is None:
        _refuse(
            request, dataclasses.replace(ctx, actor=_actor(check.user, attempt)), check.reason or _UNKNOWN
        )
        return SignInResult()
    previous = request.cookies.get(cookie_name(request))
    old = load_session(deps.engine, previous, touch=False) if previous else None
    if old is not None:
        sign_out(request, old)  # a new sign-in never keeps the old session id
    session_id = new_session_id()
    started = dataclasses.replace(
        ctx,
        actor=_actor(credential.user, attempt),
        session_id=session_id,
        scopes=credential.scopes,
        token_id=credential.token_id,
    )
    with unit_of_work(deps.engine, started) as uow:
        throttle.release(uow.conn, reservation)
        if check.rehash is not None:
            store_rehash(uow.conn, credential.user, check.rehash)
        _, secret = open_session(
            uow.conn,
            credential,
            ip_address=ctx.client.ip_address,
            user_agent=request.headers.get("user-agent"),
            session_id=session_id,
        )
        uow.record(USER_SESSION_START, [])
    if credential.token_id is not None:
        note_token_use(deps.engine, credential.token_id)
    return SignInResult(secret=secret)
