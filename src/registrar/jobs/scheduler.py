"""A small interval scheduler: one daemon thread per job, stopped with the server.

Jobs must be safe to run on several replicas at once: each claims its work in the database
(``FOR UPDATE SKIP LOCKED`` or a locked row), never through in-process state alone.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = ["Job", "Scheduler"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Job:
    """Run ``run`` every ``interval`` seconds (the first run after ``delay`` seconds).

    ``at_stop``, if given, runs once when the scheduler stops, after the job's last run has finished.
    """

    name: str
    interval: float
    run: Callable[[], None]
    delay: float = 0.0
    at_stop: Callable[[], None] | None = None


class Scheduler:
    """Runs jobs on their intervals until stopped; a failing run is logged and retried next interval."""

    def __init__(self, jobs: Sequence[Job]):
        self.jobs = list(jobs)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Start one daemon thread per job."""
        for job in self.jobs:
            thread = threading.Thread(
                target=self._loop, args=(job,), name=f"registrar-{job.name}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def running(self) -> bool:
        """Whether every job's thread is alive: started, not stopped, none ended (a readiness check)."""
        return bool(self._threads) and not self._stop.is_set() and all(t.is_alive() for t in self._threads)

    def stop(self, timeout: float = 10.0) -> None:
        """Ask every job to stop, wait (``timeout`` seconds in all) for the runs in progress, then run the
        jobs' ``at_stop``."""
        self._stop.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        unfinished = [thread.name for thread in self._threads if thread.is_alive()]
        if unfinished:
            log.warning("jobs still running after %.0f s, left behind: %s", timeout, ", ".join(unfinished))
        # A job left running keeps what its at_stop would release (a run in progress still needs it); a
        # scheduler that never started has no threads, so nothing to stop.
        threads = zip(self.jobs, self._threads, strict=False)
        finished = [job for job, thread in threads if not thread.is_alive()]
        self._threads.clear()
        for job in finished:
            if job.at_stop is not None:
                try:
                    job.at_stop()
                except Exception:
                    log.exception("job %s failed at shutdown", job.name)

    def _loop(self, job: Job) -> None:
        if self._stop.wait(job.delay):
            return
        while not self._stop.is_set():
            try:
                job.run()
            except Exception:
                log.exception("job %s failed; retrying in %.0f s", job.name, job.interval)
            if self._stop.wait(job.interval):
                return
