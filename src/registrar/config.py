"""Settings, read once from the environment (``REGISTRAR_*``)."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from .datadir import default_data_dir, ensure_private_dir, prepare_sqlite_file

__all__ = ["Settings"]

# Stands for "the file of this name in ``data_dir``" until ``Settings.__post_init__`` resolves it
# (``Path()`` is ".", never a usable key file).
_IN_DATA_DIR = Path()

_TRUE = {"1", "true", "yes", "on"}
_Number = TypeVar("_Number", int, float)


def _flag(env: Mapping[str, str], name: str, default: bool = False) -> bool:
    raw = env.get(name)
    return default if raw is None or raw == "" else raw.strip().lower() in _TRUE


def _path(env: Mapping[str, str], name: str) -> Path | None:
    raw = (env.get(name) or "").strip()
    return Path(raw) if raw else None


def _list(raw: str | None) -> tuple[str, ...]:
    return tuple(item.strip() for item in (raw or "").split(",") if item.strip())


def _zones(raw: str | None) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``name=cidr,cidr;name=cidr``: e.g. ``office=10.0.0.0/8,192.0.2.0/24;vpn=100.64.0.0/10``."""
    zones: list[tuple[str, tuple[str, ...]]] = []
    for part in (raw or "").split(";"):
        if not part.strip():
            continue
        name, sep, cidrs = part.partition("=")
        name = name.strip()
        if not sep or not name or not _list(cidrs):
            raise ValueError(f"REGISTRAR_NETWORK_ZONES: expected name=cidr[,cidr...], got {part.strip()!r}")
        if name in {zone for zone, _ in zones}:
            raise ValueError(f"REGISTRAR_NETWORK_ZONES: zone {name!r} is defined twice")
        zones.append((name, _list(cidrs)))
    return tuple(zones)


_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _positive(env: Mapping[str, str], name: str, default: _Number) -> _Number:
    """A number above zero (of the default's type); anything else fails at start-up, naming the variable."""
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = type(default)(raw)
    except ValueError:
        raise ValueError(f"{name}: expected a number, got {raw!r}") from None
    if not value > 0:
        raise ValueError(f"{name}: must be greater than 0, got {raw!r}")
    return value


def _log_level(raw: str) -> str:
    level = raw.strip().upper()
    if level not in _LOG_LEVELS:
        raise ValueError(f"REGISTRAR_LOG_LEVEL: expected one of {', '.join(_LOG_LEVELS)}, got {raw!r}")
    return level


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    """One of ``choices`` (the first when unset), case-insensitively; anything else fails at start-up."""
    value = (env.get(name) or choices[0]).strip().lower()
    if value not in choices:
        raise ValueError(f"{name}: expected one of {', '.join(choices)}, got {env.get(name)!r}")
    return value


def _networks(raw: str) -> tuple[str, ...]:
    """Comma-separated CIDRs, each checked now so a typo fails at start-up rather than at discovery."""
    networks = tuple(part.strip() for part in raw.split(",") if part.strip())
    for network in networks:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError:
            raise ValueError(f"REGISTRAR_DISCOVERY_ALLOWED_NETWORKS: {network!r} is not a CIDR") from None
    return networks


def _origin(raw: str) -> str:
    """A checkpoint origin (and note key name): non-empty, no spaces, no '+', printable."""
    origin = raw.strip()
    if origin and (any(ch.isspace() or ch == "+" or not ch.isprintable() for ch in origin)):
        raise ValueError(f"REGISTRAR_TLOG_ORIGIN: no spaces, '+' or control characters, got {raw!r}")
    return origin


def _witnesses(raw: str, *, allow_http: bool) -> tuple[tuple[str, str], ...]:
    """``<vkey> <url>;<vkey> <url>``: each key parsed (type 0x04) and each URL checked now, at start-up."""
    from urllib.parse import urlsplit

    from registrar.tlog._note import COSIGNATURE_V1, NoteError, parse_verifier_key

    witnesses: list[tuple[str, str]] = []
    names: set[str] = set()
    for part in raw.split(";"):
        if not part.strip():
            continue
        fields = part.split()
        if len(fields) != 2:
            raise ValueError(f"REGISTRAR_WITNESSES: expected '<vkey> <url>', got {part.strip()!r}")
        vkey, url = fields
        try:
            key = parse_verifier_key(vkey)
        except NoteError as error:
            raise ValueError(f"REGISTRAR_WITNESSES: {vkey!r}: {error}") from None
        if key.key_type != COSIGNATURE_V1:
            raise ValueError(f"REGISTRAR_WITNESSES: {vkey!r} is not a cosignature key (type 0x04)")
        if key.name in names:
            raise ValueError(f"REGISTRAR_WITNESSES: witness {key.name!r} is listed twice")
        split = urlsplit(url)
        schemes = ("https", "http") if allow_http else ("https",)
        if split.scheme not in schemes or not split.hostname or split.query or split.fragment:
            raise ValueError(
                f"REGISTRAR_WITNESSES: {url!r} is not an https URL prefix (http needs "
                "REGISTRAR_DISCOVERY_ALLOW_HTTP=true)"
            )
        names.add(key.name)
        witnesses.append((vkey, url.rstrip("/")))
    return tuple(witnesses)


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything an operator can configure; see the README's settings table.

    ``data_dir`` holds what belongs to this installation alone; the database URL and the two key files
    default to ``registrar.db``, ``registrar.key`` and ``registrar-signing.key`` inside it.
    """

    data_dir: Path = field(default_factory=default_data_dir)
    database_url: str = ""  # "" = sqlite:///<data_dir>/registrar.db
    secret_key: str | None = field(default=None, repr=False)
    secret_key_file: Path = _IN_DATA_DIR
    rate_limit_per_minute: int = 1200
    rate_limit_store: str = "auto"  # memory | database | auto (database on PostgreSQL)
    discovery_allow_http: bool = False
    # CIDRs that discovery may reach although they are not public (e.g. 127.0.0.0/8 for local tests).
    discovery_allowed_networks: tuple[str, ...] = ()
    sqlite_synchronous: str = "NORMAL"
    group_commit: bool = True  # concurrent audited operations share a transaction (registrar.store._group)
    jobs_enabled: bool = True
    signing_key: str | None = field(default=None, repr=False)
    signing_key_file: Path = _IN_DATA_DIR
    checkpoint_interval_seconds: float = 300.0
    purge_interval_seconds: float = 3600.0
    mcp_refresh_seconds: float = 3600.0  # 0 turns the scheduled refresh off
    # What a discovered tool of an ACTIVE MCP server that changed or disappeared does: "record" the drift
    # in the log, or also "deactivate" the server (registrar.services.capabilities).
    tool_drift_policy: str = "record"
    # Nothing waits without bound (registrar.store.database, registrar.api.slow_work).
    db_wait_seconds: float = 5.0  # a writer waiting for the database gives up after this (503)
    statement_timeout_seconds: float = 10.0  # every query the server runs (503 beyond it); 0: none
    discovery_concurrency: int = 8  # MCP discoveries (registration, refresh) running at once
    discovery_concurrency_per_token: int = 2  # ... of them for one API token
    discovery_queue_seconds: float = 2.0  # waiting for a free discovery slot, then 429
    # Request context (registrar.context): who may speak for the client, and where its data comes from.
    trusted_proxies: tuple[str, ...] = ()  # CIDRs whose Forwarded / X-Forwarded-* headers are believed
    network_zones: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (name, CIDRs) in match order
    geoip_db: Path | None = None  # MaxMind-format city database
    asn_db: Path | None = None  # MaxMind-format ASN (or ISP) database
    anonymizer_list: Path | None = None  # IPs/CIDRs, one per line, e.g. Tor exit nodes
    # Event hooks (registrar.hooks): delivery cadence, batch size, request timeout, retries and auto-pause.
    hook_poll_seconds: float = 1.0
    hook_batch_size: int = 100
    hook_timeout_seconds: float = 10.0
    hook_backoff_base_seconds: float = 1.0
    hook_backoff_max_seconds: float = 300.0
    hook_pause_after_seconds: float = 86400.0  # failing this long without a success pauses a hook
    # The wire and the API edge (registrar.api._wire, registrar.api.limits): what one request may cost.
    max_header_bytes: int = 16384  # request line + header fields; beyond: 414 / 431
    max_body_bytes: int = 1048576  # declared or streamed request body; beyond: 413
    header_timeout_seconds: float = 10.0  # a connection must deliver a request's headers within this
    max_connections: int = 1000  # open connections (and running requests) before new requests get 503
    auth_failures_per_minute: int = 30  # 401s per client address per minute before its token requests get 429
    log_level: str = "INFO"  # DEBUG | INFO | WARNING | ERROR | CRITICAL
    log_format: str = "text"  # text | json (registrar.api._logging)
    # Console sign-in throttling (registrar.console): failed sign-ins allowed per account / per client
    # address within a sliding window; one more gets 429 and a LOCKED_OUT ``user.session.start`` event.
    signin_account_failures: int = 5
    signin_account_window_seconds: float = 900.0
    signin_address_failures: int = 20
    signin_address_window_seconds: float = 60.0
    # A delivery body is at most this many bytes (Okta's envelope included); an event too large on its own
    # is skipped with a recorded reason. 256 KiB: four events of the 64 KiB maximum, below common caps.
    hook_batch_bytes: int = 256 * 1024
    hook_concurrency: int = 4  # deliveries in flight at once, per server process
    # The transparency log's checkpoints and witnesses (registrar.tlog): "" origin = ``registrar/<orgId>``.
    tlog_origin: str = ""
    tlog_checkpoint_seconds: float = 10.0  # a new checkpoint within this long of the log growing
    tlog_heartbeat_seconds: float = 300.0  # an idle log is re-signed and re-witnessed this often
    witnesses: tuple[tuple[str, str], ...] = ()  # (witness verifier key, URL prefix)
    witness_timeout_seconds: float = 10.0  # one add-checkpoint request, connecting to the last byte
    # ``registrar serve`` processes sharing its port (uvicorn workers), each with its own application.
    workers: int = 1
    # Reads that scale out (registrar.store.replica): a PostgreSQL streaming replica of ``database_url`` for
    # the System Log, the tlog tiles and the registry lists ("" = everything on the primary), how long a read
    # waits for the replica to replay what the request needs before the primary answers it, and the bytes of
    # immutable System Log pages and tlog tiles kept in memory (0: no cache).
    read_database_url: str = field(default="", repr=False)
    read_replica_wait_seconds: float = 2.0
    page_cache_bytes: int = 32 * 1024 * 1024
    # The MCP Registry API (/v0.1/servers) answers without a token (registrar.api.routes.mcp_registry).
    public_registry: bool = False
    # ``registrar serve`` as a service (registrar.api.server): HTTPS from a PEM certificate (chain) and its
    # private key, both or neither; how long a stopping server lets in-flight requests finish.
    tls_cert: Path | None = None
    tls_key: Path | None = None
    shutdown_timeout_seconds: float = 10.0

    def __post_init__(self) -> None:
        """Resolve the defaults that live in the data directory."""
        if not self.database_url:
            object.__setattr__(self, "database_url", f"sqlite:///{self.data_dir / 'registrar.db'}")
        if self.secret_key_file == _IN_DATA_DIR:
            object.__setattr__(self, "secret_key_file", self.data_dir / "registrar.key")
        if self.signing_key_file == _IN_DATA_DIR:
            object.__setattr__(self, "signing_key_file", self.data_dir / "registrar-signing.key")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``REGISTRAR_*`` variables, falling back to the defaults.

        Reading the process environment (no ``env``) is what a starting ``registrar`` process does: it
        also creates the data directory (0700) and the default SQLite file (0600) before anything opens
        them, so SQLite and the key files never start out readable by others.
        """
        process = env is None
        env = os.environ if env is None else env
        defaults = cls()
        data_dir = _path(env, "REGISTRAR_DATA_DIR")
        settings = cls(
            data_dir=data_dir.expanduser() if data_dir else default_data_dir(env),
            database_url=env.get("REGISTRAR_DATABASE_URL") or "",
            secret_key=env.get("REGISTRAR_SECRET_KEY") or None,
            secret_key_file=_path(env, "REGISTRAR_SECRET_KEY_FILE") or _IN_DATA_DIR,
            rate_limit_store=(env.get("REGISTRAR_RATE_LIMIT_STORE") or "auto").lower(),
            discovery_allow_http=_flag(env, "REGISTRAR_DISCOVERY_ALLOW_HTTP"),
            discovery_allowed_networks=_networks(env.get("REGISTRAR_DISCOVERY_ALLOWED_NETWORKS") or ""),
            sqlite_synchronous=(env.get("REGISTRAR_SQLITE_SYNCHRONOUS") or "NORMAL").upper(),
            group_commit=_flag(env, "REGISTRAR_GROUP_COMMIT", default=True),
            jobs_enabled=_flag(env, "REGISTRAR_JOBS", default=True),
            signing_key=env.get("REGISTRAR_SIGNING_KEY") or None,
            signing_key_file=_path(env, "REGISTRAR_SIGNING_KEY_FILE") or _IN_DATA_DIR,
            tool_drift_policy=_choice(env, "REGISTRAR_TOOL_DRIFT_POLICY", ("record", "deactivate")),
            trusted_proxies=_list(env.get("REGISTRAR_TRUSTED_PROXIES")),
            network_zones=_zones(env.get("REGISTRAR_NETWORK_ZONES")),
            geoip_db=_path(env, "REGISTRAR_GEOIP_DB"),
            asn_db=_path(env, "REGISTRAR_ASN_DB"),
            anonymizer_list=_path(env, "REGISTRAR_ANONYMIZER_LIST"),
            log_level=_log_level(env.get("REGISTRAR_LOG_LEVEL") or defaults.log_level),
            log_format=_choice(env, "REGISTRAR_LOG_FORMAT", ("text", "json")),
            tlog_origin=_origin(env.get("REGISTRAR_TLOG_ORIGIN") or ""),
            witnesses=_witnesses(
                env.get("REGISTRAR_WITNESSES") or "", allow_http=_flag(env, "REGISTRAR_DISCOVERY_ALLOW_HTTP")
            ),
            read_database_url=env.get("REGISTRAR_READ_DATABASE_URL") or "",
            public_registry=_flag(env, "REGISTRAR_PUBLIC_REGISTRY"),
            tls_cert=_path(env, "REGISTRAR_TLS_CERT"),
            tls_key=_path(env, "REGISTRAR_TLS_KEY"),
            **_numbers(env, defaults),
        )
        if process:
            _prepare_data_dir(settings)
        return settings


# Numbers read from ``REGISTRAR_<FIELD>`` (or the older name in ``_VARIABLES``) as the default's type; unset
# or empty keeps the default. Zero is a value here (``mcp_refresh_seconds`` 0: no scheduled refresh).
_NUMBERS = (
    "rate_limit_per_minute",
    "checkpoint_interval_seconds",
    "mcp_refresh_seconds",
    "db_wait_seconds",
    "statement_timeout_seconds",
    "discovery_concurrency",
    "discovery_concurrency_per_token",
    "discovery_queue_seconds",
    "purge_interval_seconds",
    "hook_poll_seconds",
    "hook_batch_size",
    "hook_timeout_seconds",
    "hook_backoff_base_seconds",
    "hook_backoff_max_seconds",
    "hook_pause_after_seconds",
    "signin_account_failures",
    "signin_account_window_seconds",
    "signin_address_failures",
    "signin_address_window_seconds",
    "hook_batch_bytes",
    "hook_concurrency",
    "read_replica_wait_seconds",
    "page_cache_bytes",
)
# Numbers that must be greater than 0: anything else fails at start-up, naming the variable.
_POSITIVE_NUMBERS = (
    "max_header_bytes",
    "max_body_bytes",
    "header_timeout_seconds",
    "max_connections",
    "auth_failures_per_minute",
    "tlog_checkpoint_seconds",
    "tlog_heartbeat_seconds",
    "witness_timeout_seconds",
    "workers",
    "shutdown_timeout_seconds",
)
_VARIABLES = {
    "checkpoint_interval_seconds": "REGISTRAR_CHECKPOINT_SECONDS",
    "purge_interval_seconds": "REGISTRAR_PURGE_SECONDS",
}


def _numbers(env: Mapping[str, str], defaults: Settings) -> dict[str, Any]:
    """Every number setting: ``_NUMBERS`` as given, ``_POSITIVE_NUMBERS`` checked."""
    numbers: dict[str, Any] = {}
    for name in (*_NUMBERS, *_POSITIVE_NUMBERS):
        variable, default = _VARIABLES.get(name, f"REGISTRAR_{name.upper()}"), getattr(defaults, name)
        if name in _POSITIVE_NUMBERS:
            numbers[name] = _positive(env, variable, default)
        else:
            numbers[name] = type(default)(env.get(variable) or default)
    return numbers


def _prepare_data_dir(settings: Settings) -> None:
    """Create the data directory if anything of this installation lives in it, and the SQLite file."""
    inside = [
        settings.database_url == f"sqlite:///{settings.data_dir / 'registrar.db'}",
        settings.secret_key is None and settings.secret_key_file.parent == settings.data_dir,
        settings.signing_key is None and settings.signing_key_file.parent == settings.data_dir,
    ]
    if any(inside):
        ensure_private_dir(settings.data_dir)
    prepare_sqlite_file(settings.database_url)
