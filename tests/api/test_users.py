"""Okta's Users API over the principals behind tokens: shapes, paging by Link headers, lookups by id and
login, ``search`` / ``filter`` / ``q``, scopes, and reads that write no event (on SQLite and PostgreSQL).

The real okta SDK reading the same API from a live server is in ``test_users_okta_sdk.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from starlette.testclient import TestClient

from ..conftest import MakeToken
from ..console.conftest import Console

USERS = "/api/v1/users"
READ = "okta.users.read"
Events = Callable[[], list[dict[str, Any]]]
PEOPLE = [
    ("alice@example.com", "Alice Admin"),
    ("bob@example.com", "Bob"),
    ("carol.smith@corp.example", "Carol Ann Smith"),
    ("dave@corp.example", "Dave Davies"),
]


@pytest.fixture
def people(make_token: MakeToken) -> dict[str, str]:
    """Four users, each with a token (a user exists once a token acts as them); email -> token."""
    return {email: make_token(email=email, display_name=name) for email, name in PEOPLE}


def _get(client: TestClient, auth: dict[str, str], path: str = USERS, **params: Any) -> Any:
    response = client.get(path, params=params, headers=auth)
    assert response.status_code == 200, response.text
    return response


def _logins(response: Any) -> list[str]:
    return [user["profile"]["login"] for user in response.json()]


def _links(response: Any) -> list[tuple[str, str]]:
    """(rel, url) of each Link header, in order."""
    found = []
    for header in response.headers.get_list("link"):
        url, _, rel = header.partition(">; rel=")
        found.append((rel.strip('"'), url.lstrip("<")))
    return found


def test_a_user_in_okta_shape(client: TestClient, auth: dict[str, str], people: dict[str, str]) -> None:
    users = _get(client, auth).json()
    assert isinstance(users, list)
    carol = next(u for u in users if u["profile"]["login"] == "carol.smith@corp.example")
    assert carol["id"].startswith("00u") and len(carol["id"]) == 20
    assert carol["status"] == "ACTIVE"
    assert carol["created"].endswith("Z")
    assert carol["activated"] == carol["statusChanged"] == carol["lastUpdated"] == carol["created"]
    assert (carol["lastLogin"], carol["passwordChanged"]) == (None, None)
    assert carol["type"] == {"id": "otyRegistrarUser0000"}
    assert carol["profile"] == {
        "firstName": "Carol Ann",
        "lastName": "Smith",
        "displayName": "Carol Ann Smith",
        "login": "carol.smith@corp.example",
        "email": "carol.smith@corp.example",
    }
    assert carol["credentials"] == {"provider": {"type": "OKTA", "name": "OKTA"}}
    self_url = carol["_links"]["self"]["href"]
    assert self_url == f"http://testserver{USERS}/{carol['id']}"
    assert _get(client, auth, urlsplit(self_url).path).json() == carol
    bob = next(u for u in users if u["profile"]["login"] == "bob@example.com")
    assert (bob["profile"]["firstName"], bob["profile"]["lastName"]) == ("Bob", None)


def test_users_are_listed_in_id_order_and_paged_by_link_headers(
    client: TestClient, auth: dict[str, str], people: dict[str, str]
) -> None:
    everyone = _get(client, auth).json()
    ids = [u["id"] for u in everyone]
    assert sorted(_logins(_get(client, auth))) == sorted(email for email, _ in PEOPLE)
    assert len(set(ids)) == len(PEOPLE)

    seen: list[str] = []
    response = _get(client, auth, limit=1)
    while True:
        seen += [u["id"] for u in response.json()]
        links = _links(response)
        assert links[0][0] == "self"  # the okta SDK keeps only the last Link header: next goes last
        if len(links) == 1:
            break
        (rel, url) = links[1]
        assert rel == "next"
        query = parse_qs(urlsplit(url).query)
        assert query["limit"] == ["1"] and query["after"] == [seen[-1]]
        response = _get(client, auth, urlsplit(url).path, **{k: v[0] for k, v in query.items()})
    assert seen == ids
    assert _links(_get(client, auth))[1:] == []  # everything on one page: no next


def test_paging_keeps_the_query_and_encodes_it(
    client: TestClient, auth: dict[str, str], people: dict[str, str]
) -> None:
    search = 'profile.displayName co "a" or profile.login eq "x,y;z"'
    expected = [u["id"] for u in _get(client, auth).json() if "a" in u["profile"]["displayName"].lower()]
    assert len(expected) == 3
    first = _get(client, auth, search=search, limit=2)
    (_, self_url), (_, next_url) = _links(first)
    assert parse_qs(urlsplit(self_url).query)["search"] == [search]
    assert "%2C" in next_url and "%3B" in next_url and "," not in next_url and ";" not in next_url
    second = client.get(next_url, headers=auth)
    assert second.status_code == 200
    assert [u["id"] for u in first.json() + second.json()] == expected
    assert _links(second)[1:] == []


def _id_of(client: TestClient, auth: dict[str, str], login: str) -> str:
    user_id: str = _get(client, auth, f"{USERS}/{login}").json()["id"]
    return user_id


def test_a_user_is_found_by_id_login_any_case_short_name_or_me(
    client: TestClient, make_token: MakeToken, people: dict[str, str]
) -> None:
    auth = {"Authorization": f"SSWS {people['dave@corp.example']}"}
    dave = _get(client, auth, f"{USERS}/dave@corp.example").json()
    for key in (dave["id"], "Dave@Corp.Example", "dave", "DAVE", "me"):
        assert _get(client, auth, f"{USERS}/{key}").json() == dave, key
    # A short name that two logins share names nobody.
    make_token(email="dave@elsewhere.example", display_name="Other Dave")
    missing = client.get(f"{USERS}/dave", headers=auth)
    assert missing.status_code == 404
    assert _get(client, auth, f"{USERS}/dave@corp.example").json() == dave


def test_an_unknown_user_is_okta_404(
    client: TestClient, auth: dict[str, str], people: dict[str, str]
) -> None:
    for key in ("00uNoSuchUser0000000", "nobody@example.com", "a\x00b", "x" * 400):
        response = client.get(f"{USERS}/{quote(key, safe='@')}", headers=auth)
        assert response.status_code == 404, key
        body = response.json()
        assert body["errorCode"] == "E0000007"
        assert body["errorSummary"].startswith("Not found: Resource not found:")


def test_search_compares_logins_and_names_without_regard_to_case(
    client: TestClient, auth: dict[str, str], people: dict[str, str]
) -> None:
    def found(expression: str) -> list[str]:
        return sorted(_logins(_get(client, auth, search=expression)))

    assert found('profile.login eq "BOB@example.com"') == ["bob@example.com"]
    assert found('profile.login sw "Carol"') == ["carol.smith@corp.example"]
    assert found('profile.email co "@corp."') == ["carol.smith@corp.example", "dave@corp.example"]
    assert found('profile.displayName eq "dave davies" or profile.login eq "bob@example.com"') == [
        "bob@example.com",
        "dave@corp.example",
    ]
    assert found('status eq "ACTIVE" and type.id eq "otyRegistrarUser0000"') == sorted(p for p, _ in PEOPLE)
    assert found('status eq "DEPROVISIONED"') == []
    assert found('created gt "2000-01-01T00:00:00.000Z" and created lt "2999-01-01T00:00:00.000Z"') == sorted(
        p for p, _ in PEOPLE
    )
    assert found('lastUpdated lt "2000-01-01T00:00:00.000Z"') == []
    alice_id = _id_of(client, auth, "alice@example.com")
    assert found(f'id eq "{alice_id}"') == ["alice@example.com"]


def test_a_search_okta_refuses_is_a_400(
    client: TestClient, auth: dict[str, str], people: dict[str, str]
) -> None:
    for expression, code in [
        ('profile.login ne "bob@example.com"', "E0000031"),  # Okta's search has no ne
        ('created gt "yesterday"', "E0000031"),
        ('profile.nickName eq "x"', "E0000053"),
        ('profile.login eq "x', "E0000053"),
    ]:
        response = client.get(USERS, params={"search": expression}, headers=auth)
        assert response.status_code == 400, (expression, response.text)
        assert response.json()["errorCode"] == code, expression


def test_filter_is_exact_and_eq_only(
    client: TestClient, auth: dict[str, str], people: dict[str, str]
) -> None:
    def found(expression: str) -> list[str]:
        return sorted(_logins(_get(client, auth, filter=expression)))

    assert found('profile.login eq "bob@example.com"') == ["bob@example.com"]
    assert found('profile.login eq "BOB@example.com"') == []  # Okta's filter is case-sensitive
    assert found('profile.email eq "alice@example.com" or profile.login eq "dave@corp.example"') == [
        "alice@example.com",
        "dave@corp.example",
    ]
    assert found('status eq "ACTIVE" and lastUpdated gt "2000-01-01T00:00:00.000Z"') == sorted(
        p for p, _ in PEOPLE
    )
    for refused in ('profile.login sw "bob"', 'not (profile.login eq "bob@example.com")'):
        response = client.get(USERS, params={"filter": refused}, headers=auth)
        assert response.status_code == 400, refused
        assert response.json()["errorCode"] == "E0000031"


def test_q_is_a_prefix_of_the_login_or_of_a_word_of_the_name(
    client: TestClient, auth: dict[str, str], make_token: MakeToken, people: dict[str, str]
) -> None:
    def found(**params: Any) -> list[str]:
        return sorted(_logins(_get(client, auth, **params)))

    assert found(q="car") == ["carol.smith@corp.example"]
    assert found(q="SMI") == ["carol.smith@corp.example"]  # a later word of the name
    assert found(q="dav") == ["dave@corp.example"]
    assert found(q="corp") == []  # not a prefix of anything
    assert found(q="100%") == []  # LIKE wildcards are literal
    for i in range(11):
        make_token(email=f"quinn{i:02d}@example.com", display_name=f"Quinn {i}")
    assert len(found(q="quinn")) == 10  # Okta's default limit with q
    assert len(found(q="quinn", limit=20)) == 11


def test_bad_paging_parameters_are_okta_400(client: TestClient, auth: dict[str, str]) -> None:
    for params in ({"limit": "0"}, {"limit": "201"}, {"limit": "x"}, {"after": "a b"}):
        response = client.get(USERS, params=params, headers=auth)
        assert response.status_code == 400, params
        assert response.json()["errorCode"] == "E0000001"


def test_reading_users_needs_the_scope_and_writes_no_event(
    client: TestClient, make_token: MakeToken, people: dict[str, str], events: Events
) -> None:
    before = events()
    missing = client.get(USERS)
    assert (missing.status_code, missing.json()["errorCode"]) == (401, "E0000011")
    logs_only = {"Authorization": f"SSWS {make_token('okta.logs.read', email='siem@example.com')}"}
    for path in (USERS, f"{USERS}/alice@example.com", f"{USERS}/me"):
        denied = client.get(path, headers=logs_only)
        assert (denied.status_code, denied.json()["errorCode"]) == (403, "E0000006"), path
    readers = {"Authorization": f"SSWS {make_token(READ, email='reader@example.com')}"}
    assert len(_get(client, readers).json()) == len(PEOPLE) + 2
    _get(client, readers, f"{USERS}/me")
    assert events() == before


def test_last_login_is_the_latest_console_sign_in(
    client: TestClient, auth: dict[str, str], people: dict[str, str]
) -> None:
    assert _get(client, auth, f"{USERS}/bob@example.com").json()["lastLogin"] is None
    signed_in = Console(client).login_token(people["bob@example.com"])
    assert signed_in.status_code == 303, signed_in.text
    bob = _get(client, auth, f"{USERS}/bob@example.com").json()
    assert bob["lastLogin"] is not None and bob["lastLogin"] >= bob["created"]
    assert _get(client, auth, f"{USERS}/alice@example.com").json()["lastLogin"] is None


def test_profile_values_stay_within_oktas_bounds(
    client: TestClient, auth: dict[str, str], make_token: MakeToken
) -> None:
    long_email = "x" * 110 + "@example.com"
    make_token(email=long_email, display_name="Maximilian-Alexander " + "L" * 60)
    user = _get(client, auth, f"{USERS}/{long_email}").json()
    assert user["profile"]["login"] == long_email
    assert user["profile"]["email"] is None  # Okta's email is at most 100 characters; login carries it
    assert user["profile"]["firstName"] == "Maximilian-Alexander"
    assert user["profile"]["lastName"] == "L" * 50
    assert user["profile"]["displayName"] == "Maximilian-Alexander " + "L" * 60
