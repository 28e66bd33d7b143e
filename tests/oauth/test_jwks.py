"""What ``registrar service-apps create --jwks`` registers: public signing keys of the accepted kinds only,
rebuilt from their public members, each with a kid; everything else is refused with the reason."""

from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from joserfc.jwk import ECKey, OctKey, RSAKey

from registrar.oauth import InvalidKeySet, parse_public_jwks
from registrar.oauth._jwks import MAX_JWKS_BYTES, MAX_KEYS

from .conftest import ec_key, rsa_key


def _short_rsa() -> dict[str, Any]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - the key refused
    numbers = key.public_key().public_numbers()
    n = base64.urlsafe_b64encode(numbers.n.to_bytes(128, "big")).rstrip(b"=").decode()
    return {"kty": "RSA", "n": n, "e": "AQAB"}


def _set(*keys: dict[str, Any]) -> bytes:
    return orjson.dumps({"keys": list(keys)})


def _stored(data: bytes) -> list[dict[str, Any]]:
    keys: list[dict[str, Any]] = orjson.loads(parse_public_jwks(data).json)["keys"]
    return keys


def test_rsa_and_ec_public_keys_are_registered_with_their_public_members_only() -> None:
    rsa_jwk = rsa_key(kid="rsa-1").public_jwk() | {"alg": "RS256", "x5t": "ignored", "ext": True}
    ec_jwk = ec_key().public_jwk()
    p384 = ECKey.import_key(ec.generate_private_key(ec.SECP384R1())).as_dict(private=False)
    stored = _stored(_set(rsa_jwk, ec_jwk, p384))
    assert stored[0] == {
        "kty": "RSA",
        "n": rsa_jwk["n"],
        "e": rsa_jwk["e"],
        "kid": "rsa-1",
        "alg": "RS256",
        "use": "sig",
    }
    # Without a kid, a key is named by its RFC 7638 thumbprint.
    assert stored[1]["kid"] == ECKey.import_key(ec_jwk).thumbprint()
    assert set(stored[1]) == {"kty", "crv", "x", "y", "kid", "use"}
    assert stored[2]["crv"] == "P-384"
    assert parse_public_jwks(_set(rsa_jwk, ec_jwk, p384)).key_ids == (
        "rsa-1",
        stored[1]["kid"],
        stored[2]["kid"],
    )


def test_a_single_jwk_is_a_set_of_one() -> None:
    jwk = ec_key(kid="only").public_jwk()
    assert parse_public_jwks(orjson.dumps(jwk)).key_ids == ("only",)


@pytest.mark.parametrize("member", ["d", "p", "q", "dp", "dq", "qi"])
def test_private_rsa_material_is_refused(member: str) -> None:
    private = RSAKey.import_key(rsa.generate_private_key(public_exponent=65537, key_size=2048)).as_dict(
        private=True
    )
    public = {k: v for k, v in private.items() if k not in {"d", "p", "q", "dp", "dq", "qi"}}
    with pytest.raises(InvalidKeySet, match=rf"private key material \({member}\)"):
        parse_public_jwks(_set(public | {member: private[member]}))


def test_a_private_ec_key_is_refused_and_called_exposed() -> None:
    private = ECKey.import_key(ec.generate_private_key(ec.SECP256R1())).as_dict(private=True)
    with pytest.raises(InvalidKeySet, match=r"key 1: holds private key material \(d\).*exposed"):
        parse_public_jwks(_set(private))


def test_a_symmetric_key_is_refused() -> None:
    with pytest.raises(InvalidKeySet, match=r"private key material \(k\)"):
        parse_public_jwks(_set(dict(OctKey.generate_key(256).as_dict(private=True))))


@pytest.mark.parametrize(
    ("jwk", "message"),
    [
        (_short_rsa(), "RSA keys must have 2048 to 8192 bits, not 1024"),
        (
            ECKey.import_key(ec.generate_private_key(ec.SECP521R1())).as_dict(private=False),
            "EC keys must be on P-256 or P-384",
        ),
        ({"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}, "kty must be"),
        (ec_key().public_jwk() | {"use": "enc"}, 'use must be "sig"'),
        (ec_key().public_jwk() | {"key_ops": ["sign"]}, 'key_ops may only name "verify"'),
        (ec_key().public_jwk() | {"alg": "RS256"}, "alg 'RS256' does not fit this key"),
        (ec_key().public_jwk() | {"x": "AAAA"}, "not a valid EC public key"),
        ({"kty": "RSA", "n": "", "e": "AQAB"}, "RSA keys need n, e"),
        (ec_key().public_jwk() | {"kid": "a\x1bb"}, "kid must be 1 to 128 printable characters"),
    ],
)
def test_keys_registrar_does_not_trust_are_refused(jwk: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidKeySet, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_public_jwks(_set(jwk))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"not json", "not JSON"),
        (b"[]", 'a "keys" array'),
        (b'{"keys": []}', "1 to 10 keys, not 0"),
        (b'{"keys": [1]}', "key 1: not a JSON object"),
        (b" " * (MAX_JWKS_BYTES + 1), f"at most {MAX_JWKS_BYTES}"),
    ],
)
def test_malformed_sets_are_refused(data: bytes, message: str) -> None:
    with pytest.raises(InvalidKeySet, match=message):
        parse_public_jwks(data)


def test_bounded_number_of_keys_and_unique_kids() -> None:
    key = ec_key().public_jwk()
    with pytest.raises(InvalidKeySet, match=f"1 to {MAX_KEYS} keys, not {MAX_KEYS + 1}"):
        parse_public_jwks(_set(*[ec_key().public_jwk() for _ in range(MAX_KEYS + 1)]))
    with pytest.raises(InvalidKeySet, match="same kid"):
        parse_public_jwks(_set(key, key))
