"""`flask seed-demo`: a believable demo organisation with courses; safe to run any number of times.

Rows are matched on their natural keys (department and job-role name, team within department,
user email, course code); only missing rows are created and existing ones are left as they are,
so a second run creates nothing. The organisation, courses and matrix are bootstrap, not a
user's action: they are written in one transaction without audit rows. Then people use it
(app/demo/activity.py): attempts, certificates, grading, bookings and approvals made through the
services on the business clock of the day they happened, with their audit rows and events; then
the nightly run and today's reminder sweep, as the scheduler would run them.
"""

from __future__ import annotations

import logging
import time
import unicodedata
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import click
from flask import Flask, current_app
from sqlalchemy import select

from app.audit.chain import checkpoint_head
from app.demo.activity import DEMO_PASSWORD, seed_demo_activity, send_demo_reminders
from app.demo.compliance import finish_demo_compliance, seed_demo_compliance
from app.demo.content import COURSES
from app.demo.documents import seed_demo_documents
from app.demo.sessions import seed_demo_sessions
from app.extensions import db
from app.learning.models import Course, Module, QuizQuestion
from app.people.models import Department, JobRole, SellerProfile, Team, User, UserRole
from app.platform import clock, jobs

# --------------------------------------------------------------------------------------------
# Organisation
# --------------------------------------------------------------------------------------------

QM = "Quality & Manufacturing"
MO = "Marketplace Operations"

DEPARTMENTS: dict[str, tuple[str, list[str]]] = {
    QM: ("Basel", ["QC Laboratory", "Production", "Quality Assurance", "Training & Documentation"]),
    MO: (
        "Leeds",
        [
            "Fulfillment",
            "Customer Support",
            "Seller Success",
            "Finance & Payments",
            "Seller Partners",
        ],
    ),
}

JOB_ROLES: list[tuple[str, str, str]] = [
    ("Site Quality Head", "high", "Accountable for GMP compliance at the Basel site."),
    ("QA Specialist", "high", "Reviews batch records, deviations and CAPAs; approves SOPs."),
    ("QC Analyst", "high", "Tests raw materials and finished product in the QC laboratory."),
    ("Laboratory Manager", "high", "Runs the QC laboratory and its analysts."),
    ("Production Operator", "high", "Operates GMP manufacturing and packaging equipment."),
    ("Production Manager", "high", "Plans and supervises GMP production shifts."),
    ("Fulfillment Associate", "high", "Picks, packs and ships marketplace orders."),
    ("Finance Clerk", "high", "Handles seller payouts, refunds and payment exceptions."),
    ("Finance Manager", "high", "Owns payouts, reconciliation and fraud controls."),
    ("Customer Support Agent", "medium", "Answers buyer and seller contacts."),
    ("Operations Manager", "medium", "Leads a marketplace operations team."),
    ("Seller Success Manager", "medium", "Onboards and coaches marketplace sellers."),
    ("Learning & Development Specialist", "medium", "Designs and delivers training."),
    ("Head of Marketplace Operations", "medium", "Runs the Leeds marketplace operations site."),
    ("Platform Administrator", "medium", "Administers Cadre and its integrations."),
    ("HR Business Partner", "low", "Supports managers on people matters and onboarding."),
    ("Seller", "low", "An independent shop selling on the marketplace."),
]

SITE_TZ = {"Basel": "Europe/Zurich", "Leeds": "Europe/London"}


@dataclass
class Person:
    name: str
    department: str | None
    team: str | None
    job_role: str
    roles: list[str]
    manager: str | None = None  # the manager's name
    hired: int | None = None  # days ago; None: a stable date derived from the email
    locale: str | None = None
    timezone: str | None = None
    email: str | None = None
    shop: str | None = None
    tier: str | None = None


def _p(name, dept, team, job, roles, manager=None, **kw) -> Person:
    return Person(name, dept, team, job, roles, manager, **kw)


EMP = ["employee"]

PEOPLE: list[Person] = [
    _p(
        "Morgan Ellis",
        MO,
        None,
        "Platform Administrator",
        ["admin", "employee"],
        email="admin@example.com",
    ),
    # Basel — Quality & Manufacturing
    _p("Katrin Vogel", QM, "Quality Assurance", "Site Quality Head", ["manager", "qa", "employee"]),
    _p("Lukas Meier", QM, "Quality Assurance", "QA Specialist", ["qa", *EMP], "Katrin Vogel"),
    _p("Sophie Brunner", QM, "Quality Assurance", "QA Specialist", ["qa", *EMP], "Katrin Vogel"),
    _p("Anna Keller", QM, None, "HR Business Partner", ["hr", *EMP], "Katrin Vogel"),
    _p(
        "Thomas Huber",
        QM,
        "Training & Documentation",
        "Learning & Development Specialist",
        ["trainer", *EMP],
        "Katrin Vogel",
    ),
    _p(
        "Claire Dubois",
        QM,
        "Training & Documentation",
        "Learning & Development Specialist",
        ["trainer", *EMP],
        "Katrin Vogel",
        locale="fr",
    ),
    _p(
        "Markus Steiner",
        QM,
        "QC Laboratory",
        "Laboratory Manager",
        ["manager", *EMP],
        "Katrin Vogel",
    ),
    _p("Elena Rossi", QM, "Production", "Production Manager", ["manager", *EMP], "Katrin Vogel"),
    _p("Jonas Frei", QM, "QC Laboratory", "QC Analyst", EMP, "Markus Steiner"),
    _p("Laura Schmid", QM, "QC Laboratory", "QC Analyst", EMP, "Markus Steiner"),
    _p("Nicolas Favre", QM, "QC Laboratory", "QC Analyst", EMP, "Markus Steiner", locale="fr"),
    _p("Mia Baumann", QM, "QC Laboratory", "QC Analyst", EMP, "Markus Steiner"),
    _p("David Wyss", QM, "QC Laboratory", "QC Analyst", EMP, "Markus Steiner"),
    _p("Selin Yilmaz", QM, "QC Laboratory", "QC Analyst", EMP, "Markus Steiner", hired=12),
    _p("Stefan Gerber", QM, "Production", "Production Operator", EMP, "Elena Rossi"),
    _p("Marco Bianchi", QM, "Production", "Production Operator", EMP, "Elena Rossi"),
    _p("Julia Zimmermann", QM, "Production", "Production Operator", EMP, "Elena Rossi"),
    _p("Patrick Roth", QM, "Production", "Production Operator", EMP, "Elena Rossi"),
    _p("Lea Widmer", QM, "Production", "Production Operator", EMP, "Elena Rossi"),
    _p("Tobias Koch", QM, "Production", "Production Operator", EMP, "Elena Rossi"),
    _p("Ana Pereira", QM, "Production", "Production Operator", EMP, "Elena Rossi", hired=20),
    _p(
        "Yannick Morel",
        QM,
        "Production",
        "Production Operator",
        EMP,
        "Elena Rossi",
        locale="fr",
        hired=5,
    ),
    # Leeds — Marketplace Operations
    _p("James Whitaker", MO, None, "Head of Marketplace Operations", ["manager", *EMP]),
    _p("Priya Patel", MO, None, "HR Business Partner", ["hr", *EMP], "James Whitaker"),
    _p(
        "Hannah Clarke",
        MO,
        "Seller Success",
        "Learning & Development Specialist",
        ["trainer", *EMP],
        "James Whitaker",
    ),
    _p(
        "Oliver Bennett",
        MO,
        "Fulfillment",
        "Operations Manager",
        ["manager", *EMP],
        "James Whitaker",
    ),
    _p(
        "Grace Thompson",
        MO,
        "Customer Support",
        "Operations Manager",
        ["manager", *EMP],
        "James Whitaker",
    ),
    _p(
        "David Okafor",
        MO,
        "Finance & Payments",
        "Finance Manager",
        ["manager", *EMP],
        "James Whitaker",
    ),
    _p(
        "Amelia Wright",
        MO,
        "Seller Success",
        "Seller Success Manager",
        ["manager", *EMP],
        "James Whitaker",
    ),
    _p("Ryan Walsh", MO, "Fulfillment", "Fulfillment Associate", EMP, "Oliver Bennett"),
    _p("Chloe Evans", MO, "Fulfillment", "Fulfillment Associate", EMP, "Oliver Bennett"),
    _p("Mohammed Hussain", MO, "Fulfillment", "Fulfillment Associate", EMP, "Oliver Bennett"),
    _p("Jack Robinson", MO, "Fulfillment", "Fulfillment Associate", EMP, "Oliver Bennett"),
    _p("Emily Hughes", MO, "Fulfillment", "Fulfillment Associate", EMP, "Oliver Bennett"),
    _p("Kacper Nowak", MO, "Fulfillment", "Fulfillment Associate", EMP, "Oliver Bennett", hired=9),
    _p("Olivia Harris", MO, "Customer Support", "Customer Support Agent", EMP, "Grace Thompson"),
    _p("Daniel Lewis", MO, "Customer Support", "Customer Support Agent", EMP, "Grace Thompson"),
    _p("Aisha Khan", MO, "Customer Support", "Customer Support Agent", EMP, "Grace Thompson"),
    _p("Liam O'Connor", MO, "Customer Support", "Customer Support Agent", EMP, "Grace Thompson"),
    _p(
        "Megan Price",
        MO,
        "Customer Support",
        "Customer Support Agent",
        EMP,
        "Grace Thompson",
        hired=16,
    ),
    _p("Ben Carter", MO, "Finance & Payments", "Finance Clerk", EMP, "David Okafor"),
    _p("Zara Ahmed", MO, "Finance & Payments", "Finance Clerk", EMP, "David Okafor"),
    _p("Lucy Morgan", MO, "Finance & Payments", "Finance Clerk", EMP, "David Okafor"),
    _p("Tom Fletcher", MO, "Seller Success", "Seller Success Manager", EMP, "Amelia Wright"),
    _p("Isla Campbell", MO, "Seller Success", "Seller Success Manager", EMP, "Amelia Wright"),
]

# Marketplace sellers: (name, shop, tier, email domain, timezone, locale, days since onboarding)
SELLERS: list[tuple[str, str, str, str, str, str, int]] = [
    ("Fatima Rahman", "Northern Threads", "gold", "northern-threads", "Europe/London", "en", 610),
    (
        "George Whitfield",
        "Whitfield Home & Garden",
        "silver",
        "whitfield-home",
        "Europe/London",
        "en",
        420,
    ),
    ("Ines Duarte", "Casa Duarte Ceramics", "bronze", "casaduarte", "Europe/Lisbon", "en", 35),
    ("Hamza Ali", "TechNest Accessories", "platinum", "technest", "Europe/London", "en", 1300),
    ("Charlotte Moore", "Little Acorn Toys", "silver", "littleacorn", "Europe/London", "en", 380),
    ("Matteo Ricci", "Ricci Leather Goods", "gold", "ricci-leather", "Europe/Rome", "en", 900),
    ("Sarah Goldberg", "Paper & Quill", "bronze", "paperandquill", "America/New_York", "en", 14),
    ("Kwame Mensah", "Accra Spice Co.", "silver", "accraspice", "Africa/Accra", "en", 260),
    ("Eva Novak", "Nordic Knitwear", "bronze", "nordicknit", "Europe/Prague", "en", 60),
    ("Pierre Lambert", "Atelier Lambert", "gold", "atelier-lambert", "Europe/Paris", "fr", 720),
    ("Jasmine Lee", "Glow Botanicals", "silver", "glowbotanicals", "Europe/London", "en", 300),
    ("Henrik Larsen", "Fjord Outdoor Gear", "platinum", "fjordoutdoor", "Europe/Oslo", "en", 1500),
    ("Maya Fischer", "Bergwerk Tools", "bronze", "bergwerk-tools", "Europe/Berlin", "de", 8),
    ("Connor Doyle", "Emerald Pet Supplies", "silver", "emeraldpets", "Europe/Dublin", "en", 200),
    ("Ruby Shah", "Saffron Kitchenware", "bronze", "saffronkitchen", "Europe/London", "en", 90),
]

for _name, _shop, _tier, _domain, _tz, _locale, _days in SELLERS:
    PEOPLE.append(
        _p(
            _name,
            MO,
            "Seller Partners",
            "Seller",
            ["seller"],
            "Amelia Wright",
            email=f"{_name.split()[0].lower()}@{_domain}.example",
            shop=_shop,
            tier=_tier,
            timezone=_tz,
            locale=_locale,
            hired=_days,
        )
    )

# Which accounts the seed prints, one per kind of user.
LOGINS = [
    ("admin", "admin@example.com"),
    ("hr", "anna.keller@example.com"),
    ("qa", "lukas.meier@example.com"),
    ("trainer", "thomas.huber@example.com"),
    ("manager", "oliver.bennett@example.com"),
    ("employee", "ryan.walsh@example.com"),
    ("seller", "fatima@northern-threads.example"),
]


def email_for(person: Person) -> str:
    """Derive firstname.lastname@example.com, folding accents and dropping punctuation."""
    if person.email:
        return person.email
    ascii_name = unicodedata.normalize("NFKD", person.name).encode("ascii", "ignore").decode()
    parts = ["".join(ch for ch in part.lower() if ch.isalnum()) for part in ascii_name.split()]
    return ".".join(parts) + "@example.com"


def hire_date_for(person: Person, email: str, today: date) -> date:
    if person.hired is not None:
        return today - timedelta(days=person.hired)
    # A stable spread over 2013-2024 so reruns and other machines see the same dates.
    return date(2013, 1, 7) + timedelta(days=zlib.crc32(email.encode()) % 4300)


# --------------------------------------------------------------------------------------------
# The seed
# --------------------------------------------------------------------------------------------


@dataclass
class SeedReport:
    created: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, n: int = 1) -> None:
        self.created[kind] = self.created.get(kind, 0) + n


def seed_demo() -> SeedReport:
    """Create whatever part of the demo organisation, courses and activity is missing."""
    report = SeedReport()
    try:
        departments, teams = _seed_org(report)
        job_roles = _seed_job_roles(report)
        users = _seed_people(report, departments, teams, job_roles)
        _seed_courses(report, users)
        seed_demo_compliance(report)
        seed_demo_documents(report)
        seed_demo_sessions(report)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    # Each step needs the last one's outcome (a graded attempt before the retry), so the jobs
    # run here, on the demo's clock, even when workers serve Redis queues.
    with jobs.inline():
        seed_demo_activity(report)
        finish_demo_compliance()
        send_demo_reminders(report)
    # Anchor the trail the demo wrote: its head signed into file storage, as the hourly job does.
    checkpoint_head()
    return report


def _seed_org(report: SeedReport) -> tuple[dict[str, Department], dict[tuple[str, str], Team]]:
    existing = {d.name: d for d in db.session.scalars(select(Department))}
    departments: dict[str, Department] = {}
    teams: dict[tuple[str, str], Team] = {}
    for name, (site, team_names) in DEPARTMENTS.items():
        dept = existing.get(name)
        if dept is None:
            dept = Department(name=name, site=site)
            db.session.add(dept)
            db.session.flush()
            report.add("departments")
        departments[name] = dept
        have = {
            t.name: t for t in db.session.scalars(select(Team).where(Team.department_id == dept.id))
        }
        for team_name in team_names:
            team = have.get(team_name)
            if team is None:
                team = Team(name=team_name, department_id=dept.id)
                db.session.add(team)
                report.add("teams")
            teams[(name, team_name)] = team
    db.session.flush()
    return departments, teams


def _seed_job_roles(report: SeedReport) -> dict[str, JobRole]:
    existing = {j.name: j for j in db.session.scalars(select(JobRole))}
    for name, risk, description in JOB_ROLES:
        if name not in existing:
            existing[name] = JobRole(name=name, risk_level=risk, description=description)
            db.session.add(existing[name])
            report.add("job roles")
    db.session.flush()
    return existing


def _seed_people(report, departments, teams, job_roles) -> dict[str, User]:
    emails = [email_for(p) for p in PEOPLE]
    existing = {u.email: u for u in db.session.scalars(select(User).where(User.email.in_(emails)))}
    from app.people.auth import hash_password

    password_hash: str | None = None  # hashed once, only if someone is new
    today = clock.today()
    by_name: dict[str, User] = {}
    new_people: list[tuple[Person, User]] = []
    for person, email in zip(PEOPLE, emails, strict=True):
        user = existing.get(email)
        if user is None:
            if password_hash is None:
                password_hash = hash_password(DEMO_PASSWORD)
            site = DEPARTMENTS[person.department][0] if person.department else "Leeds"
            user = User(
                email=email,
                name=person.name,
                password_hash=password_hash,
                active=True,
                hire_date=hire_date_for(person, email, today),
                department_id=departments[person.department].id if person.department else None,
                team_id=teams[(person.department, person.team)].id if person.team else None,
                job_role_id=job_roles[person.job_role].id,
                locale=person.locale or ("de" if site == "Basel" else "en"),
                timezone=person.timezone or SITE_TZ[site],
            )
            if person.shop is not None:
                user.seller_profile = SellerProfile(shop_name=person.shop, tier=person.tier)
            # Grants only for new people: re-adding a role an admin revoked would bypass audit.
            for role in person.roles:
                user.role_grants.append(UserRole(role=role))
                report.add("role grants")
            db.session.add(user)
            new_people.append((person, user))
            report.add("users")
        by_name[person.name] = user
    db.session.flush()
    # Managers are set for new people only: an admin may have moved someone since the last seed.
    for person, user in new_people:
        if person.manager:
            user.manager_id = by_name[person.manager].id
    db.session.flush()
    return by_name


def _seed_courses(report: SeedReport, users: dict[str, User]) -> None:
    from app.learning.courses import normalise_tags

    codes = [c["code"] for c in COURSES]
    existing = set(db.session.scalars(select(Course.code).where(Course.code.in_(codes))))
    now = clock.now()
    for spec in COURSES:
        if spec["code"] in existing:
            continue
        status = spec.get("status", "published")
        owner = users.get(spec.get("owner", "Thomas Huber"))
        course = Course(
            code=spec["code"],
            title=spec["title"],
            summary=spec["summary"].strip(),
            category=spec["category"],
            tags=normalise_tags(spec["tags"]),
            level=spec.get("level", "beginner"),
            language=spec.get("language", "en"),
            estimated_minutes=sum(m["minutes"] for m in spec["modules"]),
            status=status,
            version=1,
            owner_id=owner.id if owner else None,
            passing_score=spec.get("passing_score", 80),
            validity_months=spec.get("validity_months"),
            mandatory=spec.get("mandatory", False),
            is_onboarding=spec.get("onboarding", False),
            self_enroll=spec.get("self_enroll", True),
            published_at=now if status == "published" else None,
        )
        for position, m in enumerate(spec["modules"], start=1):
            module = Module(
                position=position,
                kind=m["kind"],
                title=m["title"],
                body=m.get("body", ""),
                estimated_minutes=m["minutes"],
                settings=m.get("settings", {}),
                required=m.get("required", True),
            )
            for qpos, q in enumerate(m.get("questions", []), start=1):
                module.questions.append(QuizQuestion(position=qpos, **q))
                report.add("quiz questions")
            course.modules.append(module)
            report.add("modules")
        db.session.add(course)
        report.add("courses")
    db.session.flush()


def print_logins() -> None:
    click.echo("")
    click.echo(f"Demo logins (password for every account: {DEMO_PASSWORD})")
    for label, email in LOGINS:
        click.echo(f"  {label:<9} {email}")
    click.echo("")


@contextmanager
def mail_log_file() -> Iterator[Path | None]:
    """Without SMTP, write the emails the seed sends to `demo-mail.log` in the instance folder
    instead of the console, where a hundred reminders would bury the logins."""
    if current_app.config.get("SMTP_HOST"):
        yield None
        return
    path = Path(current_app.config["INSTANCE_DIR"]) / "demo-mail.log"
    logger = logging.getLogger("cadre.mail")
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s\n"))
    logger.addHandler(handler)
    propagate, logger.propagate = logger.propagate, False
    # The file gets every email whatever the console logging says (Alembic's logging config
    # disables loggers that exist when migrations run in the same process).
    level, disabled = logger.level, logger.disabled
    logger.setLevel(logging.INFO)
    logger.disabled = False
    try:
        yield path
    finally:
        logger.removeHandler(handler)
        handler.close()
        logger.propagate = propagate
        logger.setLevel(level)
        logger.disabled = disabled


def register(app: Flask) -> None:
    @app.cli.command("seed-demo")
    def seed_demo_command() -> None:
        """Create the demo organisation, people, courses and activity (idempotent) and print the
        logins."""
        started = time.perf_counter()
        with mail_log_file() as mail_log:
            report = seed_demo()
        if report.created:
            made = ", ".join(f"{n} {kind}" for kind, n in report.created.items())
            click.echo(f"Demo data created: {made}.")
        else:
            click.echo("Demo data already present; nothing to create.")
        # Seeds write without audit rows: chain what was audited, then store today's statuses.
        from app.audit.chain import seal_pending
        from app.compliance.status_store import rebuild

        seal_pending(wait=True)
        rebuild()
        click.echo(f"Seeded in {time.perf_counter() - started:.1f} s.")
        if mail_log is not None and report.created.get("reminders"):
            click.echo(f"The emails it sent (no SMTP_HOST) are in {mail_log}.")
        print_logins()
