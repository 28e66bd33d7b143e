"""A service app's access token, as the rest of Registrar sees a caller."""

from __future__ import annotations

from dataclasses import dataclass

from .entities import ApiToken

__all__ = ["ServiceAppToken"]


@dataclass(frozen=True, slots=True)
class ServiceAppToken(ApiToken):
    """An OAuth 2.0 access token of a service app: the app stands where an API token's user stands.

    ``id`` and ``user.id`` are the client id (per-caller budgets and limits are the app's), ``name`` and
    ``user.display_name`` the app's name, ``session_id`` the access token's ``jti`` (the events made with
    one token share it). Its events' actor is the app (``PublicClientApp``), not a user.
    """

    client_id: str = ""
