"""The context of work nobody requested just now: scheduled refreshes and other background jobs."""

from __future__ import annotations

from registrar.scopes import MANAGE_SCOPES

from .request import SYSTEM_ACTOR, ClientInfo, RequestContext, SecurityInfo

__all__ = ["SYSTEM_SCOPES", "job_context"]

# The system principal may perform every audited operation; scopes still gate it, like any caller.
SYSTEM_SCOPES = MANAGE_SCOPES


def job_context(request_id: str) -> RequestContext:
    """Okta's job shape: the system actor, a blank client, ``transaction.type`` JOB, no location."""
    return RequestContext(
        request_id=request_id,
        actor=SYSTEM_ACTOR,
        client=ClientInfo(ip_address=None, raw_user_agent=None),
        request_uri="",
        url="",
        scopes=SYSTEM_SCOPES,
        transaction_type="JOB",
        security=SecurityInfo(is_proxy=None),
    )
