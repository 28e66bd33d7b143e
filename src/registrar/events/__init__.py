"""The 19-type catalog, the LogEvent builder and the canonical form events are stored in."""
