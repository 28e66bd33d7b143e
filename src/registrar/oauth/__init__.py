"""OAuth 2.0 service apps in Okta's shapes: the org authorization server of one installation.

- :mod:`._jwks`: the public keys an app registers (``registrar service-apps create --jwks``), checked.
- :mod:`._assertions`: ``private_key_jwt`` client assertions (RFC 7523), checked against those keys.
- :mod:`._authority`: the installation's ES256 signing key and the access tokens it issues (RFC 9068).
- :mod:`._grant`: the client credentials grant at ``POST /oauth2/v1/token``, audited.
- :mod:`._live`: which apps' tokens may still be used, per process, revocations heard without a query.
"""

from ._assertions import ASSERTION_TYPE, MAX_LIFETIME_SECONDS
from ._authority import ACCESS_TOKEN_SECONDS, AccessToken, Authority, authority_for, key_file, looks_like_jwt
from ._grant import CLIENT_CREDENTIALS, GrantRefused, TokenGrant, TokenRequest, grant_token
from ._jwks import ALGORITHMS, MAX_JWKS_BYTES, InvalidKeySet, PublicKeySet, parse_public_jwks, stored_key_ids
from ._live import LiveApps, live_apps

__all__ = [
    "ACCESS_TOKEN_SECONDS",
    "ALGORITHMS",
    "ASSERTION_TYPE",
    "CLIENT_CREDENTIALS",
    "MAX_JWKS_BYTES",
    "MAX_LIFETIME_SECONDS",
    "AccessToken",
    "Authority",
    "GrantRefused",
    "InvalidKeySet",
    "LiveApps",
    "PublicKeySet",
    "TokenGrant",
    "TokenRequest",
    "authority_for",
    "grant_token",
    "key_file",
    "live_apps",
    "looks_like_jwt",
    "parse_public_jwks",
    "stored_key_ids",
]
