"""Persistence: tables, engines, migrations, the event log and the unit of work."""
