"""The job scheduler's stop: each job's ``at_stop`` runs once its last run has finished, never under a run
still in progress (a hook worker's HTTP client is closed that way), and not at all if nothing started."""

from __future__ import annotations

import threading

from registrar.jobs.scheduler import Job, Scheduler


def test_at_stop_runs_after_the_last_run_and_not_under_a_run_left_behind() -> None:
    stopped: list[str] = []
    quick_ran = threading.Event()
    stuck_started, release = threading.Event(), threading.Event()

    def quick() -> None:
        quick_ran.set()

    def stuck() -> None:
        stuck_started.set()
        release.wait(10)

    scheduler = Scheduler(
        [
            Job("quick", 3600, quick, at_stop=lambda: stopped.append("quick")),
            Job("stuck", 3600, stuck, at_stop=lambda: stopped.append("stuck")),
        ]
    )
    scheduler.start()
    assert quick_ran.wait(5) and stuck_started.wait(5)
    scheduler.stop(timeout=0.2)
    assert stopped == ["quick"]  # the stuck job's run still holds what its at_stop would release
    release.set()


def test_a_scheduler_that_never_started_runs_no_at_stop() -> None:
    stopped: list[str] = []
    Scheduler([Job("never", 1, lambda: None, at_stop=lambda: stopped.append("never"))]).stop(timeout=0)
    assert stopped == []
