"""The jobs a server process runs, built from its dependencies."""

from __future__ import annotations

from registrar.services.deps import Deps

from .scheduler import Job

__all__ = ["build_jobs"]


def build_jobs(deps: Deps) -> list[Job]:
    """Every periodic job of this installation, configured from ``deps.settings``."""
    jobs: list[Job] = []
    return jobs
