"""The embedded scheduler: without Redis, the served app runs the scheduled jobs itself.

With REDIS_URL, `clock.py` enqueues the scheduled jobs (`jobs.scheduled()`) for the workers.
Without it there is no worker and no clock process, so the first request a process serves
starts one background thread that runs every scheduled job once, then each on its cron (UTC,
on the business clock). Starting on a request, not on import, keeps it out of CLI commands,
of the reloader's watcher process and of tests (TESTING turns it off); EMBEDDED_SCHEDULER=0
turns it off everywhere. Of several processes on one instance folder (gunicorn workers) only
the one holding the exclusive lock on `scheduler.lock` runs jobs; the others retry the lock, so
one takes over when the holder exits.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from croniter import croniter
from flask import Flask

from app.platform import clock, jobs

log = logging.getLogger("cadre.scheduler")

# Longest sleep between two looks at the clock: a pinned or corrected clock, a suspended
# laptop or a lock freed by another process is noticed within this.
MAX_WAIT = timedelta(seconds=60)
LOCK_FILE = "scheduler.lock"


@dataclass(frozen=True)
class Entry:
    job: str
    cron: str


def entries(app: Flask) -> list[Entry]:
    """The scheduled jobs with their cron expressions from the app's config."""
    return [Entry(spec.name, app.config[spec.schedule]) for spec in jobs.scheduled()]


def next_after(cron: str, moment: datetime) -> datetime:
    """The first time strictly after `moment` that `cron` (UTC) fires."""
    return croniter(cron, moment).get_next(datetime)


class Plan:
    """What runs when: every entry once at start, then each at its cron's next time.

    A run missed while the process was busy or asleep happens once on waking, not once per
    missed time (the jobs are idempotent and work out their day from the clock). At start the
    entries run in the order they come in a day, so the nightly run's assignments are there
    when the morning's reminder sweep looks for them.
    """

    def __init__(self, schedule: list[Entry]):
        midnight = datetime(2000, 1, 1, tzinfo=clock.now().tzinfo)
        self.entries = sorted(schedule, key=lambda e: (next_after(e.cron, midnight), e.job))
        self.next_at: dict[str, datetime | None] = {e.job: None for e in self.entries}

    def due(self, now: datetime) -> list[str]:
        """The jobs to run at `now`, in order (at start: all of them)."""
        return [e.job for e in self.entries if (at := self.next_at[e.job]) is None or now >= at]

    def ran(self, job: str, now: datetime) -> None:
        """Note that `job` ran at `now`: it is next due at its cron's next time."""
        cron = next(e.cron for e in self.entries if e.job == job)
        self.next_at[job] = next_after(cron, now)

    def wait(self, now: datetime) -> float:
        """Seconds to sleep before the next look (at most MAX_WAIT)."""
        pending = [at for at in self.next_at.values() if at is not None]
        if len(pending) < len(self.next_at):
            return 0.0
        until = min(pending) - now if pending else MAX_WAIT
        return max(0.0, min(until, MAX_WAIT).total_seconds())


class EmbeddedScheduler:
    """The background thread: holds the instance's scheduler lock and runs the plan."""

    def __init__(self, app: Flask):
        self.app = app
        self.plan = Plan(entries(app))
        self.lock_path = Path(app.config["INSTANCE_DIR"]) / LOCK_FILE
        self.stopping = threading.Event()
        self.first_pass = threading.Event()  # set once the start-up runs are done
        self.runs: list[tuple[str, datetime]] = []
        self._lock_fd: int | None = None
        self._thread = threading.Thread(target=self._loop, name="cadre-scheduler", daemon=True)

    def start(self) -> EmbeddedScheduler:
        self._thread.start()
        return self

    def stop(self, timeout: float = 30) -> None:
        self.stopping.set()
        self._thread.join(timeout)

    def _take_lock(self) -> bool:
        if self._lock_fd is not None:
            return True
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._lock_fd = fd
        return True

    def _release_lock(self) -> None:
        if self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None

    def tick(self) -> list[str]:
        """Run what is due now; the names that ran (a job that fails is logged and waits for
        its next time, so one bad night never spins the loop)."""
        done = []
        for name in self.plan.due(clock.now()):
            try:
                with self.app.app_context():
                    out = jobs.run_job(name)
                log.info("scheduled job %s: %s", name, out)
            except Exception:
                log.exception("scheduled job %s failed", name)
            self.plan.ran(name, clock.now())
            self.runs.append((name, clock.now()))
            done.append(name)
        return done

    def _loop(self) -> None:
        try:
            while not self.stopping.is_set():
                if not self._take_lock():
                    self.stopping.wait(MAX_WAIT.total_seconds())
                    continue
                self.tick()
                self.first_pass.set()
                self.stopping.wait(self.plan.wait(clock.now()))
        finally:
            self._release_lock()


_running: EmbeddedScheduler | None = None
_start_lock = threading.Lock()


def enabled(app: Flask) -> bool:
    """The embedded scheduler runs when jobs run in-process, outside tests, unless turned off."""
    return bool(
        app.config.get("EMBEDDED_SCHEDULER") and not app.config.get("REDIS_URL") and not app.testing
    )


def start_once(app: Flask) -> EmbeddedScheduler:
    """Start this process's scheduler thread unless it runs already; return it."""
    global _running
    with _start_lock:
        if _running is None:
            _running = EmbeddedScheduler(app).start()
            log.info("embedded scheduler started: %s", [e.job for e in _running.plan.entries])
        return _running


def stop() -> None:
    """Stop this process's scheduler thread (tests; a process exiting needs nothing)."""
    global _running
    with _start_lock:
        if _running is not None:
            _running.stop()
            _running = None


def init_app(app: Flask) -> None:
    """Start the scheduler on the first request this app serves, when enabled."""
    if not enabled(app):
        return

    @app.before_request
    def _start_embedded_scheduler() -> None:
        if _running is None:
            start_once(app)
