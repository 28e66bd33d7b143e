"""Named network zones (``client.zone``): the first zone holding the client's address, else ``"null"``."""

from __future__ import annotations

from collections.abc import Sequence

from .networks import IPAddress, NetworkSet, parse_networks

__all__ = ["NO_ZONE", "NetworkZones"]

# Okta writes the string "null", not JSON null, when no zone matches; SIEM rules are written against it.
NO_ZONE = "null"


class NetworkZones:
    """Zones in the operator's order; an address in several belongs to the first."""

    __slots__ = ("_zones",)

    def __init__(self, zones: Sequence[tuple[str, NetworkSet]] = ()) -> None:
        self._zones = tuple(zones)

    @classmethod
    def from_config(cls, zones: Sequence[tuple[str, Sequence[str]]]) -> NetworkZones:
        """Zones from ``Settings.network_zones``; ``ValueError`` naming the zone for a bad network."""
        return cls(
            [
                (name, NetworkSet(parse_networks(cidrs, source=f"REGISTRAR_NETWORK_ZONES ({name})")))
                for name, cidrs in zones
            ]
        )

    def zone_of(self, address: IPAddress | None) -> str:
        """The name of the zone ``address`` is in, or ``"null"``."""
        if address is not None:
            for name, networks in self._zones:
                if address in networks:
                    return name
        return NO_ZONE
