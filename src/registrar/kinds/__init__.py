"""The kinds of resource server, each a small strategy (``Kind``) over the one shared model.

Adding a kind is one module with a ``KIND`` (built from ``._kind``) and one entry in ``_MODULES`` below.
"""

from __future__ import annotations

from . import a2a, api, mcp, vmcp
from ._kind import Changes, Kind, Prepared, Registration

__all__ = ["KINDS", "Changes", "Kind", "Prepared", "Registration", "kind_of_segment"]

_MODULES = (api, mcp, a2a, vmcp)

KINDS: dict[str, Kind] = {module.KIND.key: module.KIND for module in _MODULES}


def kind_of_segment(segment: str) -> Kind | None:
    """The kind whose ORN segment is ``segment``, if any."""
    return next((kind for kind in KINDS.values() if kind.orn_segment == segment), None)
