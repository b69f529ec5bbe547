"""Compliance reminders of the daily sweep: due reminders, overdue notices and escalations to
managers, read from the status query in one INSERT ... SELECT."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import Integer, String, and_, case, cast, func, literal, select, true, union_all
from sqlalchemy.orm import aliased

from app.compliance.models import CompetencyRequirement, Curriculum
from app.compliance.statuses import status_query
from app.extensions import db
from app.learning.models import Course
from app.notifications.events import reminders_due
from app.notifications.models import Notification, NotificationPreference
from app.notifications.notify import email_state_sql
from app.notifications.sweep import dedupe_key_sql, path_sql
from app.people.models import User
from app.platform import clock
from app.platform.sql import upsert

REMINDER_DAYS = (30, 7, 1)
ESCALATE_AFTER_DAYS = 7

N = Notification
P = NotificationPreference
R = CompetencyRequirement


@reminders_due.connect
def remind_of_requirements(on: date, now: datetime) -> list[tuple[str, int, str]]:
    """notifications.reminders_due, in the sweep's transaction: the compliance reminders."""
    return create_compliance_reminders(on)


def create_compliance_reminders(on: date) -> list[tuple[str, int, str]]:
    """Insert the due reminders, overdue notices and escalations that `on` calls for.

    Read from the compliance status query in one INSERT ... SELECT ... ON CONFLICT DO NOTHING:
    - due_reminder to the person when the deadline is 30, 7 or 1 days away (the most urgent
      threshold reached: a missed sweep catches up, a late assignment skips earlier ones);
    - overdue to the person from the day after the deadline while not compliant;
    - escalation to their (active) manager from 7 days after the deadline.
    The deadline is the assignment's due date, or the expiry for a completed requirement
    (its renewal). Each exists once per person, requirement, cycle, deadline and threshold.
    Returns (kind, id, email_state) of the rows inserted; the caller commits.
    """
    st = status_query(on).subquery("st")
    deadline = case((st.c.completed_on.is_not(None), st.c.valid_until), else_=st.c.due_date)
    target = func.coalesce(Course.title, Curriculum.title, literal("a requirement"))
    items = (
        select(
            st.c.user_id,
            st.c.requirement_id,
            func.coalesce(st.c.cycle, 0).label("cycle"),
            deadline.label("deadline"),
            st.c.ok,
            target.label("target"),
            R.course_id,
            User.name,
            User.manager_id,
        )
        .select_from(st)
        .join(R, R.id == st.c.requirement_id)
        .join(User, User.id == st.c.user_id)
        .outerjoin(Course, Course.id == R.course_id)
        .outerjoin(Curriculum, Curriculum.id == R.curriculum_id)
        .where(
            st.c.status.in_(("due_soon", "overdue", "expired")),
            deadline.is_not(None),
            deadline <= on + timedelta(days=max(REMINDER_DAYS)),
        )
        .cte("items")
    )
    i = items.c
    when = cast(i.deadline, String)
    record_url = path_sql("records.person", "user_id", i.user_id)
    learner_url = case(
        (i.course_id.is_not(None), path_sql("courses.detail", "course_id", i.course_id)),
        else_=record_url,
    )
    now = clock.now()

    def rows(kind, recipient, key, title, body, url, *where, join=None):
        pref = aliased(P)
        q = select(
            recipient.label("user_id"),
            literal(kind).label("kind"),
            func.substr(title, 1, 300).label("title"),
            body.label("body"),
            url.label("url"),
            key.label("dedupe_key"),
            literal(now, type_=N.created_at.type).label("created_at"),
            email_state_sql(kind, pref).label("email_state"),
            literal(0, type_=Integer).label("email_attempts"),
        ).select_from(items)
        if join is not None:
            q = q.join(*join)
        return q.outerjoin(pref, pref.user_id == recipient).where(*where)

    days = REMINDER_DAYS  # (30, 7, 1): the window of each is (next threshold, threshold]
    threshold = case(
        (i.deadline > on + timedelta(days=days[1]), days[0]),
        (i.deadline > on + timedelta(days=days[2]), days[1]),
        else_=days[2],
    )
    due_title = case(
        (i.deadline == on, literal("Due today: ") + i.target),
        (i.deadline == on + timedelta(days=1), literal("Due tomorrow: ") + i.target),
        else_=literal("Due on ") + when + literal(": ") + i.target,
    )
    due = rows(
        "due_reminder",
        i.user_id,
        dedupe_key_sql("due", i.user_id, i.requirement_id, i.cycle, i.deadline, threshold),
        due_title,
        literal("Complete ") + i.target + literal(" by ") + when + literal(" to stay compliant."),
        learner_url,
        i.deadline >= on,
    )
    overdue = rows(
        "overdue",
        i.user_id,
        dedupe_key_sql("overdue", i.user_id, i.requirement_id, i.cycle, i.deadline),
        literal("Overdue: ") + i.target,
        literal("It was due on ")
        + when
        + literal(f". Please complete it now: your manager is told after {ESCALATE_AFTER_DAYS}")
        + literal(" days overdue."),
        learner_url,
        i.ok == 0,
        i.deadline < on,
    )
    manager = aliased(User)
    escalation = rows(
        "escalation",
        i.manager_id,
        dedupe_key_sql("escalation", i.user_id, i.requirement_id, i.cycle, i.deadline),
        i.name + literal(" is overdue: ") + i.target,
        i.name
        + literal(" has not completed ")
        + i.target
        + literal(", due on ")
        + when
        + literal(f", {ESCALATE_AFTER_DAYS} or more days ago."),
        record_url,
        i.ok == 0,
        i.deadline <= on - timedelta(days=ESCALATE_AFTER_DAYS),
        join=(manager, and_(manager.id == i.manager_id, manager.active.is_(True))),
    )
    every = union_all(due, overdue, escalation).subquery("reminders")
    cols = [
        "user_id",
        "kind",
        "title",
        "body",
        "url",
        "dedupe_key",
        "created_at",
        "email_state",
        "email_attempts",
    ]
    # WHERE true: SQLite needs a WHERE before ON CONFLICT to parse INSERT ... SELECT.
    source = select(*(every.c[c] for c in cols)).where(true())
    inserted = db.session.execute(
        upsert(N)
        .from_select(cols, source)
        .on_conflict_do_nothing()
        .returning(N.kind, N.id, N.email_state)
    ).all()
    return [tuple(r) for r in inserted]
