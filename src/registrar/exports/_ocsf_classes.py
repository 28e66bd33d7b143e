"""Which OCSF 1.3.0 class and activity each System Log ``eventType`` becomes.

The rule: an event whose first subject is a registry object that Registrar itself owns (an API server, an
MCP server, client authentication settings) is **Entity Management** (3004): the object is registered,
changed, enabled, disabled or deleted. Authorization servers are third-party: Registrar only records a
link from a resource server to an issuer it does not run, so adding, changing or removing one is an
**API Activity** (6003) about two resources (the resource server and the issuer), which API Activity's
``resources[]`` holds and Entity Management's single ``entity`` could not. Any other ``eventType`` (a
type added to the catalog later) is API Activity / Other, the default the ocsf/examples Okta mapping
uses "as this is a SaaS product".

Activate and deactivate are OCSF's Enable (8) and Disable (9), "semi-permanent, editor visible" changes
an administrator makes, rather than Activate (10), "a transient change of state of the engine"; 1.3.0
has no Deactivate to pair with Activate.

| eventType (after resource_servers.)   | class                  | activity  | entity             |
|---------------------------------------|------------------------|-----------|--------------------|
| api_server.register                   | Entity Management 3004 | 1 Create  | ApiServer          |
| api_server.update                     | Entity Management 3004 | 3 Update  | ApiServer          |
| api_server.activate                   | Entity Management 3004 | 8 Enable  | ApiServer          |
| api_server.deactivate                 | Entity Management 3004 | 9 Disable | ApiServer          |
| api_server.delete                     | Entity Management 3004 | 4 Delete  | ApiServer          |
| api_server.auth_server.add            | API Activity 6003      | 1 Create  | -                  |
| api_server.auth_server.update         | API Activity 6003      | 3 Update  | -                  |
| api_server.auth_server.remove         | API Activity 6003      | 4 Delete  | -                  |
| client_authentication_settings.create | Entity Management 3004 | 1 Create  | ClientAuthSettings |
| client_authentication_settings.update | Entity Management 3004 | 3 Update  | ClientAuthSettings |
| client_authentication_settings.delete | Entity Management 3004 | 4 Delete  | ClientAuthSettings |
| mcp_server.register                   | Entity Management 3004 | 1 Create  | McpServer          |
| mcp_server.update                     | Entity Management 3004 | 3 Update  | McpServer          |
| mcp_server.activate                   | Entity Management 3004 | 8 Enable  | McpServer          |
| mcp_server.deactivate                 | Entity Management 3004 | 9 Disable | McpServer          |
| mcp_server.delete                     | Entity Management 3004 | 4 Delete  | McpServer          |
| mcp_server.auth_server.create         | API Activity 6003      | 1 Create  | -                  |
| mcp_server.auth_server.update         | API Activity 6003      | 3 Update  | -                  |
| mcp_server.auth_server.delete         | API Activity 6003      | 4 Delete  | -                  |
| (any other eventType)                 | API Activity 6003      | 99 Other  | -                  |

The class depends on the ``eventType`` only, never on the outcome, so one query per class finds every
attempt at an operation, refused ones included.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

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
    name: str


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
UPDATE = Activity(3, "Update")
DELETE = Activity(4, "Delete")
ENABLE = Activity(8, "Enable")
DISABLE = Activity(9, "Disable")
OTHER = Activity(99, "Other")

_EM = ENTITY_MANAGEMENT
_RS = "resource_servers."

CLASSIFICATIONS: Mapping[str, Classification] = {
    _RS + "api_server.register": Classification(_EM, CREATE, "ApiServer"),
    _RS + "api_server.update": Classification(_EM, UPDATE, "ApiServer"),
    _RS + "api_server.activate": Classification(_EM, ENABLE, "ApiServer"),
    _RS + "api_server.deactivate": Classification(_EM, DISABLE, "ApiServer"),
    _RS + "api_server.delete": Classification(_EM, DELETE, "ApiServer"),
    _RS + "api_server.auth_server.add": Classification(API_ACTIVITY, CREATE),
    _RS + "api_server.auth_server.update": Classification(API_ACTIVITY, UPDATE),
    _RS + "api_server.auth_server.remove": Classification(API_ACTIVITY, DELETE),
    _RS + "client_authentication_settings.create": Classification(_EM, CREATE, "ClientAuthSettings"),
    _RS + "client_authentication_settings.update": Classification(_EM, UPDATE, "ClientAuthSettings"),
    _RS + "client_authentication_settings.delete": Classification(_EM, DELETE, "ClientAuthSettings"),
    _RS + "mcp_server.register": Classification(_EM, CREATE, "McpServer"),
    _RS + "mcp_server.update": Classification(_EM, UPDATE, "McpServer"),
    _RS + "mcp_server.activate": Classification(_EM, ENABLE, "McpServer"),
    _RS + "mcp_server.deactivate": Classification(_EM, DISABLE, "McpServer"),
    _RS + "mcp_server.delete": Classification(_EM, DELETE, "McpServer"),
    _RS + "mcp_server.auth_server.create": Classification(API_ACTIVITY, CREATE),
    _RS + "mcp_server.auth_server.update": Classification(API_ACTIVITY, UPDATE),
    _RS + "mcp_server.auth_server.delete": Classification(API_ACTIVITY, DELETE),
}
_DEFAULT = Classification(API_ACTIVITY, OTHER)


def classify(event_type: str | None) -> Classification:
    """The class and activity of ``event_type`` (API Activity / Other when the type is not ours)."""
    return CLASSIFICATIONS.get(event_type or "", _DEFAULT)
