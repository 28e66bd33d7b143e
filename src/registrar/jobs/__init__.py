"""Background work run by each server process: checkpoints, retention, hook delivery, refresh."""

from .scheduler import Job, Scheduler

__all__ = ["Job", "Scheduler"]
