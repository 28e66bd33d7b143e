"""The org authorization server's signing key, and the access tokens it issues (RFC 9068 JWTs).

The key is an ES256 (P-256) key derived from a 32-byte seed kept in ``<data dir>/registrar-oauth.key``,
made on first use with mode 0600 and refused if group or others may read it, exactly as the secret key is
(:func:`registrar.crypto.load_key`). Every process of one installation reads the same file, so a token one
worker issued is accepted by all of them; replicas on other hosts need a copy of the file. Replacing the
file (a new seed) invalidates every token issued before, once each process has noticed the change (it
compares the file's identity before using the key, as the checkpoint signer does).

An access token is ``{"typ": "at+jwt", "alg": "ES256", "kid": <thumbprint>}`` over ``iss`` and ``aud``
(both the org URL), ``sub`` and ``client_id`` (the app), ``iat``, ``exp`` (an hour later), ``jti``, and
the granted scopes twice: ``scope`` (RFC 9068, space-separated) and ``scp`` (Okta's array). Checking one
reads nothing but the clock: the signature, the header, every claim; whether the app was revoked since is
:mod:`registrar.oauth._live`'s question.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey

from registrar.config import Settings
from registrar.crypto import load_key

__all__ = [
    "ACCESS_TOKEN_SECONDS",
    "AccessToken",
    "Authority",
    "IssuedToken",
    "authority_for",
    "key_file",
    "looks_like_jwt",
    "token_hash",
]

ACCESS_TOKEN_SECONDS = 3600
MAX_ACCESS_TOKEN_LENGTH = 8192
KEY_FILE_NAME = "registrar-oauth.key"
_ALGORITHM = "ES256"
_TYPES = frozenset({"at+jwt", "application/at+jwt"})
_SKEW_SECONDS = 60  # an ``iat`` this far ahead of our clock is still believed (another replica's clock)
# Order of the P-256 group: a seed maps onto a scalar in [1, n - 1].
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """An access token just signed: its text, ``jti`` and expiry (epoch seconds)."""

    token: str  # the compact JWS
    jti: str
    expires_at: int


@dataclass(frozen=True, slots=True)
class AccessToken:
    """What a valid access token says."""

    client_id: str  # the service app it was issued to (``sub`` and ``cid``)
    scopes: frozenset[str]
    jti: str
    expires_at: int  # epoch seconds


def looks_like_jwt(text: str) -> bool:
    """Whether ``text`` has a compact JWS's shape (three dot-separated parts): API tokens never do."""
    return text.count(".") == 2 and text.startswith("eyJ")


def token_hash(token: str) -> str:
    """A short, one-way name for a token (what its grant event records, never the token)."""
    return base64.urlsafe_b64encode(hashlib.sha256(token.encode()).digest()[:16]).rstrip(b"=").decode()


class Authority:
    """Issues and checks access tokens with one signing key."""

    def __init__(self, key: ECKey):
        self._key = key
        self.kid = key.thumbprint()
        public = key.as_dict(private=False)
        self._public = ECKey.import_key(public)
        self._jwks = {"keys": [{**public, "kid": self.kid, "use": "sig", "alg": _ALGORITHM}]}

    @classmethod
    def from_seed(cls, seed: bytes) -> Authority:
        """The authority whose P-256 key is derived from a 32-byte ``seed``."""
        scalar = int.from_bytes(seed, "big") % (_P256_ORDER - 1) + 1
        return cls(ECKey.import_key(ec.derive_private_key(scalar, ec.SECP256R1())))

    def jwks(self) -> dict[str, Any]:
        """The public key set (``/oauth2/v1/keys``)."""
        return self._jwks

    def issue(self, issuer: str, client_id: str, scopes: Iterable[str], now: int) -> IssuedToken:
        """A new access token for ``client_id`` with ``scopes``, valid for an hour from ``now``."""
        granted = list(dict.fromkeys(scopes))
        jti = "AT." + secrets.token_urlsafe(32)
        expires = now + ACCESS_TOKEN_SECONDS
        claims = {
            "ver": 1,
            "jti": jti,
            "iss": issuer,
            "aud": issuer,
            "sub": client_id,
            "client_id": client_id,
            "iat": now,
            "exp": expires,
            "scope": " ".join(granted),
            "scp": granted,
        }
        header = {"typ": "at+jwt", "alg": _ALGORITHM, "kid": self.kid}
        return IssuedToken(jwt.encode(header, claims, self._key, algorithms=[_ALGORITHM]), jti, expires)

    def verify(self, token: str, issuer: str, now: int) -> AccessToken | None:
        """The token's claims if this authority issued it for ``issuer`` and it has not expired; else None."""
        if len(token) > MAX_ACCESS_TOKEN_LENGTH:
            return None
        try:
            decoded = jwt.decode(token, self._public, algorithms=[_ALGORITHM])
        except (JoseError, ValueError, TypeError):
            return None
        header, claims = decoded.header, decoded.claims
        if str(header.get("typ", "")).lower() not in _TYPES or header.get("kid") != self.kid:
            return None
        client_id, scope, jti = claims.get("client_id"), claims.get("scope"), claims.get("jti")
        exp, iat = claims.get("exp"), claims.get("iat")
        if not (
            isinstance(client_id, str)
            and isinstance(scope, str)
            and isinstance(jti, str)
            and isinstance(exp, int)
            and isinstance(iat, int)
        ):
            return None
        mine = claims.get("iss") == issuer and claims.get("aud") == issuer and claims.get("sub") == client_id
        if not mine or exp <= now or iat > now + _SKEW_SECONDS:
            return None
        return AccessToken(client_id, frozenset(scope.split()), jti, exp)


_authorities: dict[tuple[object, ...], Authority] = {}
_lock = threading.Lock()


def _stamp(path: Path) -> tuple[object, ...]:
    try:
        st = path.stat()
    except FileNotFoundError:
        return (path,)
    return (path, st.st_dev, st.st_ino, st.st_mtime_ns)


def key_file(settings: Settings) -> Path:
    """Where the installation's OAuth signing key is kept."""
    return settings.data_dir / KEY_FILE_NAME


def authority_for(settings: Settings) -> Authority:
    """The authority of this installation (its key file is made with mode 0600 on first use)."""
    path = key_file(settings)
    stamp = _stamp(path)
    authority = _authorities.get(stamp)
    if authority is None:
        with _lock:
            authority = Authority.from_seed(load_key(None, path))
            if len(_authorities) > 16:
                _authorities.clear()
            _authorities[_stamp(path)] = authority
    return authority
