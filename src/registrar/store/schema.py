"""The tables. Resource tables hold current state; ``log_events`` is the append-only audit log.

Timestamps are stored as integer milliseconds since the epoch (UTC): portable across SQLite and
PostgreSQL, totally ordered, and free of naive-datetime pitfalls.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Constraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

__all__ = [
    "api_tokens",
    "client_auth_settings",
    "console_sessions",
    "event_hook_deliveries",
    "event_hook_skips",
    "event_hooks",
    "installation",
    "log_checkpoints",
    "log_event_targets",
    "log_events",
    "log_head",
    "mcp_discoveries",
    "mcp_tools",
    "metadata",
    "oauth_assertions",
    "resource_auth_servers",
    "resource_servers",
    "service_apps",
    "signing_keys",
    "tlog_checkpoints",
    "tlog_cosignatures",
    "tlog_nodes",
    "tlog_witnesses",
    "users",
    "virtual_capabilities",
]

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# Integer surrogate keys give lists a stable registration order for keyset pagination; ``id`` is public.
_PK = BigInteger().with_variant(Integer(), "sqlite")


def _keyed(name: str, *items: Column[Any] | Constraint | Index) -> Table:
    """A table keyed by ``pk`` with a unique public ``id``, then ``items``."""
    return Table(
        name,
        metadata,
        Column("pk", _PK, primary_key=True, autoincrement=True),
        Column("id", String(20), nullable=False, unique=True),
        *items,
    )


def _entity(name: str, *items: Column[Any] | Constraint | Index) -> Table:
    """A ``_keyed`` table whose rows record when they were created and last updated."""
    return _keyed(
        name,
        *items,
        Column("created_ms", BigInteger, nullable=False),
        Column("last_updated_ms", BigInteger, nullable=False),
    )


installation = Table(
    "installation",
    metadata,
    Column("singleton", Integer, primary_key=True),
    Column("org_id", String(20), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("retention_days", Integer, nullable=False, server_default="90"),
    Column("retention_locked", Boolean, nullable=False, server_default=false()),
)

users = Table(
    "users",
    metadata,
    Column("id", String(20), primary_key=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("display_name", String(255), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", String(20), primary_key=True),
    Column("name", String(255), nullable=False),
    Column("user_id", String(20), ForeignKey("users.id"), nullable=False),
    # SHA-256 of the token: tokens are 256-bit random strings, so a slow KDF would add nothing.
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("scopes", Text, nullable=False),
    Column("session_id", String(32), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("revoked_ms", BigInteger),
)

client_auth_settings = _entity(
    "client_auth_settings",
    Column("name", String(255), nullable=False),
    Column("resource_orn", Text, nullable=False, index=True),
    Column("purpose", String(32), nullable=False),
    Column("client_id", String(255), nullable=False),
    # AES-256-GCM sealed; the settings id is the associated data, so a blob cannot be moved between rows.
    Column("client_secret_sealed", LargeBinary, nullable=False),
    Column("scopes", Text, nullable=False),
    Column("token_endpoint_auth_method", String(32), nullable=False),
)

# The head of the log: one row, locked by every appending transaction. Holding it until commit makes
# sequence order equal commit order (so a poller's cursor never passes an uncommitted event) and
# gives each event its predecessor's hash.
log_head = Table(
    "log_head",
    metadata,
    Column("singleton", Integer, primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
    # After a purge the retained log starts at first_seq and chains to anchor_hash.
    Column("first_seq", BigInteger, nullable=False, server_default="1"),
    Column("anchor_hash", String(64), nullable=False, server_default="0" * 64),
    # The newest published time in the log (epoch ms): the next event is published no earlier.
    Column("published_ms", BigInteger, nullable=False, server_default="0"),
)

log_events = Table(
    "log_events",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("uuid", String(36), nullable=False, unique=True),
    Column("published_ms", BigInteger, nullable=False),
    Column("event_type", String(128), nullable=False),
    Column("severity", String(8), nullable=False),
    Column("outcome_result", String(16), nullable=False),
    Column("actor_id", String(64)),
    Column("transaction_id", String(64), nullable=False),
    Column("body", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_log_events_published", "published_ms", "seq"),
    Index("ix_log_events_type_seq", "event_type", "seq"),
    Index("ix_log_events_transaction", "transaction_id"),
)

# One row per (event, target) so "any element of target[] matches" is an indexed lookup.
log_event_targets = Table(
    "log_event_targets",
    metadata,
    Column("seq", BigInteger, ForeignKey("log_events.seq"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("target_id", String(255), nullable=False),
    Column("target_type", String(64), nullable=False),
    Column("event_type", String(128), nullable=False),
    Index("ix_log_event_targets_lookup", "target_id", "event_type", "seq"),
)

# Signed statements "the log had this head at this time" (Ed25519 over ``payload``), made periodically
# even when nothing happened, and when a purge moves the start of the retained log.
log_checkpoints = Table(
    "log_checkpoints",
    metadata,
    Column("id", _PK, primary_key=True, autoincrement=True),
    Column("created_ms", BigInteger, nullable=False),
    Column("seq", BigInteger, nullable=False, index=True),
    Column("hash", String(64), nullable=False),
    Column("payload", Text, nullable=False),
    Column("signature", String(128), nullable=False),
    Column("key_id", String(64), nullable=False),
)

# Every key that ever signed checkpoints, public half only, with its validity period; the current key has
# no ``not_after_ms``. A rotation statement (``rotation``) binds each key to its predecessor and is signed
# by both, so a retired key's row cannot be altered without the change being detected.
signing_keys = Table(
    "signing_keys",
    metadata,
    Column("key_id", String(64), primary_key=True),
    Column("algorithm", String(16), nullable=False),
    Column("public_key", String(128), nullable=False),
    Column("not_before_ms", BigInteger, nullable=False),
    Column("not_after_ms", BigInteger),
    Column("rotation", Text),
    Column("predecessor_signature", String(128)),
    Column("own_signature", String(128)),
)

# Resource servers of every kind (``registrar.kinds``): API, MCP, A2A, virtual MCP servers (migration 0015).
# ``detected_metadata`` is the kind's JSON (``{}`` when it detects nothing); a virtual server has no URL.
resource_servers = _entity(
    "resource_servers",
    Column("kind", String(8), nullable=False),
    Column("resource_url", Text),
    Column("display_name", String(255), nullable=False),
    Column("description", Text),
    Column("status", String(16), nullable=False),
    Column("detected_metadata", Text, nullable=False),
    Column("last_refreshed_ms", BigInteger),
    UniqueConstraint("kind", "resource_url"),
    Index("ix_resource_servers_kind_pk", "kind", "pk"),
)

# The authorization servers linked to a resource server: entered by an admin (endpoints and grant types) or
# discovered (their metadata, as JSON in ``detected_metadata``; the endpoint columns repeat it).
resource_auth_servers = _entity(
    "resource_auth_servers",
    Column("server_id", String(20), ForeignKey("resource_servers.id"), nullable=False),
    Column("issuer", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("authorization_endpoint", Text),
    Column("token_endpoint", Text),
    Column("grant_types", Text, nullable=False),
    Column("detected_metadata", Text, nullable=False),
    UniqueConstraint("server_id", "issuer"),
)

# The tools an MCP server listed when it was last discovered (``REMOVED``: listed before, not any more).
# ``fingerprint``: SHA-256 (hex) of the canonical JSON of the definition, to see a changed tool at a glance.
mcp_tools = _keyed(
    "mcp_tools",
    Column("server_id", String(20), nullable=False, index=True),
    Column("name", String(128), nullable=False),
    Column("title", Text),
    Column("description", Text),
    Column("input_schema", Text, nullable=False),
    Column("output_schema", Text),
    Column("annotations", Text),
    Column("fingerprint", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("discovered_ms", BigInteger, nullable=False),
    Column("last_seen_ms", BigInteger, nullable=False),
    Column("changed_ms", BigInteger, nullable=False),
    UniqueConstraint("server_id", "name"),
)

# The latest tool discovery of an MCP server per credential (client authentication settings).
mcp_discoveries = _keyed(
    "mcp_discoveries",
    Column("server_id", String(20), nullable=False),
    Column("client_auth_settings_id", String(20), nullable=False),
    Column("status", String(16), nullable=False),
    Column("started_ms", BigInteger, nullable=False),
    Column("completed_ms", BigInteger),
    Column("tool_count", Integer),
    Column("error_message", Text),
    UniqueConstraint("server_id", "client_auth_settings_id"),
)

# The capabilities a virtual MCP server is composed of: a tool of a registered MCP server, by name
# (``MISSING`` while the source tool is gone).
virtual_capabilities = _entity(
    "virtual_capabilities",
    Column("virtual_server_id", String(20), nullable=False),
    Column("source_server_id", String(20), nullable=False),
    Column("tool_name", String(128), nullable=False),
    Column("status", String(16), nullable=False),
    UniqueConstraint("virtual_server_id", "source_server_id", "tool_name"),
    Index("ix_virtual_capabilities_source", "source_server_id", "tool_name"),
)


# Event hooks (Okta's ``EventHook``): what to deliver, where. The auth header value is sealed like a client
# secret (AES-256-GCM, the hook id as associated data); custom header values are not secrets.
event_hooks = _entity(
    "event_hooks",
    Column("name", String(255), nullable=False),
    Column("description", Text),
    Column("status", String(16), nullable=False),
    Column("verification_status", String(16), nullable=False),
    Column("event_types", Text, nullable=False),  # JSON array of eventType names
    Column("uri", Text, nullable=False),
    Column("headers", Text, nullable=False),  # JSON array of {key, value}
    Column("auth_key", String(255)),
    Column("auth_value_sealed", LargeBinary),
    Column("source", Text, nullable=False),  # the delivery envelope's ``source``: this hook's URL
    Column("created_by", String(64), nullable=False),
)

# The log is the outbox: a hook's position is the last sequence number it has dealt with (``cursor_seq``).
# A claimed batch is the range (cursor_seq, pending_upto_seq] with a stable event id, so a retry resends
# the same envelope; the lease keeps other replicas off the hook while one of them is posting.
event_hook_deliveries = Table(
    "event_hook_deliveries",
    metadata,
    Column("hook_id", String(20), ForeignKey("event_hooks.id", ondelete="CASCADE"), primary_key=True),
    Column("cursor_seq", BigInteger, nullable=False),
    Column("pending_upto_seq", BigInteger),
    Column("pending_event_id", String(36)),
    Column("pending_event_time_ms", BigInteger),
    Column("next_attempt_ms", BigInteger, nullable=False),
    Column("lease_owner", String(32)),
    Column("lease_until_ms", BigInteger),
    Column("consecutive_failures", Integer, nullable=False, server_default="0"),
    Column("failing_since_ms", BigInteger),
    Column("last_success_ms", BigInteger),
    Column("last_error", Text),
    Column("last_error_ms", BigInteger),
    Column("paused_ms", BigInteger),  # set by the auto-pause; NULL while the hook may deliver
    Index("ix_event_hook_deliveries_next_attempt", "next_attempt_ms"),
)


# Admin console (migration 0006). The password hash is appended to ``users`` here rather than declared above
# so that the table definition stays as the earlier migrations left it: an Argon2id PHC string, or NULL when
# the user cannot sign in to the console with a password.
users.append_column(Column("password_hash", String(255)))

# Console sessions are server-side: the browser holds only a random secret whose SHA-256 is ``secret_hash``.
# ``id`` is public (it is the events' ``authenticationContext.externalSessionId``), so it is not the secret.
console_sessions = Table(
    "console_sessions",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("secret_hash", String(64), nullable=False, unique=True),
    Column("csrf_token", String(64), nullable=False),  # the synchronizer token of every form of the session
    Column("user_id", String(20), ForeignKey("users.id"), nullable=False, index=True),
    Column("token_id", String(20), ForeignKey("api_tokens.id")),  # set when signed in with an API token
    Column("credential", String(16), nullable=False),  # PASSWORD or API_TOKEN
    Column("scopes", Text, nullable=False),
    Column("ip_address", String(64)),
    Column("user_agent", Text),
    Column("created_ms", BigInteger, nullable=False),
    Column("last_seen_ms", BigInteger, nullable=False),
    Column("expires_ms", BigInteger, nullable=False),  # absolute expiry, whatever the activity
    Column("ended_ms", BigInteger),  # logout, password change or revoked token
)

# Requests per caller per one-minute window, shared by replicas (the in-memory limiter serves SQLite).
rate_limit_windows = Table(
    "rate_limit_windows",
    metadata,
    Column("caller", String(80), primary_key=True),
    Column("window", BigInteger, primary_key=True),
    Column("count", Integer, nullable=False),
)

# "Replica R took job J for object O at time T": periodic per-object work is done once per interval,
# whichever replica gets there first (an upsert that only wins when the previous claim has expired).
job_claims = Table(
    "job_claims",
    metadata,
    Column("job", String(64), primary_key=True),
    Column("object_id", String(64), primary_key=True),
    Column("claimed_ms", BigInteger, nullable=False),
)

# Token lifecycle (migration 0010), appended like ``password_hash`` above. ``expires_ms`` NULL: never expires;
# ``last_used_ms`` is written at most once a minute per token, outside the request's own transaction.
api_tokens.append_column(Column("expires_ms", BigInteger))
api_tokens.append_column(Column("last_used_ms", BigInteger))

# Console sign-in throttling (migration 0010): one row per failed, or still in-flight, sign-in attempt per
# subject (a hash of the account's login, or of the client address); counted over a sliding window.
signin_failures = Table(
    "signin_failures",
    metadata,
    Column("id", _PK, primary_key=True, autoincrement=True),
    Column("subject", String(80), nullable=False),
    Column("at_ms", BigInteger, nullable=False),
    Index("ix_signin_failures_subject_at_ms", "subject", "at_ms"),
    Index("ix_signin_failures_at_ms", "at_ms"),
)

# Event hook bounds (migration 0012), appended like ``password_hash`` above. ``body_limit_bytes``: the largest
# body the receiver is known to take (learned from its 413s; NULL: only REGISTRAR_HOOK_BATCH_BYTES applies).
# ``origin_seq``: the log head when the hook was created; what lies at or below it is history.
event_hook_deliveries.append_column(Column("body_limit_bytes", BigInteger))
event_hook_deliveries.append_column(Column("origin_seq", BigInteger, nullable=False, server_default="0"))

# Events a hook skipped because they were too large for it (over the byte cap on their own, or refused with
# 413 when sent alone): one row per skip, so a skip is never silent.
event_hook_skips = Table(
    "event_hook_skips",
    metadata,
    Column("pk", _PK, primary_key=True, autoincrement=True),
    Column("hook_id", String(20), ForeignKey("event_hooks.id", ondelete="CASCADE"), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("event_uuid", String(36), nullable=False),
    Column("event_type", String(128), nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("reason", Text, nullable=False),
    Column("skipped_ms", BigInteger, nullable=False),
    Index("ix_event_hook_skips_hook_id_pk", "hook_id", "pk"),
)

# The log's Merkle tree (migration 0013): the hash of every complete subtree, (level, index) as in
# ``registrar.tlog``: level 0 holds leaf hashes, so about two rows per event. Purges never touch it.
tlog_nodes = Table(
    "tlog_nodes",
    metadata,
    Column("level", SmallInteger, primary_key=True),
    Column("idx", BigInteger, primary_key=True),
    Column("hash", LargeBinary(32), nullable=False),
)

# The tree's right edge (migration 0013), appended like ``password_hash`` above: the hashes of the complete
# subtrees along it, largest first, 32 bytes each (their levels are the set bits of ``seq``); NULL: empty.
log_head.append_column(Column("frontier", LargeBinary))

# Signed-note checkpoints of the tree (migration 0014): one per tree size, the note signed by the signing key
# ``key_id``; ``created_ms`` is when it was last signed (a heartbeat re-signs the latest and refreshes it).
tlog_checkpoints = Table(
    "tlog_checkpoints",
    metadata,
    Column("size", BigInteger, primary_key=True, autoincrement=False),
    Column("root", LargeBinary(32), nullable=False),
    Column("note", Text, nullable=False),
    Column("key_id", String(64), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
)

# Witness cosignature lines (migration 0014), verified before they are stored: the newest per witness
# and size.
tlog_cosignatures = Table(
    "tlog_cosignatures",
    metadata,
    Column("size", BigInteger, primary_key=True, autoincrement=False),
    Column("witness_name", String(255), primary_key=True),
    Column("line", Text, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
)

# What each configured witness (REGISTRAR_WITNESSES) last cosigned and how the last attempt went. A replica
# submitting to a witness holds it until ``lease_ms``, so replicas never race each other for one witness.
tlog_witnesses = Table(
    "tlog_witnesses",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("vkey", Text, nullable=False),
    Column("url", Text, nullable=False),
    Column("size", BigInteger),
    Column("last_error", Text),
    Column("last_attempt_ms", BigInteger),
    Column("last_success_ms", BigInteger),
    Column("lease_ms", BigInteger),
)

# OAuth 2.0 service apps (migration 0016; registrar.store.service_apps): ``id`` is the client id, ``jwks`` the
# registered public keys (a JSON Web Key Set, checked on the way in: public keys only), ``scopes`` the granted
# scopes (space-separated). A revoked app keeps its row: its events still name it.
service_apps = _entity(
    "service_apps",
    Column("name", String(255), nullable=False),
    Column("jwks", Text, nullable=False),
    Column("scopes", Text, nullable=False),
    Column("revoked_ms", BigInteger),
)

# Client assertions already used at the token endpoint (RFC 7523 §3 item 7): one row per (client, ``jti``),
# keyed by their SHA-256, kept until the assertion's ``exp`` has passed. The primary key is what refuses a
# replay, across processes and replicas alike.
oauth_assertions = Table(
    "oauth_assertions",
    metadata,
    Column("jti_hash", String(64), primary_key=True),
    Column("expires_ms", BigInteger, nullable=False),
    Index("ix_oauth_assertions_expires_ms", "expires_ms"),
)
