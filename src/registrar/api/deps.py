"""FastAPI dependency aliases shared by the routers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

from registrar.domain.entities import ApiToken
from registrar.services.deps import Deps

from .security import authenticate

__all__ = ["CurrentToken", "ServiceDeps", "body_schema"]


async def _deps(request: Request) -> Deps:
    # Async: it only reads app state, and a sync dependency costs a hop to the thread pool and back.
    deps: Deps = request.app.state.deps
    return deps


def _token(request: Request) -> ApiToken:
    deps: Deps = request.app.state.deps
    return authenticate(deps.engine, request)


ServiceDeps = Annotated[Deps, Depends(_deps)]
# A sync dependency: FastAPI runs it in the thread pool, so the token lookup never blocks the loop.
CurrentToken = Annotated[ApiToken, Depends(_token)]


def body_schema(model: type[Any], *, merge_patch: bool = False) -> dict[str, Any]:
    """``openapi_extra`` declaring a request body that the operation itself parses and audits."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    content_types = ["application/json", *(["application/merge-patch+json"] if merge_patch else [])]
    return {
        "requestBody": {
            "required": True,
            "content": {ct: {"schema": schema} for ct in content_types},
        }
    }
