"""Detection tests: the rules run over events the product wrote through its HTTP API, on both backends."""

from __future__ import annotations

from tests.exports.traffic import loopback_discovery, mcp_site, metadata_site

__all__ = ["loopback_discovery", "mcp_site", "metadata_site"]
