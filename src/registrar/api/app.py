"""The application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel
from sqlalchemy import Engine

from registrar.config import Settings
from registrar.console import install_console
from registrar.context import Enricher
from registrar.crypto import SecretBox, load_key
from registrar.domain import inputs
from registrar.jobs import Scheduler
from registrar.jobs.registry import build_jobs
from registrar.kinds import KINDS
from registrar.services.deps import Deps
from registrar.store.database import create_database_engine, migrate
from registrar.store.replica import check_installation, create_replica_engine
from registrar.store.repositories import org_id
from registrar.syslog.cache import ByteCache
from registrar.syslog.pages import PageCache

from .errors import install_error_handlers
from .middleware import RegistrarMiddleware
from .ratelimit import rate_limiter_for
from .routes import (
    checkpoints,
    client_auth_settings,
    event_hooks,
    health,
    logs,
    mcp_discoveries,
    mcp_registry,
    metrics,
    oauth,
    resource_servers,
    tlog,
    tlog_checkpoints,
    users,
)
from .slow_work import SlowWork

__all__ = ["create_app"]

_BODY_MODELS: tuple[type[BaseModel], ...] = (
    *dict.fromkeys(model for kind in KINDS.values() for model in (kind.create_model, kind.patch_model)),
    inputs.AuthServerCreate,
    inputs.AuthServerLink,
    inputs.AuthServerPatch,
    inputs.ClientAuthSettingsCreate,
    inputs.ClientAuthSettingsPatch,
    mcp_discoveries.DiscoveryCreate,
)


def create_app(settings: Settings | None = None, *, engine: Engine | None = None) -> FastAPI:
    """A Registrar application on ``settings`` (from the environment by default); migrates the store."""
    settings = settings or Settings.from_env()
    engine = engine or create_database_engine(
        settings.database_url,
        sqlite_synchronous=settings.sqlite_synchronous,
        wait_seconds=settings.db_wait_seconds,
        statement_timeout=settings.statement_timeout_seconds,
        group_commit=settings.group_commit,
        background_checkpoints=True,
    )
    migrate(engine)
    with engine.connect() as conn:
        org = org_id(conn)
    box = SecretBox(load_key(settings.secret_key, settings.secret_key_file))
    replica = _replica_engine(settings, engine, org)
    deps = Deps(engine=engine, box=box, settings=settings, org_id=org, replica_engine=replica)
    enricher = Enricher.from_settings(settings)
    scheduler = Scheduler(build_jobs(deps) if settings.jobs_enabled else [])

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        scheduler.start()
        try:
            yield
        finally:
            scheduler.stop()
            if replica is not None:
                replica.dispose()

    app = FastAPI(
        lifespan=lifespan,
        title="Registrar",
        version="0.1.0",
        summary="Registry of API and MCP resource servers, audited to an Okta-compatible System Log.",
        docs_url=None,
        redoc_url=None,
    )
    app.state.deps = deps
    app.state.enricher = enricher
    app.state.scheduler = scheduler
    app.state.readiness = health.Readiness(engine, scheduler, jobs=settings.jobs_enabled)
    # Immutable System Log pages and tlog tiles, one byte budget (registrar.syslog.pages, routes.tlog).
    app.state.read_cache = ByteCache[object](settings.page_cache_bytes)
    app.state.log_pages = PageCache(app.state.read_cache)
    app.state.discoveries = SlowWork(
        "MCP discoveries",
        total=settings.discovery_concurrency,
        per_token=settings.discovery_concurrency_per_token,
        queue_seconds=settings.discovery_queue_seconds,
    )
    for router in resource_servers.routers():
        app.include_router(router)
    app.include_router(mcp_discoveries.router)
    app.include_router(client_auth_settings.router)
    app.include_router(checkpoints.router)
    app.include_router(tlog_checkpoints.router)
    app.include_router(tlog.router)
    app.include_router(metrics.router)
    app.include_router(health.router)
    app.include_router(logs.router)
    app.include_router(users.router)
    app.include_router(oauth.router)
    app.include_router(mcp_registry.router)
    install_console(app)
    app.include_router(event_hooks.router)
    install_error_handlers(app)
    app.add_middleware(
        RegistrarMiddleware,
        limiter=rate_limiter_for(settings, engine),
        trusted_proxies=enricher.trusted_proxies,
        max_body_bytes=settings.max_body_bytes,
        access_log=settings.log_format == "json",
    )
    _publish_body_schemas(app)
    return app


def _replica_engine(settings: Settings, primary: Engine, org: str) -> Engine | None:
    """The read-only engine on ``REGISTRAR_READ_DATABASE_URL`` (never migrated), or None when unset."""
    if not settings.read_database_url:
        return None
    if primary.dialect.name != "postgresql":
        raise ValueError("REGISTRAR_READ_DATABASE_URL needs a PostgreSQL primary (REGISTRAR_DATABASE_URL)")
    replica = create_replica_engine(
        settings.read_database_url,
        wait_seconds=settings.db_wait_seconds,
        statement_timeout=settings.statement_timeout_seconds,
    )
    check_installation(replica, org)
    return replica


def _publish_body_schemas(app: FastAPI) -> None:
    """Add the request-body models (parsed inside the operations) to the OpenAPI components."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = original()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for model in _BODY_MODELS:
            full = model.model_json_schema(ref_template="#/components/schemas/{model}")
            components.update(full.pop("$defs", {}))
            components[model.__name__] = full
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                for media in operation.get("requestBody", {}).get("content", {}).values():
                    media["schema"].pop("$defs", None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
