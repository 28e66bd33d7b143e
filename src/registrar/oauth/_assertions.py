"""Client assertions (``private_key_jwt``, RFC 7523 §3 and OpenID Connect Core §9), checked against the keys
the app registered.

An assertion is accepted when it is signed by one of the app's keys (the one its ``kid`` names; without a
``kid``, any of them) with an algorithm that key allows; ``iss`` and ``sub`` are both the client id;
``aud`` (a string or an array) names one of ``audiences`` (the token endpoint as the request reached it,
then the issuer); it has
an ``exp`` that has not passed and lies at most :data:`MAX_LIFETIME_SECONDS` ahead (a long-lived
assertion is a bearer credential by another name); ``nbf`` and ``iat``, when present, are not in the
future; and it has a ``jti``. That the ``jti`` was never used before is the caller's check
(:func:`registrar.store.service_apps.claim_assertion`), made only once everything here holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jws import extract_compact

from registrar.errors import Refusal
from registrar.ids import is_object_id

from ._jwks import algorithms_of, load_key_set

__all__ = [
    "ASSERTION_TYPE",
    "MAX_LIFETIME_SECONDS",
    "AssertionRefused",
    "VerifiedAssertion",
    "claimed_client_id",
    "verify_assertion",
]

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
MAX_LIFETIME_SECONDS = 3600
MAX_ASSERTION_LENGTH = 16 * 1024
SKEW_SECONDS = 60  # leeway for the client's clock, on exp, nbf and iat alike
_MAX_JTI = 255


class AssertionRefused(Refusal):
    """The assertion does not authenticate the client; ``reason`` says why (it is audited)."""


@dataclass(frozen=True, slots=True)
class VerifiedAssertion:
    """An assertion that holds: its ``jti`` and until when (epoch seconds) a replay must be refused."""

    jti: str
    expires_at: int


def claimed_client_id(form_client_id: str | None, assertion: str | None) -> str | None:
    """The client a token request says it comes from, before anything is verified: ``client_id`` if sent,
    else the assertion's ``iss``; None unless it could be one of our client ids (then nothing is audited)."""
    claimed: Any = form_client_id
    if not claimed and assertion and len(assertion) <= MAX_ASSERTION_LENGTH:
        try:
            claimed = orjson.loads(extract_compact(assertion.encode()).payload).get("iss")
        except (JoseError, ValueError, TypeError, AttributeError):
            claimed = None
    return claimed if isinstance(claimed, str) and is_object_id(claimed) else None


def verify_assertion(
    assertion: str, client_id: str, jwks: str, audiences: Sequence[str], now: int
) -> VerifiedAssertion:
    """Check ``assertion`` for ``client_id`` against its stored key set ``jwks``; AssertionRefused if not."""
    if len(assertion) > MAX_ASSERTION_LENGTH:
        raise AssertionRefused("client_assertion is too long")
    try:
        header = extract_compact(assertion.encode()).headers()
    except (JoseError, ValueError, TypeError):
        raise AssertionRefused("client_assertion is not a signed JWT") from None
    kid = header.get("kid")
    keys = [key for key_id, key in load_key_set(jwks) if kid is None or key_id == kid]
    if not keys:
        raise AssertionRefused(
            f"client_assertion is signed with a key the app did not register (kid {kid!r})"
        )
    claims: dict[str, Any] | None = None
    for key in keys:
        try:
            claims = jwt.decode(assertion, key, algorithms=algorithms_of(key)).claims
            break
        except (JoseError, ValueError, TypeError):
            continue
    if claims is None:
        raise AssertionRefused("client_assertion signature does not verify with the app's registered keys")
    return VerifiedAssertion(*_check_claims(claims, client_id, audiences, now))


def _check_claims(
    claims: dict[str, Any], client_id: str, audiences: Sequence[str], now: int
) -> tuple[str, int]:
    if claims.get("iss") != client_id or claims.get("sub") != client_id:
        raise AssertionRefused("client_assertion iss and sub must both be the client id")
    aud = claims.get("aud")
    named = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    if not any(isinstance(item, str) and item in audiences for item in named):
        raise AssertionRefused(f"client_assertion aud must be the token endpoint URL ({audiences[0]})")
    exp = claims.get("exp")
    if not isinstance(exp, int) or isinstance(exp, bool):
        raise AssertionRefused("client_assertion has no exp (a number)")
    if exp + SKEW_SECONDS <= now:
        raise AssertionRefused("client_assertion has expired")
    if exp > now + MAX_LIFETIME_SECONDS + SKEW_SECONDS:
        raise AssertionRefused(f"client_assertion exp is more than {MAX_LIFETIME_SECONDS} s ahead")
    for name in ("nbf", "iat"):
        value = claims.get(name)
        if value is not None and (not isinstance(value, int | float) or value > now + SKEW_SECONDS):
            raise AssertionRefused(f"client_assertion {name} is in the future")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not 0 < len(jti) <= _MAX_JTI:
        raise AssertionRefused(f"client_assertion has no jti (1 to {_MAX_JTI} characters)")
    return jti, exp + SKEW_SECONDS
