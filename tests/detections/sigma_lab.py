"""Running the Sigma rules in ``detections/`` over events the product wrote, as a SIEM would.

Each rule is converted by pySigma's SQLite backend (``pySigma-backend-sqlite``: plain rules to ``SELECT``
statements, correlation rules to window-function queries) and run against an in-memory SQLite table of
flattened events: one column per dotted LogEvent path (``actor.alternateId``, ``outcome.result``, ...),
columns collated NOCASE because Sigma matches case-insensitively (SQLite identifiers are case-insensitive
too, which is what lets the rules use Sigma's lowercase Okta field names). ``target[]`` is an array, which
Sigma cannot address: an event becomes one row per target, so ``target.*`` conditions hold for *one*
element, as the System Log's own ``target.id eq`` filter does; correlations count events by ``uuid``,
not rows.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sigma.backends.sqlite.sqlite import sqliteBackend
from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule
from sigma.rule import SigmaRule

__all__ = ["RULES", "Hit", "SigmaLab"]

# pySigma-backend-sqlite has no type hints (pySigma itself has): its backend is used as Any.
SqliteBackend: Any = sqliteBackend
RULES = Path(__file__).resolve().parents[2] / "detections" / "rules"
TABLE = "logs"


@dataclass(frozen=True, slots=True)
class Hit:
    """One result of a rule: the matching event (plain rule) or the events of one alert (correlation)."""

    uuids: frozenset[str]
    group: Mapping[str, Any]


def _flatten(value: Any, path: str, row: dict[str, Any]) -> None:
    if isinstance(value, Mapping):
        for key, member in value.items():
            _flatten(member, f"{path}.{key}" if path else key, row)
    elif isinstance(value, list):
        row[path] = json.dumps(value)
    elif isinstance(value, bool):
        row[path] = "true" if value else "false"  # what Sigma rules compare booleans with
    else:
        row[path] = value


def event_rows(event: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """The rows of one event: its members flattened, once per element of ``target`` (at least once)."""
    common: dict[str, Any] = {}
    _flatten({k: v for k, v in event.items() if k != "target"}, "", common)
    for target in event.get("target") or [None]:
        row = dict(common)
        if target is not None:
            _flatten(target, "target", row)
        yield row


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class SigmaLab:
    """Every rule of ``detections/`` compiled once, and a table of events to run them on."""

    def __init__(self, events: Sequence[Mapping[str, Any]]):
        self._db = sqlite3.connect(":memory:")
        self._queries: dict[str, list[str]] = {}
        self._fields: set[str] = set()
        self._compile()
        self._load(events)

    def close(self) -> None:
        """Drop the table."""
        self._db.close()

    def _compile(self) -> None:
        rules = SigmaCollection.load_ruleset([RULES])
        rules.resolve_rule_references()
        backend = SqliteBackend(table=TABLE, timestamp_field="published", event_id_field="uuid")
        backend.init_processing_pipeline(None)
        # Files list base rules before the correlations that use them, as the backend needs.
        for rule in rules:
            key = str(rule.name or rule.title)
            if isinstance(rule, SigmaRule):
                backend.convert_rule(rule)
                self._fields.update(backend.required_fields(rule))
                # A rule a correlation uses comes back as a bare condition; run it on its own too.
                self._queries[key] = [
                    query if query.startswith("SELECT") else f"SELECT * FROM {TABLE} WHERE {query}"
                    for query in rule.get_conversion_result()
                ]
            elif isinstance(rule, SigmaCorrelationRule):
                self._queries[key] = backend.convert_correlation_rule(rule)
                self._fields.update(rule.group_by or [])
                fieldref = getattr(rule.condition, "fieldref", None)
                if isinstance(fieldref, str):
                    self._fields.add(fieldref)

    def _load(self, events: Sequence[Mapping[str, Any]]) -> None:
        rows = [row for event in events for row in event_rows(event)]
        columns: dict[str, str] = {}  # lower-case name -> name; SQLite names are case-insensitive
        for name in [key for row in rows for key in row] + sorted(self._fields) + ["uuid", "published"]:
            columns.setdefault(name.lower(), name)
        names = list(columns.values())
        self._db.execute(f"CREATE TABLE {TABLE} ({', '.join(f'{_quote(n)} COLLATE NOCASE' for n in names)})")
        placeholders = ", ".join("?" for _ in names)
        self._db.executemany(
            f"INSERT INTO {TABLE} VALUES ({placeholders})",
            [[row.get(name) for name in names] for row in rows],
        )

    def rule_names(self) -> list[str]:
        """The name (or title) of every rule loaded."""
        return sorted(self._queries)

    def hits(self, rule: str) -> list[Hit]:
        """What ``rule`` reports on the loaded events."""
        hits: list[Hit] = []
        events: dict[str, None] = {}  # a plain rule matches one row per matching target: count events once
        for query in self._queries[rule]:
            cursor = self._db.execute(query)
            columns = [c[0] for c in cursor.description]
            for values in cursor.fetchall():
                row = dict(zip(columns, values, strict=True))
                if "event_ids" in row:  # a correlation alert: evidence ids are "e:<source>:<uuid>"
                    uuids = frozenset(str(e).rsplit(":", 1)[-1] for e in json.loads(row["event_ids"]))
                    hits.append(Hit(uuids, json.loads(row["group_keys"])))
                else:
                    events[str(row["uuid"])] = None
        return hits + [Hit(frozenset({uuid}), {}) for uuid in events]

    def matching_events(self, rule: str) -> set[str]:
        """The uuids of every event ``rule`` reports, over all its hits."""
        return {uuid for hit in self.hits(rule) for uuid in hit.uuids}

    def without_earlier(self, rule: str, earlier: str, on: str) -> set[str]:
        """Events of ``rule`` whose ``on`` field has no event of ``earlier`` at or before them.

        The anti-join a SIEM runs where Sigma cannot state an absence (see detections/README.md).
        """
        (matches,) = self._queries[rule]
        (before,) = self._queries[earlier]
        field = _quote(on)
        query = (
            f"SELECT DISTINCT a.uuid FROM ({matches}) a WHERE NOT EXISTS "
            f"(SELECT 1 FROM ({before}) b WHERE b.{field} = a.{field} AND b.published <= a.published)"
        )
        return {str(row[0]) for row in self._db.execute(query)}
