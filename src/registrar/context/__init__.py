"""Who acted, from where, through what: the request context every event is built from.

Configuration (see ``registrar.config.Settings``):

- ``REGISTRAR_TRUSTED_PROXIES``: comma-separated CIDRs (or addresses) of proxies whose ``Forwarded`` /
  ``X-Forwarded-For`` / ``X-Forwarded-Proto`` / ``X-Forwarded-Host`` headers are believed. Default: none.
- ``REGISTRAR_NETWORK_ZONES``: ``name=cidr,cidr;name=cidr``, e.g.
  ``office=10.0.0.0/8,192.0.2.0/24;vpn=100.64.0.0/10``; ``client.zone`` is the first zone holding the
  client address, else the string ``"null"``.
- ``REGISTRAR_GEOIP_DB``: a MaxMind-format city database (state, city, postal code, coordinates).
  Without it the country comes from data shipped with ``iptocc``.
- ``REGISTRAR_ASN_DB``: a MaxMind-format ASN or ISP database (``securityContext.asNumber`` & co.).
- ``REGISTRAR_ANONYMIZER_LIST``: a file of IPs/CIDRs, one per line, ``#`` comments; clients on it are
  recorded with ``securityContext.isProxy`` true.

Files are read at start-up (a bad one fails the start) and reloaded when they change (checked with one
``stat`` every few seconds; a bad new version is logged and the previous one kept).
"""

from .enrich import Enricher
from .forwarding import external_origin
from .http import context_for_client, context_for_user, context_from_request, service_app_actor
from .jobs import SYSTEM_SCOPES, job_context
from .request import (
    SYSTEM_ACTOR,
    Actor,
    ClientInfo,
    GeoContext,
    IpHop,
    RequestContext,
    SecurityInfo,
)

__all__ = [
    "SYSTEM_ACTOR",
    "SYSTEM_SCOPES",
    "Actor",
    "ClientInfo",
    "Enricher",
    "GeoContext",
    "IpHop",
    "RequestContext",
    "SecurityInfo",
    "context_for_client",
    "context_for_user",
    "context_from_request",
    "external_origin",
    "job_context",
    "service_app_actor",
]
