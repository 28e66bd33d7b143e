"""Which OCSF 1.3.0 class and activity each System Log ``eventType`` becomes.

The rule: an event whose first subject is a registry object that Registrar itself owns (an API, MCP, A2A
or virtual MCP server, client authentication settings) is **Entity Management** (3004): the object is
registered, changed, enabled, disabled or deleted. Authorization servers are third-party: Registrar only
records a link from a resource server to an issuer it does not run, so adding, changing or removing one
is an **API Activity** (6003) about two resources (the resource server and the issuer), which API
Activity's ``resources[]`` holds and Entity Management's single ``entity`` could not. Any other
``eventType`` (a type added to the catalog later) is API Activity / Other, the default the ocsf/examples
Okta mapping uses "as this is a SaaS product".

Activate and deactivate are OCSF's Enable (8) and Disable (9), "semi-permanent, editor visible" changes
an administrator makes, rather than Activate (10), "a transient change of state of the engine"; 1.3.0
has no Deactivate to pair with Activate.

The table is made from the audited event types' names, ``resource_servers.<kind>.<operation>``
(``events.catalog.AUDITED``: Okta's 29 and Registrar's extensions), so every one of them has a row:

| eventType (after ``resource_servers.``)  | class                  | activity  |
|------------------------------------------|------------------------|-----------|
| ``<kind>.register``, ``<kind>.create``   | Entity Management 3004 | 1 Create  |
| ``<kind>.update``                        | Entity Management 3004 | 3 Update  |
| ``<kind>.activate``                      | Entity Management 3004 | 8 Enable  |
| ``<kind>.deactivate``                    | Entity Management 3004 | 9 Disable |
| ``<kind>.delete``                        | Entity Management 3004 | 4 Delete  |
| ``<kind>.<link>.add``, ``….create``      | API Activity 6003      | 1 Create  |
| ``<kind>.<link>.update``                 | API Activity 6003      | 3 Update  |
| ``<kind>.<link>.remove``, ``….delete``   | API Activity 6003      | 4 Delete  |
| ``mcp_server.capability.discover``       | API Activity 6003      | 2 Read    |
| (any other eventType)                    | API Activity 6003      | 99 Other  |

A ``<link>`` is ``auth_server`` or ``capability``. Entity Management's ``entity`` is the target of the
kind's type: ``api_server`` ApiServer, ``mcp_server`` McpServer, ``a2a_server`` A2aServer,
``virtual_mcp_server`` VirtualMcpServer, ``client_authentication_settings`` ClientAuthSettings.
A virtual MCP server's capability is a link too, from the virtual server to a tool of an MCP server
(targets: the virtual server, the tool, its MCP server). A tool discovery reads an MCP server's tools
with a credential: API Activity / Read over the server, the tool whose definition it recorded (old and
new in ``changeDetails``) and the client authentication settings it used.

The class depends on the ``eventType`` only, never on the outcome, so one query per class finds every
attempt at an operation, refused ones included.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from registrar.events.catalog import AUDITED

__all__ = [
    "API_ACTIVITY",
    "CLASSIFICATIONS",
    "ENTITY_MANAGEMENT",
    "Activity",
    "Classification",
    "OcsfClass",
    "classify",
]


@dataclass(frozen=True, slots=True)
class OcsfClass:
    """An OCSF event class, its category, and the profiles our records of it use."""

    uid: int
    name: str
    category_uid: int
    category_name: str
    # ``datetime`` for ``time_dt``; Entity Management needs ``host`` to carry ``actor`` at all (1.3.0).
    profiles: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Activity:
    """An ``activity_id`` and its caption."""

    id: int
    name: str  # the schema's caption of the id (``activity_name``)


@dataclass(frozen=True, slots=True)
class Classification:
    """Where one ``eventType`` lands: class, activity, and (Entity Management) the target it manages."""

    ocsf_class: OcsfClass
    activity: Activity
    entity_type: str | None = None

    @property
    def type_uid(self) -> int:
        """OCSF's ``type_uid``: ``class_uid * 100 + activity_id``."""
        return self.ocsf_class.uid * 100 + self.activity.id


API_ACTIVITY = OcsfClass(6003, "API Activity", 6, "Application Activity", ("datetime",))
ENTITY_MANAGEMENT = OcsfClass(
    3004, "Entity Management", 3, "Identity & Access Management", ("datetime", "host")
)

CREATE = Activity(1, "Create")
READ = Activity(2, "Read")
UPDATE = Activity(3, "Update")
DELETE = Activity(4, "Delete")
ENABLE = Activity(8, "Enable")
DISABLE = Activity(9, "Disable")
OTHER = Activity(99, "Other")

# What a kind's object is called in event targets, by the kind's segment of the eventType.
_ENTITY_TYPES: Mapping[str, str] = {
    "api_server": "ApiServer",
    "mcp_server": "McpServer",
    "a2a_server": "A2aServer",
    "virtual_mcp_server": "VirtualMcpServer",
    "client_authentication_settings": "ClientAuthSettings",
}
_MANAGED = {"register": CREATE, "create": CREATE, "update": UPDATE, "activate": ENABLE, "deactivate": DISABLE}
_LINKED = {"add": CREATE, "create": CREATE, "update": UPDATE, "remove": DELETE, "delete": DELETE}


def _classification(event_type: str) -> Classification:
    """The row of the table above for an audited ``resource_servers.*`` type."""
    kind, _, operation = event_type.removeprefix("resource_servers.").partition(".")
    if operation in (*_MANAGED, "delete"):
        return Classification(ENTITY_MANAGEMENT, _MANAGED.get(operation, DELETE), _ENTITY_TYPES[kind])
    if operation == "capability.discover":
        return Classification(API_ACTIVITY, READ)
    return Classification(API_ACTIVITY, _LINKED[operation.rpartition(".")[2]])


CLASSIFICATIONS: Mapping[str, Classification] = {name: _classification(name) for name in AUDITED}
_DEFAULT = Classification(API_ACTIVITY, OTHER)


def classify(event_type: str | None) -> Classification:
    """The class and activity of ``event_type`` (API Activity / Other when the type is not ours)."""
    return CLASSIFICATIONS.get(event_type or "", _DEFAULT)
