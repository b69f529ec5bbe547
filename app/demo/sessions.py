"""Demo instructor-led sessions: upcoming ones, a full one (its waitlist comes from the
bookings), and one held two days ago that waits for the trainer's attendance sign-off.

Part of `flask seed-demo` (in its transaction); each session has a fixed uid, so a rerun skips
the ones that exist. Times are local wall-clock times at the site, relative to the seed day.
Seed data writes no audit rows. The bookings are made afterwards through the booking service,
as the people who booked them would have (app/demo/activity.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.classroom.eligibility import Restrictions, set_restrictions
from app.classroom.models import SessionInstructor, TrainingSession
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
    booked_by_manager: bool = False  # else each person booked themselves
    location: str | None = None
    online_url: str | None = None
    title: str | None = None
    notes: str = ""
    sites: tuple[str, ...] = ()  # who may book: people of these sites only


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
        booked_by_manager=True,
        notes="Bring your own safety shoes. Gowns and gloves are provided.",
        sites=("Basel",),
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
        booked_by_manager=True,
        sites=("Basel",),
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
        booked_by_manager=True,
    ),
]


def uid_for(key: str) -> str:
    return f"demo-{key}@cadre"


def _at(day: date, wall: time, tz: str) -> datetime:
    return datetime.combine(day, wall, ZoneInfo(tz)).astimezone(UTC)


def seed_demo_sessions(report) -> None:
    """Add the demo sessions that do not exist yet (bookings follow in app/demo/activity.py)."""
    uids = [uid_for(s.key) for s in SESSIONS]
    have = set(db.session.scalars(select(TrainingSession.uid).where(TrainingSession.uid.in_(uids))))
    wanted = [s for s in SESSIONS if uid_for(s.key) not in have]
    if not wanted:
        return
    codes = {s.course for s in wanted}
    courses = {c.code: c for c in db.session.scalars(select(Course).where(Course.code.in_(codes)))}
    emails = {s.instructor for s in wanted}
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
            uid=uid_for(spec.key),
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
            created_at=now - timedelta(days=14),  # planned before anyone booked it
        )
        session.instructors = [SessionInstructor(user_id=instructor.id)]
        if spec.sites:  # the clean room is for Basel's people: others are told why not
            set_restrictions(session, Restrictions(sites=list(spec.sites)))
        db.session.add(session)
        db.session.flush()
        report.add("training sessions")
    db.session.flush()
