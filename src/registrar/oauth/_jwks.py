"""The public keys a service app registers (a JSON Web Key Set, RFC 7517), checked before they are stored.

Only signing keys Registrar trusts for ``private_key_jwt`` are taken: RSA of 2048 to 8192 bits, or EC on
P-256 or P-384, public members only. A set holding private key material (``d``, an RSA key's primes, a
symmetric ``k``) is refused outright rather than cleaned: that key has left its owner and must be
replaced, not registered. What is stored is rebuilt from the members that matter (the key, ``kid``,
``alg``, ``use``), so nothing else a file carried reaches the database or an event. A key without a
``kid`` gets its RFC 7638 thumbprint as one.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, RSAKey

from registrar.controls import has_controls

__all__ = [
    "ALGORITHMS",
    "MAX_JWKS_BYTES",
    "MAX_KEYS",
    "InvalidKeySet",
    "PublicKeySet",
    "RegisteredKey",
    "algorithms_of",
    "load_key_set",
    "parse_public_jwks",
    "stored_key_ids",
]

MAX_JWKS_BYTES = 32 * 1024
MAX_KEYS = 10
_MAX_KID = 128
_RSA_BITS = (2048, 8192)
_RSA_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")
_EC_ALGORITHMS = {"P-256": ("ES256",), "P-384": ("ES384",)}
ALGORITHMS: tuple[str, ...] = (*_RSA_ALGORITHMS, "ES256", "ES384")
# Members that only a private (or symmetric) key has (RFC 7518 §6.2.2, §6.3.2, §6.4.1).
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_PUBLIC_MEMBERS = {"RSA": ("n", "e"), "EC": ("crv", "x", "y")}

RegisteredKey = ECKey | RSAKey


class InvalidKeySet(ValueError):
    """A key set that cannot be registered; the message says why, for the operator."""


@dataclass(frozen=True, slots=True)
class PublicKeySet:
    """A checked key set: the JSON stored for the app, and its key ids in order."""

    json: str
    key_ids: tuple[str, ...]


def parse_public_jwks(data: bytes) -> PublicKeySet:
    """Check ``data`` (a JWKS document, or a single JWK) and return what to store; else InvalidKeySet."""
    if len(data) > MAX_JWKS_BYTES:
        raise InvalidKeySet(f"the key set is {len(data)} bytes; at most {MAX_JWKS_BYTES} are accepted")
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise InvalidKeySet(f"the key set is not JSON ({error})") from None
    if isinstance(document, dict) and "keys" not in document and "kty" in document:
        document = {"keys": [document]}  # one bare JWK, as key tools print it
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise InvalidKeySet('the key set must be a JSON object with a "keys" array (RFC 7517 §5)')
    keys = document["keys"]
    if not 1 <= len(keys) <= MAX_KEYS:
        raise InvalidKeySet(f"the key set must hold 1 to {MAX_KEYS} keys, not {len(keys)}")
    stored: list[dict[str, Any]] = []
    for number, member in enumerate(keys, 1):
        try:
            stored.append(_public_key(member))
        except InvalidKeySet as error:
            raise InvalidKeySet(f"key {number}: {error}") from None
    kids = [key["kid"] for key in stored]
    if len(set(kids)) != len(kids):
        raise InvalidKeySet("two keys have the same kid")
    return PublicKeySet(orjson.dumps({"keys": stored}).decode(), tuple(kids))


def _public_key(member: Any) -> dict[str, Any]:
    if not isinstance(member, dict):
        raise InvalidKeySet("not a JSON object")
    private = sorted(_PRIVATE_MEMBERS & member.keys())
    if private:
        raise InvalidKeySet(
            f"holds private key material ({', '.join(private)}): register the public key only, and "
            "treat this private key as exposed"
        )
    kty = member.get("kty")
    if kty not in _PUBLIC_MEMBERS:
        raise InvalidKeySet(f'kty must be "RSA" or "EC", not {kty!r}')
    use = member.get("use")
    if use is not None and use != "sig":
        raise InvalidKeySet(f'use must be "sig" (a signing key), not {use!r}')
    ops = member.get("key_ops")
    if ops is not None and (not isinstance(ops, list) or not set(ops) <= {"verify"}):
        raise InvalidKeySet('key_ops may only name "verify"')
    values = {name: member.get(name) for name in _PUBLIC_MEMBERS[kty]}
    if not all(isinstance(value, str) and value for value in values.values()):
        raise InvalidKeySet(f"{kty} keys need {', '.join(_PUBLIC_MEMBERS[kty])} (strings)")
    key = _import({"kty": kty, **values})
    alg = member.get("alg")
    if alg is not None and alg not in algorithms_of(key):
        raise InvalidKeySet(f"alg {alg!r} does not fit this key (it may use {', '.join(algorithms_of(key))})")
    kid = member.get("kid")
    if kid is None:
        kid = key.thumbprint()
    if not isinstance(kid, str) or not 0 < len(kid) <= _MAX_KID or has_controls(kid) or " " in kid:
        raise InvalidKeySet(f"kid must be 1 to {_MAX_KID} printable characters without spaces")
    return {"kty": kty, **values, "kid": kid, **({"alg": alg} if alg else {}), "use": "sig"}


def _import(fields: Mapping[str, Any]) -> RegisteredKey:
    if fields["kty"] == "RSA":  # before importing: joserfc only warns about a short key
        bits = _modulus_bits(fields["n"])
        if not _RSA_BITS[0] <= bits <= _RSA_BITS[1]:
            raise InvalidKeySet(f"RSA keys must have {_RSA_BITS[0]} to {_RSA_BITS[1]} bits, not {bits}")
    try:
        key: RegisteredKey = (RSAKey if fields["kty"] == "RSA" else ECKey).import_key(dict(fields))
    except (JoseError, ValueError, TypeError) as error:
        raise InvalidKeySet(f"not a valid {fields['kty']} public key ({error})") from None
    if isinstance(key, ECKey) and key.curve_name not in _EC_ALGORITHMS:
        raise InvalidKeySet(f"EC keys must be on P-256 or P-384, not {key.curve_name}")
    return key


def _modulus_bits(n: str) -> int:
    try:
        return int.from_bytes(base64.urlsafe_b64decode(n + "=" * (-len(n) % 4)), "big").bit_length()
    except (ValueError, binascii.Error):
        raise InvalidKeySet("not a valid RSA public key (n is not base64url)") from None


def algorithms_of(key: RegisteredKey) -> tuple[str, ...]:
    """The JWS algorithms an assertion signed with ``key`` may use (its ``alg`` alone, when it names one)."""
    fits = _RSA_ALGORITHMS if isinstance(key, RSAKey) else _EC_ALGORITHMS[key.curve_name]
    alg = key.alg
    return (alg,) if alg is not None and alg in fits else fits


def load_key_set(stored: str) -> Sequence[tuple[str, RegisteredKey]]:
    """The keys of a stored (already checked) key set, by kid."""
    loaded = []
    for member in orjson.loads(stored)["keys"]:
        cls = RSAKey if member["kty"] == "RSA" else ECKey
        loaded.append((member["kid"], cls.import_key(member)))
    return loaded


def stored_key_ids(stored: str) -> list[str]:
    """The key ids of a stored key set, in order."""
    return [member["kid"] for member in orjson.loads(stored)["keys"]]
