"""Job runs: a row per long background run, so the person who started it sees its progress and
what it made while pages keep answering.

The job advances the row after each chunk of its work is committed, so the progress shown never
runs ahead of the work; a retried job starts the count again (the work it does is
idempotent). A run that never got a worker stays "queued" and says so.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.platform import clock
from app.platform.db import JSONType, UTCDateTime

RUN_STATUSES = ("queued", "running", "done", "failed")
# A run still "queued" or "running" after this long lost its worker: it no longer blocks a new one.
STALE_AFTER = timedelta(hours=2)


class JobRun(db.Model):
    __tablename__ = "job_runs"
    __table_args__ = (Index("ix_job_runs_kind_created_at", "kind", "created_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(60))  # e.g. requirement_engine
    cause: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(12), default="queued")
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    # What the run made so far, e.g. {"assignments": 10, "enrollments": 8}.
    result: Mapped[dict] = mapped_column(JSONType, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def percent(self) -> int:
        if self.status == "done":
            return 100
        if not self.total:
            return 0
        return min(100, self.done * 100 // self.total)

    @property
    def active(self) -> bool:
        if self.status not in ("queued", "running"):
            return False
        return clock.now() - (self.started_at or self.created_at) < STALE_AFTER


def open_run(kind: str, cause: str = "", requested_by_id: int | None = None) -> JobRun:
    """A queued run, committed, so the job (another process) finds it."""
    run = JobRun(kind=kind, cause=cause[:200], requested_by_id=requested_by_id, result={})
    db.session.add(run)
    db.session.commit()
    return run


def begin(run_id: int, total: int) -> None:
    """The job has started on `total` units (committed at once: the page shows "running")."""
    run = db.session.get(JobRun, run_id)
    if run is None:
        return
    run.status = "running"
    run.total = total
    run.done = 0
    run.result = {}
    run.error = None
    run.started_at = clock.now()
    run.finished_at = None
    db.session.commit()


def advance(run_id: int, done: int, result: dict) -> None:
    """Record progress in the caller's transaction (the caller commits)."""
    run = db.session.get(JobRun, run_id)
    if run is not None:
        run.done = done
        run.result = dict(result)


def finish(run_id: int, result: dict) -> None:
    run = db.session.get(JobRun, run_id)
    if run is None:
        return
    run.status = "done"
    run.done = run.total
    run.result = dict(result)
    run.finished_at = clock.now()
    db.session.commit()


def fail(run_id: int, error: str) -> None:
    """Mark the run failed in a transaction of its own (the job's own was rolled back)."""
    db.session.rollback()
    run = db.session.get(JobRun, run_id)
    if run is None:
        return
    run.status = "failed"
    run.error = error[:2000]
    run.finished_at = clock.now()
    db.session.commit()
