"""The operator's list of anonymizing networks (Tor exit nodes, VPN egress, open proxies)."""

from __future__ import annotations

import ipaddress
import logging
from pathlib import Path

from .networks import NetworkSet

__all__ = ["load_anonymizers"]

log = logging.getLogger(__name__)


def load_anonymizers(path: Path) -> NetworkSet:
    """Parse an anonymizer list: one IP address or CIDR per line, ``#`` starts a comment.

    Lines that are not addresses are skipped with one warning: these lists come from feeds, and one bad
    line must not blind the rest.
    """
    networks = []
    bad: list[int] = []
    for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        try:
            networks.append(ipaddress.ip_network(text, strict=False))
        except ValueError:
            bad.append(number)
    if bad:
        log.warning(
            "%s: skipped %d line(s) that are not IP addresses or networks (first: line %d)",
            path,
            len(bad),
            bad[0],
        )
    return NetworkSet(networks)
