"""The request context: everything about the caller that an event records."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "SYSTEM_ACTOR",
    "Actor",
    "AuthenticationProvider",
    "ClientInfo",
    "CredentialProvider",
    "CredentialType",
    "GeoContext",
    "IpHop",
    "RequestContext",
    "SecurityInfo",
]

# Okta's enumerations (okta.models.LogCredentialType & co.): the SDK's strict model rejects any other
# value, and with it the whole page a client was reading.
CredentialType = Literal[
    "ASSERTION",
    "CERTIFICATE",
    "DEVICE_UDID",
    "EMAIL",
    "IWA",
    "JWT",
    "OAuth 2.0",
    "OKTA_CLIENT_SESSION",
    "OTP",
    "PASSWORD",
    "PRE_SHARED_SYMMETRIC_KEY",
    "SMS",
]
CredentialProvider = Literal[
    "DUO",
    "GOOGLE",
    "OKTA_AUTHENTICATION_PROVIDER",
    "OKTA_CREDENTIAL_PROVIDER",
    "RSA",
    "SYMANTEC",
    "YUBIKEY",
]
AuthenticationProvider = Literal[
    "ACTIVE_DIRECTORY", "FACTOR_PROVIDER", "FEDERATION", "LDAP", "OKTA_AUTHENTICATION_PROVIDER", "SOCIAL"
]


@dataclass(frozen=True, slots=True)
class Actor:
    """The principal an event is attributed to (Okta's ``LogActor``)."""

    id: str
    type: str
    alternate_id: str
    display_name: str


SYSTEM_ACTOR = Actor(
    id="0oaRegistrarSystem00",
    type="SystemPrincipal",
    alternate_id="system@registrar",
    display_name="Registrar System",
)


@dataclass(frozen=True, slots=True)
class GeoContext:
    """Where an address is (Okta's ``geographicalContext``); ``None`` fields are unknown."""

    country: str | None = None
    state: str | None = None
    city: str | None = None
    postal_code: str | None = None
    lat: float | None = None
    lon: float | None = None


@dataclass(frozen=True, slots=True)
class IpHop:
    """One address the request passed through, client first (Okta's ``request.ipChain[]``)."""

    ip: str
    version: Literal["V4", "V6"]
    geo: GeoContext | None = None
    source: str | None = None


@dataclass(frozen=True, slots=True)
class ClientInfo:
    """The network client of a request (Okta's ``client`` and ``request.ipChain``)."""

    ip_address: str | None
    raw_user_agent: str | None
    os: str | None = None
    browser: str | None = None
    device: str | None = None
    geo: GeoContext | None = None
    zone: str | None = None
    ip_chain: tuple[IpHop, ...] = ()


@dataclass(frozen=True, slots=True)
class SecurityInfo:
    """What is known about the client's network (Okta's ``securityContext``)."""

    is_proxy: bool | None = False
    as_number: int | None = None
    as_org: str | None = None
    isp: str | None = None
    domain: str | None = None


@dataclass(frozen=True, slots=True)
class RequestContext:
    """One request or one scheduled job: the source of every event it writes."""

    request_id: str
    actor: Actor
    client: ClientInfo
    request_uri: str
    url: str
    token_id: str | None = None
    session_id: str | None = None
    scopes: frozenset[str] = frozenset()
    transaction_type: Literal["WEB", "JOB"] = "WEB"
    security: SecurityInfo = SecurityInfo()
    credential_type: CredentialType | None = None
    credential_provider: CredentialProvider | None = None
    authentication_provider: AuthenticationProvider | None = None
