"""System Log benchmark: ``GET /api/v1/logs`` over N stored events, against the raw SQLite floor.

    .venv/bin/python bench/bench_syslog.py [--events N] [--db PATH]

1. Builds (or reuses, with ``--db`` naming a database that already holds >= N events) a SQLite database of
   N realistic events, written by the production code: ``build_event`` from a ``RequestContext``, targets
   from the catalog's builders, ``append_events`` in transactions of ``--batch`` events.
2. Starts a real ``registrar serve`` (one worker) on that database with a token from ``registrar tokens
   create`` and measures, over HTTP with one keep-alive client:
   a. events/s served by ``limit=1000`` polling pages (following ``next`` from ``since=2000-01-01``);
   b. the floors, in the same run: the same pages as a raw ``sqlite3`` SELECT of the stored bytes (no HTTP),
      and served by a bare Starlette endpoint on uvicorn doing that raw SELECT (HTTP, no Registrar);
   c. p50/p99 of a filtered page ``eventType eq .. and target.id eq ..`` (limit 100);
   d. p50/p99 of a ``q`` keyword page (limit 100), rare to very frequent keywords;
   e. the server's RSS after the run.
   Prints a table against the targets of issue 3 and writes ``bench/results/syslog.json``.

Not part of the test suite. Without ``--db`` the database lives in a temporary directory and is deleted.
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import http.client
import json
import os
import platform
import random
import shutil
import socket
import sqlite3
import statistics
import string
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import orjson

from registrar.context import Actor, ClientInfo, RequestContext
from registrar.events import catalog as ev
from registrar.events.builder import build_event
from registrar.events.catalog import CATALOG, EventType, Target, target
from registrar.syslog.keywords import fts5_query
from registrar.store.database import create_database_engine, migrate
from registrar.store.eventlog import append_events

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "syslog.json"

TARGETS = {
    "served_events_per_s": 200_000,  # 100x Okta's documented ceiling of 2,000 events/s
    "served_to_raw_ratio": 0.5,
    "filtered_p99_ms": 30.0,
    "q_p99_ms": 100.0,
}
SINCE = "2000-01-01T00:00:00.000Z"
POLL_PAGES = 300
PAGE_LIMIT = 1000
ROUNDS = 3  # served/raw passes, alternating; medians reported
RAW_PAGE_SQL = "SELECT seq, CAST(body AS BLOB) FROM log_events WHERE seq > ? ORDER BY seq LIMIT ?"
# The same pages' best possible SQL, for the latency floors of the filtered and keyword pages.
RAW_FILTER_SQL = (
    "SELECT e.seq, CAST(e.body AS BLOB) FROM log_event_targets t JOIN log_events e ON e.seq = t.seq "
    "WHERE t.target_id = ? AND t.event_type = ? ORDER BY t.seq LIMIT 100"
)
RAW_FTS_SQL = (
    "SELECT e.seq, CAST(e.body AS BLOB) FROM log_event_fts f JOIN log_events e ON e.seq = f.rowid "
    "WHERE log_event_fts MATCH ? ORDER BY f.rowid LIMIT 100"
)
EPOCH = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)  # events are spaced ~13 s apart from here on
SPACING_MS = 13_000


# --------------------------------------------------------------------------------------------------
# The world the events describe: users, tokens, 20,000 resource servers, their auth servers & settings
# --------------------------------------------------------------------------------------------------

_BASE62 = string.digits + string.ascii_letters
_FIRST = (
    "james mary robert patricia john jennifer michael linda david elizabeth william barbara richard susan "
    "joseph jessica thomas sarah charles karen christopher lisa daniel nancy matthew betty anthony sandra "
    "mark margaret donald ashley steven kimberly andrew emily paul donna joshua michelle kenneth carol "
    "kevin amanda brian melissa george deborah timothy stephanie ronald rebecca jason sharon edward laura "
    "aiko mateo priya lukas chen fatima olga raj ingrid kofi"
).split()
_LAST = (
    "smith johnson williams brown jones garcia miller davis rodriguez martinez hernandez lopez gonzalez "
    "wilson anderson thomas taylor moore jackson martin lee perez thompson white harris sanchez clark "
    "ramirez lewis robinson walker young allen king wright scott torres nguyen hill flores green adams "
    "nelson baker hall rivera campbell mitchell carter roberts tanaka muller kowalski okafor larsen novak"
).split()
_ADJECTIVES = (
    "Orion Aurora Cobalt Crimson Falcon Granite Harbor Indigo Juniper Kestrel Lumen Meridian Nimbus "
    "Obsidian Polar Quartz Redwood Sapphire Tundra Vertex Willow Zenith Atlas Beacon Cascade Delta Ember "
    "Fjord Glacier Helix"
).split()
_NOUNS = (
    "Ledger Billing Payments Inventory Catalog Search Identity Profile Orders Shipping Analytics Reporting "
    "Notifications Pricing Claims Underwriting Scheduling Messaging Documents Onboarding Compliance Risk "
    "Fraud Loyalty Ticketing Telemetry Forecast Procurement Payroll Benefits Contracts Vendors Assets"
).split()
_SYLLABLES = "ba be bi bo bu da de di do du ka ke ki ko ku la le li lo lu ma me mi mo mu na ne ni no nu ra re ri ro ru sa se si so su ta te ti to tu va ve vi vo vu za ze zi zo zu".split()  # noqa: E501
_DOMAINS = ("acme-corp.example", "globex.example", "initech.example", "umbrella.example", "hooli.example")
_ISSUER_HOSTS = (
    "login.microsoftonline.com",
    "accounts.google.com",
    "github.com/login/oauth",
    "auth0.example.com",
    "keycloak.internal.example",
    "id.atlassian.com",
    "slack.com",
    "login.salesforce.com",
)
_GRANTS = (
    ("authorization_code", "refresh_token"),
    ("client_credentials",),
    ("authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:token-exchange"),
    ("authorization_code", "client_credentials", "refresh_token"),
)
_SCOPES = ("repo", "read", "write", "admin", "openid", "profile", "email", "offline_access", "tools:call")
_USER_AGENTS = (
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
     "Safari/537.36", "Windows 10", "CHROME", "Computer"),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 "
     "Safari/605.1.15", "Mac OS X", "SAFARI", "Computer"),
    ("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", "Linux", "FIREFOX", "Computer"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
     "Safari/537.36 Edg/131.0.0.0", "Windows 10", "EDGE_CHROMIUM", "Computer"),
    ("okta-sdk-python/2.9.8 python/3.11.9 Linux/6.8.0-1017-aws", "Linux", "UNKNOWN", "Unknown"),
    ("Terraform/1.9.8 (+https://www.terraform.io) Terraform-Plugin-SDK/2.10.1 terraform-provider-okta/4.11.1",
     "Unknown", "UNKNOWN", "Unknown"),
    ("okta-sdk-java/16.0.0 java/17.0.12 Linux/5.15.0-1071-azure", "Linux", "UNKNOWN", "Unknown"),
    ("python-requests/2.32.3", "Unknown", "UNKNOWN", "Unknown"),
    ("curl/8.5.0", "Unknown", "UNKNOWN", "Unknown"),
)

# eventType -> weight: updates and automated MCP refreshes dominate, deletes are rare.
_MIX: dict[str, int] = {
    ev.API_SERVER_REGISTER.name: 5,
    ev.API_SERVER_UPDATE.name: 12,
    ev.API_SERVER_ACTIVATE.name: 4,
    ev.API_SERVER_DEACTIVATE.name: 3,
    ev.API_SERVER_DELETE.name: 2,
    ev.API_AUTH_SERVER_ADD.name: 4,
    ev.API_AUTH_SERVER_UPDATE.name: 4,
    ev.API_AUTH_SERVER_REMOVE.name: 2,
    ev.CLIENT_AUTH_SETTINGS_CREATE.name: 4,
    ev.CLIENT_AUTH_SETTINGS_UPDATE.name: 5,
    ev.CLIENT_AUTH_SETTINGS_DELETE.name: 2,
    ev.MCP_SERVER_REGISTER.name: 6,
    ev.MCP_SERVER_UPDATE.name: 18,
    ev.MCP_SERVER_ACTIVATE.name: 4,
    ev.MCP_SERVER_DEACTIVATE.name: 3,
    ev.MCP_SERVER_DELETE.name: 2,
    ev.MCP_AUTH_SERVER_CREATE.name: 6,
    ev.MCP_AUTH_SERVER_UPDATE.name: 8,
    ev.MCP_AUTH_SERVER_DELETE.name: 2,
}
assert set(_MIX) == set(CATALOG), "the mix must cover the catalog's 19 event types"


def _id(rng: random.Random, prefix: str) -> str:
    return prefix + "".join(rng.choice(_BASE62) for _ in range(20 - len(prefix)))


def _hex(rng: random.Random, n: int) -> str:
    return f"{rng.getrandbits(4 * n):0{n}x}"


@dataclasses.dataclass(slots=True)
class User:
    actor: Actor
    tokens: list[tuple[str, str]]  # (token id, session id)
    agents: list[int]
    ips: list[str]


@dataclasses.dataclass(slots=True)
class Server:
    id: str
    mcp: bool
    slug: str  # a display-name token unique to this server: the rare keyword
    display_name: str
    resource_url: str
    description: str
    orn: str
    auth_servers: list[dict[str, Any]]
    settings: tuple[str, str, str]  # id, orn, name


class World:
    """Deterministic (seeded) users and resource servers, and an event generator over them."""

    def __init__(self, servers: int, seed: int = 20261124):
        rng = random.Random(seed)
        self.org = _id(rng, "00o")
        self.users: list[User] = []
        seen: set[str] = set()
        while len(self.users) < 300:
            first, last = rng.choice(_FIRST), rng.choice(_LAST)
            email = f"{first}.{last}@{rng.choice(_DOMAINS)}"
            if email in seen:
                continue
            seen.add(email)
            actor = Actor(_id(rng, "00u"), "User", email, f"{first.title()} {last.title()}")
            tokens = [(_id(rng, "00T"), _hex(rng, 32)) for _ in range(rng.randint(1, 3))]
            agents = rng.sample(range(len(_USER_AGENTS)), 2)
            ips = [f"{rng.choice((198, 203, 192))}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
                   for _ in range(2)]
            self.users.append(User(actor, tokens, agents, ips))
        self.servers: list[Server] = []
        slugs: set[str] = set()
        for i in range(servers):
            mcp = i % 2 == 1
            while True:
                slug = "".join(rng.choice(_SYLLABLES) for _ in range(4))
                if slug not in slugs:
                    slugs.add(slug)
                    break
            adjective, noun = rng.choice(_ADJECTIVES), rng.choice(_NOUNS)
            domain = rng.choice(_DOMAINS)
            sid = _id(rng, "mcp" if mcp else "aps")
            kind = "mcp" if mcp else "api"
            if mcp:
                url = f"https://{slug}.mcp.{domain}/.well-known/oauth-protected-resource"
                name = f"{adjective} {noun} {slug.title()} MCP"
            else:
                url = f"https://api.{domain}/{noun.lower()}/{slug}/v{rng.randint(1, 3)}"
                name = f"{adjective} {noun} {slug.title()} API"
            auths = []
            for _ in range(rng.randint(1, 2)):
                host = rng.choice(_ISSUER_HOSTS)
                tenant = _hex(rng, 8)
                issuer = f"https://{host}/{tenant}"
                auths.append(
                    {
                        "id": _id(rng, "eas"),
                        "issuer": issuer,
                        "authorize": f"{issuer}/authorize",
                        "token": f"{issuer}/token",
                        "grants": rng.choice(_GRANTS),
                        "scopes": rng.sample(_SCOPES, 3),
                    }
                )
            settings_id = _id(rng, "rsc")
            self.servers.append(
                Server(
                    id=sid,
                    mcp=mcp,
                    slug=slug,
                    display_name=name,
                    resource_url=url,
                    description=f"{noun} service for the {adjective.lower()} platform team ({domain})",
                    orn=f"orn:registrar:directory:{self.org}:resource-servers:{kind}:{sid}",
                    auth_servers=auths,
                    settings=(
                        settings_id,
                        f"orn:registrar:idp:{self.org}:client-auth-settings:{settings_id}",
                        f"{slug.title()} {noun} client credentials",
                    ),
                )
            )
        self.api_servers = [s for s in self.servers if not s.mcp]
        self.mcp_servers = [s for s in self.servers if s.mcp]
        # Target popularity: mostly uniform, a fifth Zipf(1.0), so some targets are busy.
        self._zipf_cum = _cumulative([1.0 / (rank + 1) for rank in range(len(self.api_servers))])
        self._types = [CATALOG[name] for name in _MIX]
        self._type_cum = _cumulative([float(_MIX[t.name]) for t in self._types])
        self._client_info_fields = {f.name for f in dataclasses.fields(ClientInfo)}

    def _pick(self, rng: random.Random, pool: list[Server]) -> Server:
        if rng.random() < 0.2:
            return pool[_bisect(self._zipf_cum, rng.random() * self._zipf_cum[-1])]
        return pool[rng.randrange(len(pool))]

    def _context(self, rng: random.Random, job: bool) -> RequestContext:
        request_id = base64.urlsafe_b64encode(rng.randbytes(20)).decode()[:27]
        if job:
            client = ClientInfo(ip_address=None, raw_user_agent=None)
            return RequestContext(
                request_id=request_id,
                actor=Actor("0oaRegistrarSystem00", "SystemPrincipal", "system@registrar", "Registrar System"),
                client=client,
                request_uri="/jobs/mcp-refresh",
                url="/jobs/mcp-refresh",
                transaction_type="JOB",
            )
        user = self.users[rng.randrange(len(self.users))]
        ua, os_name, browser, device = _USER_AGENTS[rng.choice(user.agents)]
        extra = {"os": os_name, "browser": browser, "device": device}
        client = ClientInfo(
            ip_address=rng.choice(user.ips),
            raw_user_agent=ua,
            **{k: v for k, v in extra.items() if k in self._client_info_fields},
        )
        token_id, session_id = rng.choice(user.tokens)
        return RequestContext(
            request_id=request_id,
            actor=user.actor,
            client=client,
            request_uri="",
            url="",
            token_id=token_id,
            session_id=session_id,
        )

    def event(self, rng: random.Random, published: datetime) -> dict[str, Any]:
        etype = self._types[_bisect(self._type_cum, rng.random() * self._type_cum[-1])]
        name = etype.name
        mcp = name.startswith("resource_servers.mcp_server")
        if name.startswith("resource_servers.client_authentication_settings"):
            server = self._pick(rng, self.servers)
        else:
            server = self._pick(rng, self.mcp_servers if mcp else self.api_servers)
        job = mcp and name.endswith(".update") and rng.random() < 0.7  # automated metadata refresh
        ctx = self._context(rng, job)
        targets, path = self._targets(rng, etype, server)
        if not job:
            query = "" if rng.random() < 0.8 else "?activate=true"
            ctx = dataclasses.replace(ctx, request_uri=path, url=path + query)
        roll = rng.random()
        outcome, reason = "SUCCESS", None
        if roll < 0.02:
            outcome, reason = "FAILURE", "Cannot delete a resource server in ACTIVE status. Server must be deactivated first."
        elif roll < 0.03:
            outcome, reason = "DENY", f"The API token lacks the scope {etype.scope}."
        # ResourceServerMcpServerDebugData adds capabilityCount to the request's own debug data.
        debug: dict[str, Any] = {"capabilityCount": rng.randint(1, 40)} if mcp else {}
        return build_event(
            etype, ctx, targets, published, outcome=outcome, reason=reason, debug=debug  # type: ignore[arg-type]
        )

    def _targets(self, rng: random.Random, etype: EventType, s: Server) -> tuple[list[Target], str]:
        name = etype.name
        if name.startswith("resource_servers.client_authentication_settings"):
            sid, orn, sname = s.settings
            changes = None
            if name.endswith(".update"):
                changes = ({"name": sname, "scopes": s.auth_servers[0]["scopes"][:2], "clientSecret": "********"},
                           {"name": sname, "scopes": s.auth_servers[0]["scopes"], "clientSecret": "********"})
            return (
                [self._server_target(s), ev.client_auth_settings_target(sid, orn, sname, s.orn, changes)],
                f"/resource-servers/api/v1/client-auth-settings/{sid}",
            )
        auth = rng.choice(s.auth_servers)
        if not s.mcp:
            base = f"/resource-servers/api/v1/api-servers/{s.id}"
            changes = None
            if name == ev.API_SERVER_UPDATE.name:
                changes = ({"description": s.description}, {"description": s.description + " (v2)"})
            server = ev.api_server_target(s.id, s.resource_url, s.display_name, changes)
            if ".auth_server." in name:
                auth_changes = None
                if name.endswith(".update"):
                    auth_changes = ({"authServerGrantTypesSupported": list(auth["grants"][:1])},
                                    {"authServerGrantTypesSupported": list(auth["grants"])})
                return (
                    [server, ev.api_auth_server_target(auth["id"], auth["issuer"], auth["authorize"], auth["token"],
                                                       auth["grants"], auth_changes)],
                    f"{base}/authorization-servers/{auth['id']}",
                )
            suffix = {"activate": "/lifecycle/activate", "deactivate": "/lifecycle/deactivate"}
            return [server], base + suffix.get(name.rsplit(".", 1)[1], "")
        base = f"/resource-servers/api/v1/mcp-servers/{s.id}"
        changes = None
        if name == ev.MCP_SERVER_UPDATE.name:
            changes = ({"mcpServerStatus": "INACTIVE"},
                       {"mcpServerStatus": "ACTIVE", "mcpServerDetectedMetadata": self._mcp_metadata(s)})
        server = self._mcp_target(s, changes)
        if ".auth_server." in name:
            auth_changes = None
            if name.endswith(".update"):
                auth_changes = ({"authServerStatus": "ACTIVE"},
                                {"authServerStatus": "ACTIVE", "authServerDetectedMetadata": orjson.dumps(
                                    {"authServerResourceName": s.slug, "authServerGrantTypesSupported":
                                     list(auth["grants"]), "authServerTokenEndpoint": auth["token"]}).decode()})
            return (
                [server, target(auth["id"], "ExternalAuthServer", auth["issuer"], auth["issuer"],
                                {"authServerIssuerUrl": auth["issuer"], "authServerStatus": "ACTIVE"}, auth_changes)],
                f"{base}/authorization-servers/{auth['id']}",
            )
        return [server], base

    def _server_target(self, s: Server) -> Target:
        return self._mcp_target(s) if s.mcp else ev.api_server_target(s.id, s.resource_url, s.display_name)

    @staticmethod
    def _mcp_metadata(s: Server) -> str:
        return orjson.dumps(
            {"mcpServerResourceName": s.slug, "mcpServerScopesSupported": s.auth_servers[0]["scopes"]}
        ).decode()

    def _mcp_target(self, s: Server, changes: Any = None) -> Target:
        return target(
            s.id,
            "McpServer",
            s.resource_url,
            s.display_name,
            {"mcpServerResourceUrl": s.resource_url, "mcpServerStatus": "ACTIVE",
             "mcpServerDetectedMetadata": self._mcp_metadata(s)},
            changes,
        )


def _cumulative(weights: list[float]) -> list[float]:
    total, out = 0.0, []
    for w in weights:
        total += w
        out.append(total)
    return out


def _bisect(cum: list[float], x: float) -> int:
    lo, hi = 0, len(cum) - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if cum[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return lo


# --------------------------------------------------------------------------------------------------
# Building the database
# --------------------------------------------------------------------------------------------------


def event_count(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            return int(conn.execute("SELECT seq FROM log_head").fetchone()[0])
    except sqlite3.Error:
        return 0


def build(db: Path, n: int, batch: int, servers: int) -> dict[str, Any]:
    """Append events until the log holds ``n``; returns build figures."""
    engine = create_database_engine(f"sqlite:///{db}", sqlite_synchronous="OFF")
    migrate(engine)
    start = event_count(db)
    world = World(servers)
    rng = random.Random(start * 7919 + 1)
    t0 = time.perf_counter()
    next_report = (start // 100_000 + 1) * 100_000
    i = start
    while i < n:
        size = min(batch, n - i)
        events = []
        for k in range(i, i + size):
            published = EPOCH + timedelta(milliseconds=k * SPACING_MS + rng.randrange(SPACING_MS))
            events.append((world.event(rng, published), published))
        with engine.begin() as conn:
            append_events(conn, events)
        i += size
        if i >= next_report or i == n:
            elapsed = time.perf_counter() - t0
            print(f"  built {i:>10,} events  {(i - start) / elapsed:>9,.0f} events/s  {elapsed:6.1f} s", flush=True)
            next_report += 100_000
    engine.dispose()
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    elapsed = time.perf_counter() - t0
    return {"built": n - start, "seconds": round(elapsed, 1), "events_per_s": round((n - start) / elapsed)}


def db_figures(db: Path) -> dict[str, Any]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        avg = conn.execute("SELECT avg(length(CAST(body AS BLOB))) FROM (SELECT body FROM log_events LIMIT 20000)").fetchone()[0]
        targets = conn.execute("SELECT count(*) FROM log_event_targets").fetchone()[0]
        distinct = conn.execute("SELECT count(DISTINCT target_id) FROM log_event_targets").fetchone()[0]
        busiest = conn.execute(
            "SELECT target_id, count(*) c FROM log_event_targets GROUP BY target_id ORDER BY c DESC LIMIT 1"
        ).fetchone()
    size = db.stat().st_size + sum(p.stat().st_size for p in db.parent.glob(db.name + "-*"))
    return {
        "db_bytes": size,
        "avg_event_bytes": round(avg),
        "target_rows": targets,
        "distinct_targets": distinct,
        "busiest_target_events": busiest[1],
    }


# --------------------------------------------------------------------------------------------------
# Servers
# --------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _env(db: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRAR_")}
    env["REGISTRAR_DATABASE_URL"] = f"sqlite:///{db}"
    env["REGISTRAR_RATE_LIMIT_PER_MINUTE"] = "1000000000"
    env["REGISTRAR_SECRET_KEY"] = base64.urlsafe_b64encode(os.urandom(32)).decode()
    return env


def create_token(db: Path, workdir: Path) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "registrar", "tokens", "create", "--user", "bench@registrar.example",
         "--name", "bench", "--scope", "okta.logs.read"],
        env=_env(db), cwd=workdir, capture_output=True, text=True, check=True,
    )
    return out.stdout.strip().splitlines()[-1]


@contextmanager
def server(command: list[str], env: dict[str, str], workdir: Path, port: int, name: str) -> Iterator[subprocess.Popen[bytes]]:
    log_path = workdir / f"{name}-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{name} did not start:\n{log_path.read_text(errors='replace')}") from None
                time.sleep(0.1)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def rss_mib(pid: int) -> dict[str, float]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in {"VmRSS", "VmHWM"}:
            fields[key] = round(int(value.split()[0]) / 1024, 1)
    return fields


BARE_APP = '''
import sqlite3, sys, threading
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

DB = sys.argv[1]
SQL = "SELECT seq, CAST(body AS BLOB) FROM log_events WHERE seq > ? ORDER BY seq LIMIT ?"
local = threading.local()

def page(request):
    conn = getattr(local, "conn", None)
    if conn is None:
        conn = local.conn = sqlite3.connect(DB, check_same_thread=False)
    after = int(request.query_params.get("after") or 0)
    limit = int(request.query_params.get("limit") or 100)
    rows = conn.execute(SQL, (after, limit)).fetchall()
    nxt = rows[-1][0] if rows else after
    link = f'<http://{request.url.netloc}/logs?limit={limit}&after={nxt}>; rel="next"'
    return Response(b"[" + b",".join(r[1] for r in rows) + b"]", media_type="application/json",
                    headers={"link": link})

app = Starlette(routes=[Route("/logs", page)])

if __name__ == "__main__":
    import uvicorn
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
'''


# --------------------------------------------------------------------------------------------------
# The client: one keep-alive http.client connection
# --------------------------------------------------------------------------------------------------


class Client:
    def __init__(self, port: int, token: str | None):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.headers = {"Accept": "application/json"}
        if token:
            self.headers["Authorization"] = f"SSWS {token}"

    def get(self, path: str) -> tuple[bytes, str | None, float]:
        """(body, path of the `next` link, seconds)."""
        t0 = time.perf_counter()
        self.conn.request("GET", path, headers=self.headers)
        resp = self.conn.getresponse()
        body = resp.read()
        elapsed = time.perf_counter() - t0
        if resp.status != 200:
            raise RuntimeError(f"GET {path}: {resp.status} {body[:300]!r}")
        nxt = None
        for link in resp.headers.get_all("link") or ():
            if link.endswith('rel="next"'):
                url = urlsplit(link[1 : link.index(">")])
                nxt = f"{url.path}?{url.query}"
        return body, nxt, elapsed

    def close(self) -> None:
        self.conn.close()


def count_events(body: bytes) -> int:
    return body.count(b'"uuid":"')


def serve_pages(client: Client, first: str, pages: int) -> tuple[float, int, list[float], list[int]]:
    """Follow `next` for ``pages`` pages: (seconds, events, page latencies, page lengths)."""
    path: str | None = first
    events, latencies, lengths = 0, [], []
    t0 = time.perf_counter()
    for _ in range(pages):
        assert path is not None
        body, path, elapsed = client.get(path)
        events += count_events(body)
        latencies.append(elapsed)
        lengths.append(len(body))
    return time.perf_counter() - t0, events, latencies, lengths


def raw_pages(conn: sqlite3.Connection, pages: int) -> tuple[float, int, list[int]]:
    """The same pages as a raw SELECT of the stored bytes, joined as the server joins them."""
    after, events, lengths = 0, 0, []
    t0 = time.perf_counter()
    for _ in range(pages):
        rows = conn.execute(RAW_PAGE_SQL, (after, PAGE_LIMIT)).fetchall()
        body = b"[" + b",".join(r[1] for r in rows) + b"]"
        after = rows[-1][0]
        events += len(rows)
        lengths.append(len(body))
    return time.perf_counter() - t0, events, lengths


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def latency_ms(values: list[float]) -> dict[str, float]:
    ms = [v * 1000 for v in values]
    return {"p50_ms": round(pct(ms, 50), 2), "p99_ms": round(pct(ms, 99), 2), "max_ms": round(max(ms), 2)}


def logs_path(**params: str) -> str:
    return "/api/v1/logs?" + "&".join(f"{k}={quote(v, safe='-._~')}" for k, v in params.items())


# --------------------------------------------------------------------------------------------------
# Samples for the filtered and keyword pages
# --------------------------------------------------------------------------------------------------


def sample_pairs(conn: sqlite3.Connection, rng: random.Random, n: int, head: int) -> list[tuple[str, str, int]]:
    """(eventType, target.id, matching events) pairs from random stored events."""
    pairs = []
    while len(pairs) < n:
        rows = conn.execute(
            "SELECT event_type, target_id FROM log_event_targets WHERE seq = ?", (rng.randint(1, head),)
        ).fetchall()
        if rows:
            etype, tid = rng.choice(rows)
            matches = conn.execute(
                "SELECT count(*) FROM log_event_targets WHERE target_id = ? AND event_type = ?", (tid, etype)
            ).fetchone()[0]
            pairs.append((etype, tid, matches))
    return pairs


def sample_keywords(conn: sqlite3.Connection, rng: random.Random, n: int, head: int) -> list[tuple[str, str]]:
    """(class, keyword) pairs, a quarter each: rare (a server's own name token), a user's email, a
    frequent display-name word, a very frequent word (event wording, user agents)."""
    world_words = {w.lower() for w in _ADJECTIVES + _NOUNS}
    very_frequent = ["update", "Chrome", "mcp", "SUCCESS", "authorization", "Mozilla", "INFO", "resource_servers"]
    out: list[tuple[str, str]] = []
    kinds = ["rare", "email", "frequent", "very_frequent"]
    while len(out) < n:
        kind = kinds[len(out) % 4]
        if kind == "very_frequent":
            out.append((kind, rng.choice(very_frequent)))
            continue
        body = orjson.loads(conn.execute("SELECT body FROM log_events WHERE seq = ?", (rng.randint(1, head),)).fetchone()[0])
        if kind == "email":
            if body["actor"]["type"] == "User":
                out.append((kind, body["actor"]["alternateId"]))
            continue
        words = body["target"][0]["displayName"].split()
        if kind == "rare":
            out.append((kind, words[2].lower()))
        else:
            out.append((kind, rng.choice([w for w in words if w.lower() in world_words])))
    return out


# --------------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    model = "unknown"
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal:"))
    return {
        "cpu": model,
        "nproc": os.cpu_count(),
        "ram_gib": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "kernel": platform.release(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000, help="events in the log (default 1,000,000)")
    parser.add_argument("--db", type=Path, help="database file to reuse (or build and keep) instead of a temp one")
    parser.add_argument("--batch", type=int, default=1000, help="events per append transaction (default 1,000)")
    parser.add_argument("--servers", type=int, default=20_000, help="distinct resource servers (default 20,000)")
    parser.add_argument("--pages", type=int, default=POLL_PAGES, help="limit=1000 pages per pass (default 300)")
    parser.add_argument("--samples", type=int, default=300, help="filtered and q requests each (default 300)")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where to write the JSON results")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-syslog-"))
    try:
        run(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(args: argparse.Namespace, tmp: Path) -> None:
    n: int = args.events
    db: Path = (args.db.resolve() if args.db else tmp / "registrar.db")
    db.parent.mkdir(parents=True, exist_ok=True)
    info = machine()
    print(f"System Log benchmark: {n:,} events, {info['cpu']}, {info['nproc']} CPUs, {info['ram_gib']} GiB, "
          f"SQLite {info['sqlite']}, Python {info['python']}")
    results: dict[str, Any] = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "events": n,
                               "machine": info}
    have = event_count(db) if db.exists() else 0
    if have >= n:
        print(f"reusing {db} ({have:,} events)")
        results["build"] = {"reused": True, "events_in_db": have}
    else:
        print(f"building {db}: {n - have:,} events in transactions of {args.batch:,} ...")
        results["build"] = build(db, n, args.batch, args.servers)
        have = n
        print(f"  build rate {results['build']['events_per_s']:,} events/s ({results['build']['seconds']} s)")
    results["database"] = figures = db_figures(db)
    print(f"  database {figures['db_bytes'] / 1e9:.2f} GB, {figures['avg_event_bytes']:,} bytes/event, "
          f"{figures['distinct_targets']:,} distinct targets (busiest: {figures['busiest_target_events']:,} events)")
    pages = min(args.pages, have // PAGE_LIMIT)

    rng = random.Random(42)
    raw = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    pairs = sample_pairs(raw, rng, args.samples, have)
    keywords = sample_keywords(raw, rng, args.samples, have)

    token = create_token(db, tmp)
    port = free_port()
    registrar_env = _env(db)
    command = [sys.executable, "-m", "registrar", "serve", "--host", "127.0.0.1", "--port", str(port)]
    with server(command, registrar_env, tmp, port, "registrar") as proc:
        client = Client(port, token)
        first = logs_path(since=SINCE, limit=str(PAGE_LIMIT))
        # Warm-up: the OS page cache for the pages read, the server's imports and connection pool.
        raw_pages(raw, pages)
        serve_pages(client, first, 5)
        # Correctness: the server's pages are the stored bytes, exactly.
        path: str | None = first
        after = 0
        for _ in range(3):
            assert path is not None
            body, path, _ = client.get(path)
            rows = raw.execute(RAW_PAGE_SQL, (after, PAGE_LIMIT)).fetchall()
            after = rows[-1][0]
            assert body == b"[" + b",".join(r[1] for r in rows) + b"]", "served page differs from stored bytes"

        served, floor = [], []
        page_latencies: list[float] = []
        for r in range(ROUNDS):
            secs, events, lat, served_lengths = serve_pages(client, first, pages)
            served.append(events / secs)
            page_latencies += lat
            rsecs, revents, raw_lengths = raw_pages(raw, pages)
            floor.append(revents / rsecs)
            assert events == revents and served_lengths == raw_lengths, "served and raw pages differ"
            print(f"  round {r + 1}: served {served[-1]:,.0f} events/s, raw SELECT {floor[-1]:,.0f} events/s")
        served_eps, raw_eps = statistics.median(served), statistics.median(floor)

        # Filtered pages: eventType eq X and target.id eq Y, polling from 2000, limit 100.
        def filtered(etype: str, tid: str) -> str:
            return logs_path(since=SINCE, filter=f'eventType eq "{etype}" and target.id eq "{tid}"', limit="100")

        for etype, tid, _ in pairs[:10]:
            client.get(filtered(etype, tid))
        filter_lat, filter_by_size = [], []
        for etype, tid, matches in pairs:
            body, _, elapsed = client.get(filtered(etype, tid))
            assert count_events(body) == min(matches, 100), (etype, tid, matches, count_events(body))
            filter_lat.append(elapsed)
            filter_by_size.append((matches, elapsed))
        raw_filter = []
        for etype, tid, _ in pairs:
            t0 = time.perf_counter()
            rows = raw.execute(RAW_FILTER_SQL, (tid, etype)).fetchall()
            b"[" + b",".join(r[1] for r in rows) + b"]"
            raw_filter.append(time.perf_counter() - t0)

        # Keyword pages: q=<keyword>, polling from 2000, limit 100.
        for _, word in keywords[:10]:
            client.get(logs_path(since=SINCE, q=word, limit="100"))
        q_lat: list[float] = []
        q_by_kind: dict[str, list[float]] = {}
        q_hits: Counter[str] = Counter()
        for kind, word in keywords:
            body, _, elapsed = client.get(logs_path(since=SINCE, q=word, limit="100"))
            q_lat.append(elapsed)
            q_by_kind.setdefault(kind, []).append(elapsed)
            q_hits[kind] += count_events(body)
        raw_q = []
        for _, word in keywords:
            t0 = time.perf_counter()
            rows = raw.execute(RAW_FTS_SQL, (fts5_query([word]),)).fetchall()
            b"[" + b",".join(r[1] for r in rows) + b"]"
            raw_q.append(time.perf_counter() - t0)
        client.close()
        memory = rss_mib(proc.pid)

    # Bare HTTP floor: Starlette + uvicorn (one worker), raw sqlite3 SELECT, same pages.
    bare_port = free_port()
    bare_script = tmp / "bare_app.py"
    bare_script.write_text(BARE_APP)
    with server([sys.executable, str(bare_script), str(db), str(bare_port)], dict(os.environ), tmp, bare_port, "bare") as bare:
        bclient = Client(bare_port, None)
        bfirst = f"/logs?limit={PAGE_LIMIT}&after=0"
        serve_pages(bclient, bfirst, 5)
        bare_runs = []
        for _ in range(ROUNDS):
            secs, events, _, _ = serve_pages(bclient, bfirst, pages)
            bare_runs.append(events / secs)
        bclient.close()
        bare_rss = rss_mib(bare.pid)
    raw.close()
    bare_eps = statistics.median(bare_runs)

    results["served"] = {
        "events_per_s": round(served_eps),
        "runs": [round(x) for x in served],
        "pages": pages,
        "page_limit": PAGE_LIMIT,
        "page_p50_ms": round(pct([x * 1000 for x in page_latencies], 50), 2),
        "page_p99_ms": round(pct([x * 1000 for x in page_latencies], 99), 2),
    }
    results["raw_select"] = {"events_per_s": round(raw_eps), "runs": [round(x) for x in floor]}
    results["bare_http"] = {"events_per_s": round(bare_eps), "runs": [round(x) for x in bare_runs],
                            "rss_mib": bare_rss.get("VmRSS")}
    results["served_to_raw_ratio"] = round(served_eps / raw_eps, 3)
    results["served_to_bare_http_ratio"] = round(served_eps / bare_eps, 3)
    results["filtered"] = latency_ms(filter_lat) | {
        "requests": len(filter_lat),
        "raw_sql": latency_ms(raw_filter),
        "median_matching_events": statistics.median(p[2] for p in pairs),
        "max_matching_events": max(p[2] for p in pairs),
    }
    results["q"] = latency_ms(q_lat) | {
        "requests": len(q_lat),
        "raw_sql": latency_ms(raw_q),
        "by_kind": {k: latency_ms(v) | {"avg_events_returned": round(q_hits[k] / len(v), 1)}
                    for k, v in q_by_kind.items()},
    }
    results["server_rss_mib"] = memory.get("VmRSS")
    results["server_peak_rss_mib"] = memory.get("VmHWM")
    results["targets"] = TARGETS
    met = {
        "served_events_per_s": served_eps >= TARGETS["served_events_per_s"],
        "served_to_raw_ratio": served_eps / raw_eps >= TARGETS["served_to_raw_ratio"],
        "filtered_p99_ms": results["filtered"]["p99_ms"] <= TARGETS["filtered_p99_ms"],
        "q_p99_ms": results["q"]["p99_ms"] <= TARGETS["q_p99_ms"],
    }
    results["met"] = met

    def row(name: str, value: str, target: str, floor: str, ok: bool | None) -> str:
        verdict = "" if ok is None else ("met" if ok else "NOT MET")
        return f"| {name:<34} | {value:>18} | {target:>12} | {floor:>26} | {verdict:<7} |"

    print()
    print(row("figure", "Registrar", "target", "floor (same run)", None).replace("|      ", "| result"))
    print("|" + "-" * 36 + "|" + "-" * 20 + "|" + "-" * 14 + "|" + "-" * 28 + "|" + "-" * 9 + "|")
    print(row("served, limit=1000 pages", f"{served_eps:,.0f} ev/s", ">= 200,000", f"raw SELECT {raw_eps:,.0f} ev/s",
              met["served_events_per_s"]))
    print(row("served / raw SELECT", f"{served_eps / raw_eps:.2f}x", ">= 0.5x", f"bare HTTP {bare_eps:,.0f} ev/s",
              met["served_to_raw_ratio"]))
    print(row("limit=1000 page latency p50", f"{results['served']['page_p50_ms']:.1f} ms", "", "", None))
    f, q = results["filtered"], results["q"]
    print(row("filtered page p50 / p99", f"{f['p50_ms']:.2f} / {f['p99_ms']:.2f} ms", "p99 <= 30 ms",
              f"SQL {f['raw_sql']['p50_ms']:.2f} / {f['raw_sql']['p99_ms']:.2f} ms", met["filtered_p99_ms"]))
    print(row("q page p50 / p99", f"{q['p50_ms']:.2f} / {q['p99_ms']:.2f} ms", "p99 <= 100 ms",
              f"SQL {q['raw_sql']['p50_ms']:.2f} / {q['raw_sql']['p99_ms']:.2f} ms", met["q_p99_ms"]))
    for kind, figures_ in q["by_kind"].items():
        print(row(f"  q {kind} (avg {figures_['avg_events_returned']} hits)",
                  f"{figures_['p50_ms']:.2f} / {figures_['p99_ms']:.2f} ms", "", "", None))
    print(row("server RSS after run", f"{memory.get('VmRSS', 0):.0f} MiB", "", f"bare HTTP {bare_rss.get('VmRSS', 0):.0f} MiB", None))
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nresults written to {args.results}")


if __name__ == "__main__":
    main()
