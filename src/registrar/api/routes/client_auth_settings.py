"""``/resource-servers/api/v1/client-auth-settings``."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from registrar.domain.inputs import ClientAuthSettingsCreate, ClientAuthSettingsPatch
from registrar.services import client_auth_settings as svc

from ..deps import CurrentToken, ServiceDeps, body_schema
from ..responses import (
    CLIENT_AUTH_SETTINGS,
    base_url,
    client_auth_settings_json,
    json_response,
    list_response,
    page_params,
)
from ..security import request_context, require_scope

__all__ = ["router"]

router = APIRouter(prefix=CLIENT_AUTH_SETTINGS, tags=["Client authentication settings"])

_READ = (
    "okta.resourceServers.clientAuthSettings.read",
    "okta.resourceServers.clientAuthSettings.manage",
    "okta.resourceServers.apiServers.read",
    "okta.resourceServers.mcpServers.read",
)


@router.post("", status_code=201, openapi_extra=body_schema(ClientAuthSettingsCreate))
async def create_client_auth_settings(request: Request, deps: ServiceDeps, token: CurrentToken) -> Response:
    """Create client authentication settings."""
    body = await request.body()
    settings = await run_in_threadpool(svc.create, deps, request_context(request, token), body)
    return json_response(client_auth_settings_json(settings, base_url(request), deps.org_id), 201)


@router.get("")
def list_client_auth_settings(
    request: Request, deps: ServiceDeps, token: CurrentToken, search: str | None = None
) -> Response:
    """List client authentication settings."""
    require_scope(token, *_READ)
    limit, after = page_params(request)
    page = deps.reads.run(
        lambda engine: svc.list_settings(deps.reading_from(engine), limit=limit, after=after, search=search)
    )
    base = base_url(request)
    return list_response(
        request, page.items, page.next_cursor, lambda s: client_auth_settings_json(s, base, deps.org_id)
    )


@router.get("/{settings_id}")
def get_client_auth_settings(
    request: Request, settings_id: str, deps: ServiceDeps, token: CurrentToken
) -> Response:
    """Retrieve client authentication settings (never the secret)."""
    require_scope(token, *_READ)
    settings = svc.get_settings(deps, settings_id)
    return json_response(client_auth_settings_json(settings, base_url(request), deps.org_id))


@router.patch("/{settings_id}", openapi_extra=body_schema(ClientAuthSettingsPatch, merge_patch=True))
async def update_client_auth_settings(
    request: Request, settings_id: str, deps: ServiceDeps, token: CurrentToken
) -> Response:
    """Update client authentication settings (JSON merge patch)."""
    body = await request.body()
    settings = await run_in_threadpool(svc.update, deps, request_context(request, token), settings_id, body)
    return json_response(client_auth_settings_json(settings, base_url(request), deps.org_id))


@router.delete("/{settings_id}", status_code=204)
def delete_client_auth_settings(
    request: Request, settings_id: str, deps: ServiceDeps, token: CurrentToken
) -> Response:
    """Delete client authentication settings."""
    svc.delete_settings(deps, request_context(request, token), settings_id)
    return Response(status_code=204)
