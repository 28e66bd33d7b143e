"""The users behind API tokens and console sign-ins, read for Okta's Users API (``/api/v1/users``).

Reads only: a user is created with its first token (``registrar tokens create``) or console account, and
reading users writes no event (Okta does not audit reads either). A user is listed in ``id`` order, the
order Okta lists users in; the ``after`` cursor is the id of the last user of the previous page, as
Okta's own cursors are.

The three query languages are Okta's:

- ``search``: the SCIM grammar of the System Log filter over ``id``, ``status``, ``type.id``, the time
  properties and ``profile.login`` / ``email`` / ``displayName``; string values compare without regard to
  case, as in Okta; ``ne`` is refused, as Okta refuses it.
- ``filter``: only ``eq`` (and ``gt ge lt le`` on ``lastUpdated``), on ``id``, ``status``,
  ``lastUpdated``, ``profile.login`` and ``profile.email``; values compare exactly; no ``not``.
- ``q``: a case-insensitive prefix of the login (the email) or of a word of the display name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, false, func, or_, select, true
from sqlalchemy.engine import Connection, Row

from registrar.errors import InvalidSearchCriteria, NotFound, ValidationFailed
from registrar.store.schema import console_sessions, users
from registrar.syslog.filter import (
    And,
    Expr,
    Field,
    Not,
    Or,
    Value,
    compare_column,
    compile_filter,
    parse_filter,
)
from registrar.syslog.timeparse import parse_timestamp

from ._run import read_connection
from .deps import Deps

__all__ = [
    "ACTIVE",
    "USER_TYPE_ID",
    "UserPage",
    "UserRecord",
    "find_user",
    "list_users",
]

# Every user is ACTIVE: Registrar has no user lifecycle (a user without a live token simply cannot act).
ACTIVE = "ACTIVE"
# The one user type (Okta's ``type.id``, prefix ``oty``, 20 characters like every Okta id).
USER_TYPE_ID = "otyRegistrarUser0000"
# An ``after`` cursor is a user id; a login is at most an email's 320 characters.
_CURSOR = re.compile(r"[A-Za-z0-9]{1,64}")
_MAX_LOGIN = 320
_TIME_OPS = frozenset({"eq", "gt", "ge", "lt", "le"})
_TEXT_OPS = frozenset({"eq", "sw", "co", "pr"})
_EQ = frozenset({"eq"})


@dataclass(frozen=True, slots=True)
class UserRecord:
    """A user as the Users API shows it: who they are, when they appeared, when they last signed in."""

    id: str
    email: str
    display_name: str
    created_ms: int
    last_login_ms: int | None  # the latest console sign-in, if any


@dataclass(frozen=True, slots=True)
class UserPage:
    """One page of users and the cursor of the next, if there are more."""

    users: list[UserRecord]
    next_cursor: str | None


def _lower_text(column: ColumnElement[Any]) -> Callable[[str, Value], ColumnElement[bool]]:
    """A case-insensitive comparison on ``column`` (Okta's search compares string values that way)."""

    def predicate(op: str, value: Value) -> ColumnElement[bool]:
        folded = value.lower() if isinstance(value, str) else value
        return compare_column(func.lower(column), op, folded)

    return predicate


def _constant(actual: str) -> Callable[[str, Value], ColumnElement[bool]]:
    """A property every user has with the same value (``status``, ``type.id``)."""

    def predicate(_op: str, value: Value) -> ColumnElement[bool]:
        return true() if value == actual else false()

    return predicate


def _time(name: str) -> Callable[[str, Value], ColumnElement[bool]]:
    """A time property (all of them are the creation time: a user never changes state here)."""

    def predicate(op: str, value: Value) -> ColumnElement[bool]:
        moment = parse_timestamp(value) if isinstance(value, str) else None
        if moment is None:
            raise InvalidSearchCriteria(
                f"Invalid search criteria: {name} takes a timestamp such as 2024-01-31T00:00:00.000Z",
            )
        return compare_column(users.c.created_ms, op, int(moment.timestamp() * 1000))

    return predicate


def _search_fields() -> dict[str, Field]:
    fields = {
        "id": Field(users.c.id, ops=_EQ),
        "status": Field(users.c.id, ops=_EQ, predicate=_constant(ACTIVE), computed=False),
        "type.id": Field(users.c.id, ops=_EQ, predicate=_constant(USER_TYPE_ID), computed=False),
        "profile.login": Field(users.c.email, ops=_TEXT_OPS, predicate=_lower_text(users.c.email)),
        "profile.email": Field(users.c.email, ops=_TEXT_OPS, predicate=_lower_text(users.c.email)),
        "profile.displayName": Field(
            users.c.display_name, ops=_TEXT_OPS, predicate=_lower_text(users.c.display_name)
        ),
    }
    for name in ("created", "activated", "statusChanged", "lastUpdated"):
        fields[name] = Field(users.c.created_ms, ops=_TIME_OPS, predicate=_time(name), computed=False)
    return fields


def _filter_fields() -> dict[str, Field]:
    return {
        "id": Field(users.c.id, ops=_EQ),
        "status": Field(users.c.id, ops=_EQ, predicate=_constant(ACTIVE), computed=False),
        "lastUpdated": Field(
            users.c.created_ms, ops=_TIME_OPS, predicate=_time("lastUpdated"), computed=False
        ),
        "profile.login": Field(users.c.email, ops=_EQ),
        "profile.email": Field(users.c.email, ops=_EQ),
    }


_SEARCH_FIELDS = _search_fields()
_FILTER_FIELDS = _filter_fields()


def _has_not(expr: Expr) -> bool:
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, Not):
            return True
        if isinstance(node, And | Or):
            stack += [node.left, node.right]
    return False


def _conditions(search: str | None, filter_text: str | None, q: str | None) -> list[ColumnElement[bool]]:
    """The SQL of the three query parameters, each one that is given (together: all must hold)."""
    where: list[ColumnElement[bool]] = []
    if search:
        where.append(compile_filter(parse_filter(search), _SEARCH_FIELDS))
    if filter_text:
        expr = parse_filter(filter_text)
        if _has_not(expr):
            raise InvalidSearchCriteria("Invalid search criteria: filter does not support the not operator")
        where.append(compile_filter(expr, _FILTER_FIELDS))
    if q:
        if "\x00" in q:  # no stored text holds a NUL (PostgreSQL cannot even compare one)
            where.append(false())
        else:
            prefix = q.lower()
            name = func.lower(users.c.display_name)
            where.append(
                or_(
                    func.lower(users.c.email).startswith(prefix, autoescape=True),
                    name.startswith(prefix, autoescape=True),
                    name.contains(" " + prefix, autoescape=True),
                )
            )
    return where


def _last_logins(conn: Connection, user_ids: Sequence[str]) -> Mapping[str, int]:
    if not user_ids:
        return {}
    rows = conn.execute(
        select(console_sessions.c.user_id, func.max(console_sessions.c.created_ms))
        .where(console_sessions.c.user_id.in_(list(user_ids)))
        .group_by(console_sessions.c.user_id)
    ).all()
    return {user_id: int(at) for user_id, at in rows}


def _records(conn: Connection, rows: Sequence[Row[Any, Any, Any, Any]]) -> list[UserRecord]:
    logins = _last_logins(conn, [row.id for row in rows])
    return [
        UserRecord(row.id, row.email, row.display_name, int(row.created_ms), logins.get(row.id))
        for row in rows
    ]


_COLUMNS = (users.c.id, users.c.email, users.c.display_name, users.c.created_ms)


def list_users(
    deps: Deps,
    *,
    limit: int,
    after: str | None,
    search: str | None = None,
    filter_text: str | None = None,
    q: str | None = None,
) -> UserPage:
    """A page of users in ``id`` order after ``after``, narrowed by ``search``, ``filter`` and ``q``."""
    if after is not None and not _CURSOR.fullmatch(after):
        raise ValidationFailed(["after: The cursor is not valid"])
    query = select(*_COLUMNS).where(*_conditions(search, filter_text, q))
    if after is not None:
        query = query.where(users.c.id > after)
    with read_connection(deps) as conn:
        rows = conn.execute(query.order_by(users.c.id).limit(limit + 1)).all()
        page = _records(conn, rows[:limit])
    return UserPage(page, page[-1].id if len(rows) > limit and page else None)


def find_user(deps: Deps, id_or_login: str) -> UserRecord:
    """The user with that id, else that login (exactly, then ignoring case), else that login's unambiguous
    short name (the part before ``@``), as Okta's ``GET /api/v1/users/{idOrLogin}``; else 404."""
    if 0 < len(id_or_login) <= _MAX_LOGIN and "\x00" not in id_or_login:
        folded = id_or_login.lower()
        lookups = [
            users.c.id == id_or_login,
            users.c.email == id_or_login,
            func.lower(users.c.email) == folded,
        ]
        if "@" not in id_or_login:
            lookups.append(func.lower(users.c.email).startswith(folded + "@", autoescape=True))
        with read_connection(deps) as conn:
            for condition in lookups:
                rows = conn.execute(select(*_COLUMNS).where(condition).limit(2)).all()
                if len(rows) == 1:
                    return _records(conn, rows)[0]
    raise NotFound(id_or_login, "User")
