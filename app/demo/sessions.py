"""Demo instructor-led sessions: upcoming ones with bookings, a full one with a waitlist, and
one held two days ago that waits for the trainer's attendance sign-off.

Part of `flask seed-demo` (in its transaction); each session has a fixed uid, so a rerun skips
the ones that exist. Times are local wall-clock times at the site, relative to the seed day.
Seed data writes no audit rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.classroom.models import SessionInstructor, SessionRegistration, TrainingSession
from app.extensions import db
from app.learning.models import Course
from app.people.models import User
from app.platform import clock


@dataclass(frozen=True)
class DemoSession:
    key: str
    course: str
    instructor: str  # email
    days: int  # from the seed day; negative: in the past
    start: time
    hours: int
    timezone: str
    capacity: int
    booked: tuple[str, ...]  # emails, in booking order; beyond capacity they wait
    location: str | None = None
    online_url: str | None = None
    title: str | None = None
    notes: str = ""


BASEL, LEEDS = "Europe/Zurich", "Europe/London"
OPERATORS = (
    "stefan.gerber@example.com",
    "marco.bianchi@example.com",
    "julia.zimmermann@example.com",
    "patrick.roth@example.com",
    "lea.widmer@example.com",
    "tobias.koch@example.com",
)
FULFILLMENT = (
    "ryan.walsh@example.com",
    "chloe.evans@example.com",
    "mohammed.hussain@example.com",
    "jack.robinson@example.com",
)

SESSIONS = [
    DemoSession(
        "gowning-practical",
        "GMP-120",
        "thomas.huber@example.com",
        7,
        time(9, 0),
        2,
        BASEL,
        8,
        OPERATORS[:5],
        location="Basel B2 gowning room",
        title="Cleanroom gowning: hands-on practice",
        notes="Bring your own safety shoes. Gowns and gloves are provided.",
    ),
    DemoSession(
        "gowning-full",
        "GMP-120",
        "thomas.huber@example.com",
        14,
        time(13, 30),
        2,
        BASEL,
        4,
        (*OPERATORS, "ana.pereira@example.com"),
        location="Basel B2 gowning room",
        title="Cleanroom gowning: hands-on practice",
    ),
    DemoSession(
        "deviation-workshop",
        "QA-210",
        "claire.dubois@example.com",
        10,
        time(10, 0),
        3,
        BASEL,
        12,
        ("lukas.meier@example.com", "jonas.frei@example.com", "laura.schmid@example.com"),
        location="Basel A1 training room",
        online_url="https://meet.example.com/cadre-deviation-workshop",
    ),
    DemoSession(
        "late-shipments-webinar",
        "MKT-120",
        "hannah.clarke@example.com",
        5,
        time(14, 0),
        1,
        LEEDS,
        30,
        FULFILLMENT,
        online_url="https://meet.example.com/cadre-late-shipments",
        notes="A live walk-through of the late-shipment dashboard, with questions.",
    ),
    DemoSession(
        "gmp-basics-classroom",
        "GMP-101",
        "thomas.huber@example.com",
        -2,
        time(9, 0),
        3,
        BASEL,
        10,
        ("selin.yilmaz@example.com", "ana.pereira@example.com", "david.wyss@example.com"),
        location="Basel A1 training room",
        title="GMP basics: classroom session",
    ),
]


def _uid(key: str) -> str:
    return f"demo-{key}@cadre"


def _at(day: date, wall: time, tz: str) -> datetime:
    return datetime.combine(day, wall, ZoneInfo(tz)).astimezone(UTC)


def seed_demo_sessions(report) -> None:
    """Add the demo sessions that do not exist yet, with their bookings."""
    uids = [_uid(s.key) for s in SESSIONS]
    have = set(db.session.scalars(select(TrainingSession.uid).where(TrainingSession.uid.in_(uids))))
    wanted = [s for s in SESSIONS if _uid(s.key) not in have]
    if not wanted:
        return
    codes = {s.course for s in wanted}
    courses = {c.code: c for c in db.session.scalars(select(Course).where(Course.code.in_(codes)))}
    emails = {e for s in wanted for e in (s.instructor, *s.booked)}
    people = {u.email: u for u in db.session.scalars(select(User).where(User.email.in_(emails)))}
    today = clock.today()
    now = clock.now()
    for spec in wanted:
        course, instructor = courses.get(spec.course), people.get(spec.instructor)
        if course is None or instructor is None:
            continue
        day = today + timedelta(days=spec.days)
        starts = _at(day, spec.start, spec.timezone)
        session = TrainingSession(
            uid=_uid(spec.key),
            sequence=0,
            course_id=course.id,
            title=spec.title,
            starts_at=starts,
            ends_at=starts + timedelta(hours=spec.hours),
            timezone=spec.timezone,
            location=spec.location,
            online_url=spec.online_url,
            capacity=spec.capacity,
            registration_deadline=starts - timedelta(days=1) if spec.days > 1 else None,
            status="scheduled",
            notes=spec.notes,
            created_by_id=instructor.id,
        )
        session.instructors = [SessionInstructor(user_id=instructor.id)]
        db.session.add(session)
        db.session.flush()
        report.add("training sessions")
        booked_at = min(now, starts) - timedelta(days=3)
        waiting = 0
        for n, email in enumerate(spec.booked):
            user = people.get(email)
            if user is None:
                continue
            seat = n < spec.capacity
            waiting += 0 if seat else 1
            db.session.add(
                SessionRegistration(
                    session_id=session.id,
                    user_id=user.id,
                    status="registered" if seat else "waitlisted",
                    waitlist_position=None if seat else waiting,
                    registered_by_id=user.id,
                    registered_at=booked_at + timedelta(minutes=17 * n),
                )
            )
            report.add("session registrations")
    db.session.flush()
