"""``GET /api/v1/users[/{idOrLogin}]``: Okta's Users API for the principals that appear as actors.

Okta's shapes: a list is a bare JSON array whose pages are linked by ``Link`` headers (``self`` first,
then ``next`` while more remain), a user is Okta's ``User`` object. What Okta keeps and Registrar does not
(a password's age, a user type of one's own, a lifecycle) is written as Okta writes a user that never had
it: ``passwordChanged`` null, one user type, ``ACTIVE`` since creation. Profile values stay within the
bounds of Okta's user profile schema (the okta SDK refuses a whole page otherwise): ``firstName`` and
``lastName`` (the display name split at its last space) at most 50 characters, ``email`` only when it
is 5 to 100 characters long (``login`` always carries it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response

from registrar.ids import format_ms
from registrar.params import bounded_int
from registrar.scopes import USERS_READ
from registrar.services.users import ACTIVE, USER_TYPE_ID, UserRecord, find_user, list_users
from registrar.syslog.links import link_headers

from ..deps import CurrentToken, ServiceDeps
from ..responses import base_url, json_response
from ..security import require_scope

__all__ = ["router", "user_json"]

router = APIRouter(tags=["Users"])

USERS = "/api/v1/users"
_NAME_MAX = 50  # Okta's user profile schema: firstName and lastName are 1 to 50 characters
_EMAIL_RANGE = range(5, 101)  # ... and an email 5 to 100


def _names(display_name: str) -> tuple[str | None, str | None]:
    """(firstName, lastName): the display name split at its last space; one word is a first name."""
    first, _, last = display_name.strip().rpartition(" ")
    if not first:
        first, last = last, ""
    return (first.strip()[:_NAME_MAX] or None), (last.strip()[:_NAME_MAX] or None)


def user_json(user: UserRecord, base: str) -> dict[str, Any]:
    """A user as Okta's ``User`` object."""
    first, last = _names(user.display_name)
    created = format_ms(user.created_ms)
    return {
        "id": user.id,
        "status": ACTIVE,
        "created": created,
        "activated": created,
        "statusChanged": created,
        "lastLogin": format_ms(user.last_login_ms),
        "lastUpdated": created,
        "passwordChanged": None,
        "type": {"id": USER_TYPE_ID},
        "profile": {
            "firstName": first,
            "lastName": last,
            "displayName": user.display_name,
            "login": user.email,
            "email": user.email if len(user.email) in _EMAIL_RANGE else None,
        },
        "credentials": {"provider": {"type": "OKTA", "name": "OKTA"}},
        "_links": {"self": {"href": f"{base}{USERS}/{user.id}"}},
    }


def _url(origin: str, path: str, params: Mapping[str, str]) -> str:
    # Every value percent-encoded but RFC 3986's unreserved characters: nothing can split a Link header.
    query = "&".join(f"{quote(k, safe='-._~')}={quote(v, safe='-._~')}" for k, v in params.items())
    return f"{origin}{path}?{query}" if query else f"{origin}{path}"


@router.get(USERS)
def list_users_route(
    request: Request,
    deps: ServiceDeps,
    token: CurrentToken,
    search: Annotated[str | None, Query(description='SCIM expression, e.g. profile.login sw "a"')] = None,
    filter: Annotated[str | None, Query(description='e.g. profile.login eq "alice@example.com"')] = None,
    q: Annotated[str | None, Query(description="Prefix of the login or of a word of the name")] = None,
    limit: Annotated[str | None, Query(description="1..200; default 200, 10 with q")] = None,
    after: Annotated[str | None, Query(description="The cursor of the next link")] = None,
) -> Response:
    """List users (Okta's ``listUsers``), in id order, searched, filtered or found by prefix."""
    require_scope(token, USERS_READ)
    size = bounded_int(limit, "limit", low=1, high=200, default=10 if q else 200)
    page = list_users(deps, limit=size, after=after or None, search=search, filter_text=filter, q=q)
    origin, path = base_url(request), request.url.path
    params = dict(request.query_params)
    base = {k: v for k, v in params.items() if k != "after"}
    next_url = None if page.next_cursor is None else _url(origin, path, {"after": page.next_cursor, **base})
    response = json_response([user_json(user, origin) for user in page.users])
    response.raw_headers.extend(link_headers(_url(origin, path, params), next_url))
    return response


@router.get(USERS + "/{id_or_login}")
def get_user_route(request: Request, id_or_login: str, deps: ServiceDeps, token: CurrentToken) -> Response:
    """Retrieve a user by id, login or login short name (``me``: the token's own user)."""
    require_scope(token, USERS_READ)
    user = find_user(deps, token.user.id if id_or_login == "me" else id_or_login)
    return json_response(user_json(user, base_url(request)))
