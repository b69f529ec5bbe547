"""Background work: enqueue() is the only way to start it, by a job's stable name.

Each domain registers its job functions with `@job("domain.what", queue=...)`; queues carry that
name, never a module path, so code can move without stranding queued work. With REDIS_URL set,
jobs go to RQ queues served by `rq worker`s (worker.py); without it they run in-process,
synchronously, through the same call, so behaviour is the same on the embedded default.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from flask import Flask, current_app

log = logging.getLogger("cadre.jobs")

QUEUES = ("default", "grading", "notifications", "compliance")

# Names queued before jobs had stable names were module paths under app.jobs: such a name
# resolves to the stable name after that prefix (app.compliance.jobs.nightly -> compliance.nightly).
LEGACY_PREFIX = "app.jobs."

# What RQ calls for every job: the app root's run_job, which can build the app (and so register
# every job) in a worker process that has not. A string, as the platform imports no domain.
ENTRY_POINT = "app.run_job"

_app: Flask | None = None
_factory: Callable[[], Flask] | None = None
_inline: ContextVar[bool] = ContextVar("cadre_jobs_inline", default=False)
# The RQ job meta key holding the id of the user whose request enqueued the job.
ON_BEHALF_OF = "cadre_on_behalf_of"


@dataclass(frozen=True)
class Job:
    name: str
    func: Callable
    queue: str
    # A scheduled job: the config key of its cron expression (UTC) and its time limit.
    schedule: str | None = None
    timeout: int | None = None

    @property
    def label(self) -> str:
        """The schedulers' name for it: compliance.nightly -> compliance-nightly."""
        return self.name.replace(".", "-").replace("_", "-")


_registry: dict[str, Job] = {}
_aliases: dict[str, str] = {}


def job(
    name: str,
    *,
    queue: str = "default",
    aliases: tuple[str, ...] = (),
    schedule: str | None = None,
    timeout: int | None = None,
):
    """Register the decorated function as job `name` on `queue`; `aliases` are former names
    that jobs may still be queued under. `schedule` names the config key of a cron expression:
    clock.py (with Redis) or the embedded scheduler (without) runs the job on it."""
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue!r}")

    def register(func: Callable) -> Callable:
        known = _registry.get(name)
        if known is not None and known.func.__qualname__ != func.__qualname__:
            raise ValueError(f"job name {name!r} is taken by {known.func.__qualname__}")
        _registry[name] = Job(name, func, queue, schedule, timeout)
        for alias in aliases:
            _aliases[alias] = name
        return func

    return register


def registered() -> dict[str, Job]:
    """Every registered job by name (the README's job list and the tests read it)."""
    return dict(_registry)


def scheduled() -> list[Job]:
    """The jobs that run on a schedule, by name (both schedulers read this one list)."""
    return sorted((j for j in _registry.values() if j.schedule), key=lambda j: j.name)


def resolve(name: str) -> Job:
    """The job a (possibly former) name stands for. Raises ValueError for an unknown name."""
    if name.startswith(LEGACY_PREFIX):
        name = name[len(LEGACY_PREFIX) :]
    name = _aliases.get(name, name)
    try:
        return _registry[name]
    except KeyError:
        raise ValueError(f"no job is registered as {name!r}") from None


def app_factory() -> Callable[[], Flask] | None:
    return _factory


def set_app_factory(factory: Callable[[], Flask]) -> None:
    """How a worker builds its app when a job arrives outside any app context."""
    global _factory
    _factory = factory


def run_job(name: str, *args, **kwargs):
    """Run job `name` inside an app context of its own (app.run_job, the RQ entry point, calls
    this; inline runs inside the caller's context)."""
    return _run(name, args, kwargs, _queued_for())


def _queued_for() -> int | None:
    """The requester an RQ job was enqueued for (its meta), None outside a worker."""
    try:
        from rq import get_current_job
    except ImportError:  # pragma: no cover - rq is installed wherever Redis is configured
        return None
    current = get_current_job()
    return current.meta.get(ON_BEHALF_OF) if current is not None else None


def _run(name: str, args, kwargs, on_behalf_of: int | None):
    """Run the job as the system, on behalf of the person whose request enqueued it (audit
    rows record both: app.platform.audit reads g.cadre_job and g.cadre_on_behalf_of)."""
    global _app
    from flask import g, has_app_context

    if has_app_context():
        spec = resolve(name)
        # Inline run inside a request: audit rows must name the job, not the signed-in user.
        outer = g.get("cadre_job"), g.get("cadre_on_behalf_of")
        g.cadre_job, g.cadre_on_behalf_of = spec.name, on_behalf_of
        try:
            return spec.func(*args, **kwargs)
        finally:
            g.cadre_job, g.cadre_on_behalf_of = outer
    if _app is None:
        if _factory is None:
            raise RuntimeError("no app to run jobs in: call set_app_factory() first")
        _app = _factory()
    spec = resolve(name)  # building the app registered every job
    with _app.app_context():
        g.cadre_job, g.cadre_on_behalf_of = spec.name, on_behalf_of
        return spec.func(*args, **kwargs)


def get_redis(app: Flask | None = None):
    app = app or current_app
    url = app.config.get("REDIS_URL")
    if not url:
        return None
    conn = app.extensions.get("cadre_redis")
    if conn is None:
        from redis import Redis

        conn = Redis.from_url(url)
        app.extensions["cadre_redis"] = conn
    return conn


def queue_name(queue: str) -> str:
    return current_app.config.get("RQ_QUEUE_PREFIX", "") + queue


@contextmanager
def inline() -> Iterator[None]:
    """Run the jobs enqueued in the block in-process even with Redis: for a script whose next
    step needs the last job's result (seed-demo grades an attempt before the retry)."""
    token = _inline.set(True)
    try:
        yield
    finally:
        _inline.reset(token)


def enqueue(
    name: str, *args, queue: str | None = None, job_id: str | None = None, retry: int = 3, **kwargs
):
    """Start job `name` (a registered name) with plain, id-like arguments, on its queue unless
    `queue` says otherwise.

    Returns the RQ job when Redis is configured, else the function's return value. Raises
    ValueError for a name no job is registered under.
    """
    from app.platform.audit import requester_id

    spec = resolve(name)
    requester = requester_id()
    conn = None if _inline.get() else get_redis()
    if conn is None:
        log.info("running job %s inline", spec.name)
        return _run(spec.name, args, kwargs, requester)
    from rq import Queue, Retry

    q = Queue(queue_name(queue or spec.queue), connection=conn)
    return q.enqueue(
        ENTRY_POINT,
        spec.name,
        *args,
        job_id=job_id,
        retry=Retry(max=retry, interval=[5, 30, 120][:retry]),
        description=spec.name,
        meta={ON_BEHALF_OF: requester},
        **kwargs,
    )
