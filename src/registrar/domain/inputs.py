"""Request bodies: parsed and validated here, inside the audited operation, so a bad body is a FAILURE event.

Error messages name the field and the rule, never the value: a rejected body may hold a client secret.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from registrar.errors import MalformedBody, ValidationFailed

__all__ = [
    "ApiServerCreate",
    "ApiServerPatch",
    "AuthServerCreate",
    "AuthServerLink",
    "AuthServerPatch",
    "ClientAuthSettingsCreate",
    "ClientAuthSettingsPatch",
    "parse_body",
]

# Control characters are refused in every text field (NUL cannot even be stored by PostgreSQL);
# descriptions may hold tabs and line breaks.
_LINE = r"^[^\x00-\x1f\x7f]*$"
_TEXT = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
Name = Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=_LINE)]
Description = Annotated[str, StringConstraints(max_length=1024, pattern=_TEXT)]
Url = Annotated[str, StringConstraints(min_length=1, max_length=2048)]
Scope = Annotated[
    str, StringConstraints(min_length=1, max_length=255, pattern=r"^[\x21\x23-\x5B\x5D-\x7E]+$")
]
GrantType = Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=_LINE)]
Secret = Annotated[str, StringConstraints(min_length=1, max_length=1024, pattern=_LINE)]
AuthMethod = Literal["client_secret_basic", "client_secret_post", "client_secret_jwt"]


class _Body(BaseModel):
    # Unknown members are refused rather than ignored: a misspelt field must not pass as a no-op.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class ServerMetadata(_Body):
    displayName: Name
    description: Description | None = None


class ServerMetadataPatch(_Body):
    displayName: Name | None = None
    description: Description | None = None


class ApiServerCreate(_Body):
    resourceUrl: Url
    metadata: ServerMetadata


class ApiServerPatch(_Body):
    resourceUrl: Url | None = None
    metadata: ServerMetadataPatch | None = None


class AuthServerCreate(_Body):
    issuer: Url
    authorizationEndpoint: Url
    tokenEndpoint: Url
    grantTypesSupported: Annotated[list[GrantType], Field(min_length=1, max_length=20)]


class AuthServerLink(_Body):
    """An authorization server named by its issuer: its metadata is discovered, the issuer matched exactly."""

    issuer: Url


class AuthServerPatch(_Body):
    issuer: Url | None = None
    authorizationEndpoint: Url | None = None
    tokenEndpoint: Url | None = None
    grantTypesSupported: Annotated[list[GrantType], Field(min_length=1, max_length=20)] | None = None


class ClientConfiguration(_Body):
    clientId: Name
    clientSecret: Secret
    scopes: Annotated[list[Scope], Field(max_length=100)] = []
    tokenEndpointAuthMethod: AuthMethod = "client_secret_basic"


class ClientConfigurationPatch(_Body):
    clientId: Name | None = None
    clientSecret: Secret | None = None
    scopes: Annotated[list[Scope], Field(max_length=100)] | None = None
    tokenEndpointAuthMethod: AuthMethod | None = None


class ClientAuthSettingsCreate(_Body):
    name: Name
    resourceOrn: Annotated[str, StringConstraints(min_length=1, max_length=512)]
    # Okta restricts purpose to exactly one value (release 2026.07.0); STS is the one defined.
    purpose: Annotated[list[Literal["STS"]], Field(min_length=1, max_length=1)] = ["STS"]
    configuration: ClientConfiguration


class ClientAuthSettingsPatch(_Body):
    name: Name | None = None
    resourceOrn: Annotated[str, StringConstraints(min_length=1, max_length=512)] | None = None
    purpose: Annotated[list[Literal["STS"]], Field(min_length=1, max_length=1)] | None = None
    configuration: ClientConfigurationPatch | None = None


_M = TypeVar("_M", bound=_Body)


def parse_body(raw: bytes, model: type[_M]) -> tuple[_M, dict[str, Any]]:
    """Decode a JSON object and validate it; returns the model and the raw mapping (for merge-patch nulls)."""
    try:
        data = orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        raise MalformedBody() from None
    if not isinstance(data, dict):
        raise MalformedBody()
    try:
        return model.model_validate(data), data
    except ValidationError as exc:
        causes = []
        for error in exc.errors(include_input=False, include_url=False):
            where = ".".join(str(part) for part in error["loc"]) or "body"
            causes.append(f"{where}: {_message(error)}")
        raise ValidationFailed(causes) from None


def _message(error: Any) -> str:
    kind = error["type"]
    if kind == "missing":
        return "The field cannot be left blank"
    if kind == "extra_forbidden":
        return "Unknown property"
    return str(error["msg"])
