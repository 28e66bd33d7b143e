"""Service apps for the OAuth tests: keys made at test time (never stored in the tree), apps registered
with their public half, assertions signed with the private half, and the token endpoint's answers."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey
from sqlalchemy import Engine
from starlette.testclient import TestClient

from registrar.oauth import ASSERTION_TYPE, parse_public_jwks
from registrar.store.service_apps import create_service_app

ORG = "http://testserver"  # the TestClient's origin
TOKEN_URL = f"{ORG}/oauth2/v1/token"
LOGS = "/api/v1/logs"
API_SERVERS = "/resource-servers/api/v1/api-servers"


@dataclass
class ClientKey:
    """A key pair of a service app: the private half signs, the public half is registered."""

    key: RSAKey | ECKey
    alg: str
    kid: str | None = None

    def public_jwk(self) -> dict[str, Any]:
        jwk: dict[str, Any] = dict(self.key.as_dict(private=False))
        if self.kid is not None:
            jwk["kid"] = self.kid
        return jwk

    def assertion(self, client_id: str, aud: str | list[str] = TOKEN_URL, **claims: Any) -> str:
        """A client assertion: RFC 7523's claims for ``client_id``, overridden by ``claims`` (None drops)."""
        now = int(time.time())
        body = {"iss": client_id, "sub": client_id, "aud": aud, "iat": now, "exp": now + 300}
        body["jti"] = str(uuid.uuid4())
        body.update(claims)
        header = {"alg": self.alg, **({"kid": self.kid} if self.kid else {})}
        return jwt.encode(
            header, {k: v for k, v in body.items() if v is not None}, self.key, algorithms=[self.alg]
        )


def rsa_key(kid: str | None = None) -> ClientKey:
    """A new RSA key (RS256), as the okta SDK's PrivateKey mode uses."""
    return ClientKey(
        RSAKey.import_key(rsa.generate_private_key(public_exponent=65537, key_size=2048)), "RS256", kid
    )


def ec_key(kid: str | None = None) -> ClientKey:
    """A new P-256 key (ES256)."""
    return ClientKey(ECKey.import_key(ec.generate_private_key(ec.SECP256R1())), "ES256", kid)


MakeApp = Callable[..., tuple[str, ClientKey]]


@pytest.fixture
def make_app(engine: Engine) -> MakeApp:
    """Register a service app with a new key (or ``key``); returns its client id and the key."""

    def make(
        *scopes: str, name: str = "SIEM collector", key: ClientKey | None = None
    ) -> tuple[str, ClientKey]:
        key = key or rsa_key()
        jwks = parse_public_jwks(orjson.dumps({"keys": [key.public_jwk()]}))
        with engine.begin() as conn:
            app = create_service_app(conn, name, jwks.json, scopes or ("okta.logs.read",))
        return app.client_id, key

    return make


def token_request(
    client: TestClient, assertion: str | None, scope: str | None = "okta.logs.read", **form: str
) -> Any:
    """POST the token endpoint: the client credentials grant with ``assertion``."""
    data = {"grant_type": "client_credentials", "client_assertion_type": ASSERTION_TYPE, **form}
    if assertion is not None:
        data["client_assertion"] = assertion
    if scope is not None:
        data["scope"] = scope
    return client.post("/oauth2/v1/token", data=data)


def access_token(client: TestClient, client_id: str, key: ClientKey, scope: str = "okta.logs.read") -> str:
    """A new access token for the app."""
    response = token_request(client, key.assertion(client_id), scope)
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
