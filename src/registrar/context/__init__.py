"""Who acted, from where, through what: the request context every event is built from."""

from .request import SYSTEM_ACTOR, Actor, ClientInfo, RequestContext

__all__ = ["SYSTEM_ACTOR", "Actor", "ClientInfo", "RequestContext"]
