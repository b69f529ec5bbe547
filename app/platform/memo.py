"""Reads memoised until the training records change: dashboards and the matrix repeat the same
organisation-wide derivations far more often than records change, and every change that can
move an answer writes an audit row in its transaction, so the trail's head is the key."""

from __future__ import annotations

import time
from functools import wraps

from flask import current_app
from sqlalchemy import func, select

from app.extensions import db
from app.platform.audit import AuditLog
from app.platform.sql import pg_setting


def records_generation() -> int:
    """The newest audit row's id: every change that can move a compliance status (a completion,
    an engine run, a waiver, a requirement, a person's role) writes one in its transaction, so
    a read computed at generation N stays right until the trail moves past N."""

    return db.session.scalar(select(func.max(AuditLog.id))) or 0


# Sort and hash memory for the organisation-wide status derivations: at the default 4 MB the
# pairs (200k at 10,000 people) spill to disk and hash joins split into batches.
READ_WORK_MEM = "32MB"


def until_records_change(fn):
    """Memoise a compliance read per app process until the audit trail moves (or a TTL).

    Full-organisation status derivations cost a second on 200k pairs; dashboards and the
    matrix repeat the same reads far more often than training records change. Arguments must
    be hashable (dates, frozen Scopes, ints); anything else is computed uncached.
    """

    def compute(*args, **kwargs):
        with pg_setting("work_mem", READ_WORK_MEM):
            return fn(*args, **kwargs)

    @wraps(fn)
    def wrapper(*args, **kwargs):
        seconds = current_app.config.get("COMPLIANCE_CACHE_SECONDS", 600)
        if not seconds:
            return compute(*args, **kwargs)
        try:
            key = (fn.__qualname__, args, tuple(sorted(kwargs.items())))
            hash(key)
        except TypeError:
            return compute(*args, **kwargs)
        cache = current_app.extensions.setdefault("cadre_compliance_reads", {})
        generation, now = records_generation(), time.monotonic()
        hit = cache.get(key)
        if hit is not None and hit[0] == generation and now - hit[1] < seconds:
            return hit[2]
        value = compute(*args, **kwargs)
        if len(cache) >= 512:
            cache.clear()
        cache[key] = (generation, now, value)
        return value

    return wrapper
