"""Training rows told in the words of the one status derivation (learning.obligations_asked).

An open enrollment whose course fills a slot of a requirement that applies to its person is an
obligation: Home, the manager's team table, the course page and the training API take its
status, due date and validity from `status_query` (through `status_store.status_source`),
never from the enrollment's own due date, which the engine set once and which a grace period or
a later cycle makes stale. Enrollments that serve no requirement keep their own due date.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import and_, select

from app.compliance.status_store import status_source
from app.compliance.statuses import Scope, slot_courses
from app.extensions import db
from app.learning.events import obligations_asked
from app.learning.models import Enrollment
from app.learning.training_records import TODO_STATUSES, Told

# When one enrollment serves several requirements, the most urgent one speaks for it.
URGENCY = {"overdue": 0, "expired": 0, "due_soon": 1, "not_started": 2, "compliant": 3}


def grace_until(on: date, status: str, valid_until: date | None, grace_days: int) -> date | None:
    """The last day of the grace period, when the validity has ended and it still counts."""
    if status != "due_soon" or valid_until is None or valid_until > on or not grace_days:
        return None
    return valid_until + timedelta(days=grace_days - 1)


def _as_date(value) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _rank(t: Told) -> tuple:
    return (URGENCY.get(t.status, 9), t.due_date or date.max, t.requirement_id)


@obligations_asked.connect
def tell_obligations(on: date, user_ids: list[int]) -> dict[int, Told]:
    """learning.obligations_asked, in the reader's transaction: the requirement status of each
    open enrollment of these people that serves one (one query)."""
    scope = Scope(user_ids=user_ids)
    st = status_source(on, scope).subquery("st")
    sc = slot_courses()
    rows = db.session.execute(
        select(
            Enrollment.id,
            st.c.user_id,
            st.c.requirement_id,
            st.c.status,
            st.c.due_date,
            st.c.valid_until,
            st.c.grace_days,
        )
        .select_from(Enrollment)
        .join(sc, sc.c.course_id == Enrollment.course_id)
        .join(
            st,
            and_(st.c.user_id == Enrollment.user_id, st.c.requirement_id == sc.c.requirement_id),
        )
        .where(Enrollment.status.in_(TODO_STATUSES), Enrollment.user_id.in_(list(user_ids)))
    )
    out: dict[int, Told] = {}
    for r in rows:
        valid_until = _as_date(r.valid_until)
        t = Told(
            r.user_id,
            r.requirement_id,
            r.status,
            _as_date(r.due_date),
            valid_until,
            grace_until(on, r.status, valid_until, int(r.grace_days or 0)),
        )
        if r.id not in out or _rank(t) < _rank(out[r.id]):
            out[r.id] = t
    return out
