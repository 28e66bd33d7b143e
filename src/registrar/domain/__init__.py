"""Entities, statuses, lifecycle rules and input validation: pure code, no I/O."""
