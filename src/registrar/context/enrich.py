"""The ``Enricher``: everything a request's context is enriched with, set up once per process."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import maxminddb

from .anonymizers import load_anonymizers
from .asn import AsnInfo, AsnLookup
from .forwarding import read_forwarding, resolve_client
from .geo import GeoLocator, open_mmdb
from .networks import IPAddress, NetworkSet, parse_networks
from .request import ClientInfo, IpHop, SecurityInfo
from .useragent import MAX_USER_AGENT_LENGTH, parse_user_agent, truncate_user_agent
from .watched import WatchedFile
from .zones import NO_ZONE, NetworkZones

if TYPE_CHECKING:
    from registrar.config import Settings

__all__ = ["Enricher"]

_NO_ASN = AsnInfo()


class Enricher:
    """Turns a peer address and request headers into ``ClientInfo`` and ``SecurityInfo``.

    Databases and lists are opened here, once, and reloaded only when their files change; every lookup
    is in memory and cached, so the request path does no network I/O and almost no file I/O.
    """

    def __init__(
        self,
        *,
        trusted_proxies: NetworkSet | None = None,
        zones: NetworkZones | None = None,
        geo: GeoLocator | None = None,
        asn: AsnLookup | None = None,
        anonymizers: WatchedFile[NetworkSet] | None = None,
    ) -> None:
        self.trusted_proxies = trusted_proxies or NetworkSet()
        self.zones = zones or NetworkZones()
        self.geo = geo or GeoLocator()
        self.asn = asn
        self.anonymizers = anonymizers
        parse_user_agent("Mozilla/5.0")  # load ua-parser's rules now rather than in the first request

    @classmethod
    def from_settings(cls, settings: Settings) -> Enricher:
        """An enricher for ``settings``; a bad network or an unreadable file fails here, at start-up."""
        city_db: WatchedFile[maxminddb.Reader] | None = None
        if settings.geoip_db is not None:
            city_db = WatchedFile(settings.geoip_db, open_mmdb)
        return cls(
            trusted_proxies=NetworkSet(
                parse_networks(settings.trusted_proxies, source="REGISTRAR_TRUSTED_PROXIES")
            ),
            zones=NetworkZones.from_config(settings.network_zones),
            geo=GeoLocator(city_db),
            asn=AsnLookup(WatchedFile(settings.asn_db, open_mmdb)) if settings.asn_db else None,
            anonymizers=WatchedFile(settings.anonymizer_list, load_anonymizers)
            if settings.anonymizer_list
            else None,
        )

    def is_anonymizer(self, address: IPAddress | None) -> bool:
        """Whether ``address`` is on the operator's anonymizer list."""
        return address is not None and self.anonymizers is not None and address in self.anonymizers.get()

    def describe(
        self, headers: Sequence[tuple[bytes, bytes]], peer: str | None
    ) -> tuple[ClientInfo, SecurityInfo]:
        """The client and security context of a request from ``peer`` with ASGI ``headers``."""
        walk = resolve_client(read_forwarding(headers), peer, self.trusted_proxies)
        # Cut before decoding (one latin-1 character per byte): a huge header costs nothing downstream.
        raw = next((v[: MAX_USER_AGENT_LENGTH + 1] for k, v in headers if k == b"user-agent"), None)
        raw_agent = truncate_user_agent(raw.decode("latin-1")) if raw is not None else None
        agent = parse_user_agent(raw_agent)
        chain = tuple(
            IpHop(str(address), "V4" if address.version == 4 else "V6", self.geo.locate(address))
            for address in walk.chain
        )
        address = walk.client
        asn = self.asn.lookup(address) if self.asn is not None and address is not None else _NO_ASN
        client = ClientInfo(
            ip_address=chain[0].ip if chain else None,  # the walk puts the client first
            raw_user_agent=raw_agent,
            os=agent.os,
            browser=agent.browser,
            device=agent.device,
            geo=chain[0].geo if chain else None,
            zone=self.zones.zone_of(address) if address is not None else NO_ZONE,
            ip_chain=chain,
        )
        security = SecurityInfo(
            is_proxy=walk.via_untrusted_proxy or self.is_anonymizer(address),
            as_number=asn.as_number,
            as_org=asn.as_org,
            isp=asn.isp,
            domain=asn.domain,
        )
        return client, security
