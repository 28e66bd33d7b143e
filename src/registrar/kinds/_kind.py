"""The strategy of a resource-server kind: what the shared services, routes and JSON need to know of it.

Everything a kind does like the others (identity, ORN, lifecycle, the delete rule, linked authorization
servers, search, PATCH of ``metadata``, auditing) is implemented once, in ``registrar.services`` and
``registrar.api``. A ``Kind`` says only what differs: its ``Names``, its event type per operation
(``events_named``), its request ``Bodies``, and how it learns about a server: ``Entered`` (nothing is
detected, an admin enters the authorization servers) or ``Discovered`` (what is fetched before the
registration's transaction, the detected-metadata codec, the authorization servers found).

Operations (the keys of ``Kind.events``): ``register``, ``update``, ``activate``, ``deactivate``,
``delete``, and for linked authorization servers ``auth.link`` (added by an admin or found by discovery),
``auth.update`` and ``auth.unlink``. An operation a kind lacks has no event type and no route.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import ColumnElement, select
from sqlalchemy.engine import Connection

from registrar.discovery import AuthServerResult, FetchPolicy
from registrar.domain.inputs import ServerMetadataPatch, _Body, parse_body
from registrar.domain.resources import AuthServer, NoMetadata, ResourceServer
from registrar.errors import DiscoveryFailed
from registrar.events import catalog as ev
from registrar.events.catalog import AUDITED, EventType, Target
from registrar.store.json_fields import json_text
from registrar.store.schema import resource_auth_servers, resource_servers
from registrar.store.uow import UnitOfWork
from registrar.syslog.filter import Field, Value, compare_column

__all__ = [
    "AuthAdd",
    "Bodies",
    "Changes",
    "Discovered",
    "Entered",
    "Kind",
    "Names",
    "Prepared",
    "Registration",
    "events_named",
    "orn",
]

Changes = tuple[dict[str, Any], dict[str, Any]]
# How an admin links an authorization server: by entering its endpoints, by naming its issuer (its
# metadata is then discovered), or not at all (discovery alone links them).
AuthAdd = Literal["entered", "issuer"] | None
# ``ev.mcp_server_target`` and its like: (id, resourceUrl, displayName, status, detected JSON, changes).
DetectedTarget = Callable[[str, str, str, str, str, Changes | None], Target]

_EQ = frozenset({"eq"})
_TEXT = frozenset({"eq", "sw", "co"})


def orn(org_id: str, segment: str, server_id: str) -> str:
    """The ORN of a resource server."""
    return f"orn:registrar:directory:{org_id}:resource-servers:{segment}:{server_id}"


def events_named(
    prefix: str, *, register: str = "register", link: str = "add", unlink: str = "remove"
) -> dict[str, EventType]:
    """A kind's event type per operation, from the audited types named ``resource_servers.{prefix}.*``."""
    names = {
        "register": register,
        "update": "update",
        "activate": "activate",
        "deactivate": "deactivate",
        "delete": "delete",
        "auth.link": f"auth_server.{link}",
        "auth.update": "auth_server.update",
        "auth.unlink": f"auth_server.{unlink}",
    }
    found = {op: AUDITED.get(f"resource_servers.{prefix}.{name}") for op, name in names.items()}
    return {op: event_type for op, event_type in found.items() if event_type is not None}


@dataclass(frozen=True, slots=True)
class Names:
    """How a kind is called: key, label, target type, id prefix, and the scopes that read it."""

    key: str  # the ``kind`` column: api, mcp, a2a, vmcp
    label: str  # "API server": in messages and titles
    entity: str  # the target type of its servers, e.g. ApiServer
    id_prefix: str
    read_scopes: tuple[str, ...]
    segment: str = ""  # the ORN segment and the stem of the wire path; the key when empty
    article: str = "An"
    auth_entity: str = "ExternalAuthServer"  # the target type of its authorization servers


@dataclass(frozen=True, slots=True)
class Bodies:
    """The request bodies of registration and of a PATCH."""

    create: type[_Body]
    patch: type[_Body]


@dataclass(frozen=True, slots=True)
class Registration:
    """A registration body, read: the URL, the admin's names, and the whole parsed body (for extras)."""

    resource_url: str | None
    display_name: str | None
    description: str | None
    body: Any


@dataclass(frozen=True, slots=True)
class Prepared:
    """What a registration learnt before its transaction (network I/O): nothing, for most kinds."""

    detected: Any
    detected_name: str | None = None  # the name the server gives itself, used when the admin gave none
    authorization_servers: tuple[AuthServerResult, ...] = ()


@dataclass(frozen=True, slots=True)
class Entered:
    """A kind that detects nothing: an admin enters its authorization servers (endpoints, grant types)."""

    target: Callable[[ResourceServer[Any], str, Changes | None], Target]  # (server, orn, changes)
    auth_target: Callable[[AuthServer[Any], Changes | None], Target] = field(
        default_factory=lambda: _entered_auth_target
    )
    auth_patch: bool = True
    plain_change_keys: bool = True  # changeDetails say displayName / description, not <kind>DisplayName


@dataclass(frozen=True, slots=True)
class Discovered:
    """A kind whose registration fetches what it detects and the authorization servers it names."""

    codec: Any  # the detected metadata's type: ``from_json(data)``, ``to_json()``, ``to_event()``
    target: DetectedTarget
    fetch: Callable[[str, FetchPolicy], Any]  # (resourceUrl, policy) -> a result with ``first_error``
    prepared: Callable[[Any], Prepared]  # what registration keeps of that result
    auth_add: AuthAdd = None
    searchable: Mapping[str, str] = field(default_factory=dict)  # detectedMetadata.* filter -> JSON member
    extra_links: tuple[str, ...] = ()  # POST actions of its own, linked from a server's JSON
    register_event_first: bool = True  # False: the authorization servers' events come before register's
    auth_targets_server_first: bool = True


def _entered_auth_target(auth: AuthServer[Any], changes: Changes | None = None) -> Target:
    entered = auth.detected
    return ev.api_auth_server_target(
        auth.id,
        auth.issuer,
        entered.authorization_endpoint,
        entered.token_endpoint,
        entered.grant_types_supported,
        changes,
    )


def discovered_auth_target(auth: AuthServer[Any], changes: Changes | None = None) -> Target:
    """``ExternalAuthServer``: an authorization server whose metadata was discovered."""
    return ev.external_auth_server_target(
        auth.id, auth.issuer, auth.status, auth.detected.to_event(), changes
    )


def _has_auth_server(op: str, value: Value) -> ColumnElement[bool]:
    # "servers one of whose authorization servers has this id" (the filter is on the child table).
    owners = select(resource_auth_servers.c.server_id).where(
        compare_column(resource_auth_servers.c.id, op, value)
    )
    return resource_servers.c.id.in_(owners)


class Kind:
    """One kind of resource server. Subclass it to add to a registration or a deletion (the hooks)."""

    def __init__(
        self, names: Names, events: Mapping[str, EventType], bodies: Bodies, how: Entered | Discovered
    ):
        self.names = names
        self.events = dict(events)
        self.bodies = bodies
        self.how = how

    def __repr__(self) -> str:
        return f"Kind({self.key!r})"

    # --- names -----------------------------------------------------------------------------------------

    @property
    def key(self) -> str:
        return self.names.key

    @property
    def orn_segment(self) -> str:
        return self.names.segment or self.names.key

    @property
    def path(self) -> str:
        """The wire path under /resource-servers/api/v1/, e.g. ``api-servers``."""
        return f"{self.orn_segment}-servers"

    @property
    def id_prefix(self) -> str:
        return self.names.id_prefix

    @property
    def entity(self) -> str:
        return self.names.entity

    @property
    def auth_entity(self) -> str:
        return self.names.auth_entity

    @property
    def label(self) -> str:
        return self.names.label

    @property
    def name(self) -> str:
        """``An API server``: the kind's label with its article."""
        return f"{self.names.article} {self.names.label}"

    @property
    def link_name(self) -> str:
        """An authorization server's link to its server, e.g. ``apiServer``."""
        return self.entity[0].lower() + self.entity[1:]

    @property
    def read_scopes(self) -> tuple[str, ...]:
        return self.names.read_scopes

    @property
    def manage_scope(self) -> str:
        """The scope that allows the kind's changes."""
        return self.events["register"].scope

    def orn(self, org_id: str, server_id: str) -> str:
        """The ORN of a server of this kind."""
        return orn(org_id, self.orn_segment, server_id)

    # --- bodies and behaviour ------------------------------------------------------------------------

    @property
    def create_model(self) -> type[_Body]:
        return self.bodies.create

    @property
    def patch_model(self) -> type[_Body]:
        return self.bodies.patch

    @property
    def change_keys(self) -> dict[str, str]:
        """The ``changeDetails`` keys of a metadata PATCH."""
        if isinstance(self.how, Entered) and self.how.plain_change_keys:
            return {"display_name": "displayName", "description": "description"}
        return {"display_name": f"{self.link_name}DisplayName", "description": f"{self.link_name}Description"}

    @property
    def fetches(self) -> bool:
        """Registration reads the network (it runs on the discovery capacity)."""
        return isinstance(self.how, Discovered)

    @property
    def detects(self) -> bool:
        """Its JSON carries detectedMetadata and the embedded authorization servers."""
        return isinstance(self.how, Discovered)

    @property
    def auth_add(self) -> AuthAdd:
        return "entered" if isinstance(self.how, Entered) else self.how.auth_add

    @property
    def auth_patch(self) -> bool:
        return isinstance(self.how, Entered) and self.how.auth_patch and "auth.update" in self.events

    @property
    def auth_remove(self) -> bool:
        return self.auth_add is not None and "auth.unlink" in self.events

    @property
    def register_event_first(self) -> bool:
        return not isinstance(self.how, Discovered) or self.how.register_event_first

    @property
    def extra_links(self) -> tuple[str, ...]:
        return self.how.extra_links if isinstance(self.how, Discovered) else ()

    # --- stored values and targets -------------------------------------------------------------------

    def detected_from_json(self, data: Mapping[str, Any]) -> Any:
        """The kind's detected metadata, from its stored JSON."""
        codec = self.how.codec if isinstance(self.how, Discovered) else NoMetadata
        return codec.from_json(data)

    def nothing_detected(self) -> Any:
        """The detected metadata of a server nothing has been learnt about yet."""
        return self.detected_from_json({})

    def server_target(self, server: ResourceServer[Any], orn: str, changes: Changes | None = None) -> Target:
        """The event target describing a server."""
        how = self.how
        if isinstance(how, Entered):
            return how.target(server, orn, changes)
        detected = server.detected.to_event()
        return how.target(server.id, server.url, server.display_name, server.status, detected, changes)

    def auth_target(self, auth: AuthServer[Any], changes: Changes | None = None) -> Target:
        """The event target describing a linked authorization server."""
        if isinstance(self.how, Entered):
            return self.how.auth_target(auth, changes)
        return discovered_auth_target(auth, changes)

    def auth_event_targets(
        self, server: ResourceServer[Any], orn: str, auth: AuthServer[Any], changes: Changes | None = None
    ) -> list[Target]:
        """The targets of an authorization-server event, in the kind's order."""
        pair = [self.server_target(server, orn), self.auth_target(auth, changes)]
        server_first = not isinstance(self.how, Discovered) or self.how.auth_targets_server_first
        return pair if server_first else pair[::-1]

    # --- registration and deletion (hooks) -----------------------------------------------------------

    def parse_registration(self, body: bytes) -> Registration:
        """Read and validate a registration body."""
        data, _ = parse_body(body, self.create_model)
        meta = getattr(data, "metadata", None) or ServerMetadataPatch()
        return Registration(getattr(data, "resourceUrl", None), meta.displayName, meta.description, data)

    def prepare(self, registration: Registration, policy: FetchPolicy) -> Prepared:
        """What must be learnt before the server is stored (network I/O); raises ``DiscoveryFailed``."""
        how = self.how
        if isinstance(how, Entered) or registration.resource_url is None:
            return Prepared(self.nothing_detected())
        found = how.fetch(registration.resource_url, policy)
        if found.first_error is not None:
            raise DiscoveryFailed(found.first_error)
        return how.prepared(found)

    def on_registered(
        self, uow: UnitOfWork, server: ResourceServer[Any], orn: str, registration: Registration
    ) -> None:
        """More to store (and audit) in a registration's transaction: nothing, for most kinds."""

    def on_delete(self, uow: UnitOfWork, server: ResourceServer[Any], orn: str) -> None:
        """What goes (and is audited) with a server, before its authorization servers and itself."""

    def on_updated(self, uow: UnitOfWork, server: ResourceServer[Any], orn: str, patch: Any) -> bool:
        """What a PATCH changes (and audits) beyond ``metadata``, after it: nothing, for most kinds.

        True when it changed something (the server's ``lastUpdated`` then moves).
        """
        return False

    def extras(self, conn: Connection, servers: Sequence[ResourceServer[Any]]) -> dict[str, dict[str, Any]]:
        """Members of each server's JSON that the kind keeps in tables of its own (by server id, read for a
        whole page at once): none, for most kinds."""
        return {server.id: {} for server in servers}

    # --- search --------------------------------------------------------------------------------------

    def search_fields(self, dialect: str) -> dict[str, Field]:
        """The SCIM ``search`` attributes of a list of servers of this kind."""
        fields = {
            "status": Field(resource_servers.c.status, ops=_EQ),
            "metadata.displayName": Field(resource_servers.c.display_name, ops=_TEXT),
            "resourceUrl": Field(resource_servers.c.resource_url, ops=frozenset({"eq", "sw"})),
            "authorizationServerId": Field(resource_servers.c.id, ops=_EQ, predicate=_has_auth_server),
        }
        searchable = self.how.searchable if isinstance(self.how, Discovered) else {}
        for attribute, member in searchable.items():
            fields[attribute] = Field(
                json_text(dialect, resource_servers.c.detected_metadata, member), ops=_TEXT
            )
        return fields

    def auth_filter_fields(self) -> dict[str, Field]:
        """The ``filter`` attributes of a list of a server's authorization servers."""
        return {
            "status": Field(resource_auth_servers.c.status, ops=_EQ),
            "issuer": Field(resource_auth_servers.c.issuer, ops=frozenset({"eq", "sw"})),
        }
