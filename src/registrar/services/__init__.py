"""Use cases: one function per operation, each run as one audited unit of work."""
