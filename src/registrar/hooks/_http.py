"""How event hooks reach the outside: the one guarded client of :mod:`registrar.outbound`, as hooks.

``hook_client`` is the only seam between hooks and the network; verification and delivery both send through
:func:`registrar.outbound.call`, which caps the time and the bytes read.
"""

from __future__ import annotations

import httpx2

from registrar.config import Settings
from registrar.outbound import guarded_client

__all__ = ["USER_AGENT", "hook_client"]

USER_AGENT = "Registrar-EventHooks/0.1"


def hook_client(settings: Settings) -> httpx2.Client:
    """A client whose every request passes the SSRF guard, timed out after ``hook_timeout_seconds``."""
    return guarded_client(settings, timeout=settings.hook_timeout_seconds, user_agent=USER_AGENT)
