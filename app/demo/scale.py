"""`flask seed-scale`: bulk data for benchmarks, written with set-based inserts.

Every generated person has an @scale.example.com address; that is the marker a second run
looks for, and it then skips instead of duplicating. One transaction, one shared password hash.
`--enrollments N` adds training records (enrollments, progress, graded quiz attempts) for those
people in the published scale courses; it skips when scale enrollments already exist.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import click
from flask import Flask
from sqlalchemy import func, insert, literal, select, text

from app.compliance.models import CompetencyRequirement
from app.extensions import db
from app.learning.models import Course, Enrollment, Module, Progress, QuizQuestion, Result
from app.people.models import Department, JobRole, SellerProfile, Team, User, UserRole
from app.platform import clock
from app.platform.db import UTCDateTime

SCALE_DOMAIN = "scale.example.com"
SCALE_PASSWORD = "scale-password"  # noqa: S105  (benchmark accounts only)
CHUNK = 2000

_FIRST = (
    "Adam Aisha Alex Amelia Ana Ben Chloe Claire Daniel David Elena Emily Emma Eva Fatima Felix "
    "George Grace Hannah Harry Ines Isla Jack James Jonas Julia Kacper Katrin Laura Lea Liam Lucy "
    "Lukas Marco Maria Markus Maya Mia Mohammed Nicolas Noah Olivia Oliver Patrick Pierre Priya "
    "Ruby Ryan Sara Selin Sophie Stefan Thomas Tobias Tom Yannick Zara Zoe"
)
FIRST = _FIRST.split(" ")
_LAST = (
    "Ahmed Ali Baumann Bennett Bianchi Brown Campbell Carter Clarke Dubois Evans Favre Fischer "
    "Fletcher Frei Gerber Harris Huber Hughes Hussain Keller Khan Koch Lambert Larsen Lee Lewis "
    "Meier Moore Morel Morgan Muller Nowak Novak Okafor Patel Pereira Price Ricci Robinson Rossi "
    "Roth Schmid Shah Smith Steiner Taylor Thompson Turner Vogel Walsh Widmer Wright Wyss Yilmaz "
    "Zimmermann"
)
LAST = _LAST.split(" ")
SITES = [
    ("Basel", "Europe/Zurich", "de"),
    ("Leeds", "Europe/London", "en"),
    ("Lyon", "Europe/Paris", "fr"),
    ("Krakow", "Europe/Warsaw", "en"),
    ("Dublin", "Europe/Dublin", "en"),
    ("Hamburg", "Europe/Berlin", "de"),
]
FUNCTIONS = [
    "Quality Control",
    "Manufacturing",
    "Quality Assurance",
    "Fulfillment",
    "Customer Support",
    "Finance",
    "Seller Success",
    "Logistics",
]
TEAM_NAMES = ["North", "South", "Early Shift", "Late Shift", "Night Shift", "Projects", "Core"]
# (job role, risk level, the functions it appears in, weight)
JOB_ROLES = [
    ("QC Analyst", "high", {"Quality Control"}, 6),
    ("Production Operator", "high", {"Manufacturing"}, 8),
    ("QA Specialist", "high", {"Quality Assurance"}, 5),
    ("Fulfillment Associate", "high", {"Fulfillment", "Logistics"}, 8),
    ("Finance Clerk", "high", {"Finance"}, 5),
    ("Customer Support Agent", "medium", {"Customer Support"}, 8),
    ("Seller Success Manager", "medium", {"Seller Success"}, 4),
    ("Forklift Driver", "high", {"Logistics", "Fulfillment"}, 2),
    ("Learning & Development Specialist", "medium", set(FUNCTIONS), 1),
    ("HR Business Partner", "low", set(FUNCTIONS), 1),
    ("Team Lead", "medium", set(FUNCTIONS), 0),
    ("Seller", "low", set(), 0),
]
TOPICS = [
    # (topic, category, tags)
    ("GMP documentation", "GxP", "gmp,documentation"),
    ("Data integrity", "GxP", "gmp,data-integrity,alcoa"),
    ("Cleanroom behaviour", "GxP", "gmp,cleanroom,contamination"),
    ("Deviation handling", "Quality", "deviation,capa,gmp"),
    ("Batch record review", "Quality", "gmp,batch-record,review"),
    ("Laboratory safety", "Health & Safety", "safety,laboratory,chemicals"),
    ("Warehouse safety", "Health & Safety", "safety,warehouse,forklift"),
    ("Manual handling", "Health & Safety", "safety,manual-handling"),
    ("Fire safety", "Health & Safety", "safety,fire,evacuation"),
    ("Shipping SLAs", "Marketplace", "shipping,sla,late-shipment"),
    ("Returns handling", "Marketplace", "returns,refunds"),
    ("Listing quality", "Marketplace", "listings,seller,catalogue"),
    ("Seller onboarding", "Marketplace", "seller,onboarding"),
    ("Customer communication", "Customer Service", "communication,csat"),
    ("Complaint handling", "Customer Service", "complaints,csat,communication"),
    ("Inventory accuracy", "Fulfillment", "inventory,cycle-count,fulfillment"),
    ("Pick and pack", "Fulfillment", "fulfillment,picking,packing"),
    ("Payments and refunds", "Finance", "finance,payments,refunds"),
    ("Fraud signals", "Finance", "finance,fraud"),
    ("Anti-bribery", "Compliance", "anti-bribery,ethics,compliance"),
    ("Information security", "Compliance", "security,phishing,passwords"),
    ("Data protection", "Compliance", "gdpr,privacy,data-protection"),
    ("Leadership basics", "Leadership", "leadership,feedback,coaching"),
    ("Spreadsheet skills", "Productivity", "excel,spreadsheets,reporting"),
]
AUDIENCES = ["new starters", "team leads", "operators", "sellers", "analysts"]
QUALIFIERS = ["Introduction to", "Essentials of", "Practical", "Advanced", "Refresher:", "Applied"]
LEVEL_FOR = {
    "Introduction to": "beginner",
    "Essentials of": "beginner",
    "Practical": "intermediate",
    "Applied": "intermediate",
    "Refresher:": "intermediate",
    "Advanced": "advanced",
}


@dataclass
class ScaleReport:
    departments: int = 0
    teams: int = 0
    users: int = 0
    role_grants: int = 0
    courses: int = 0
    modules: int = 0
    questions: int = 0
    seconds: float = 0.0


def chunks(rows: list, size: int = CHUNK) -> Iterator[list]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _insert(model, rows: list[dict]) -> None:
    # Core executemany on the table: batched INSERT ... VALUES (the ORM bulk path can fall
    # back to one statement per row).
    conn = db.session.connection()
    for part in chunks(rows):
        conn.execute(insert(model.__table__), part)


def _insert_returning(model, rows: list[dict], *cols) -> list:
    conn = db.session.connection()
    stmt = insert(model.__table__).returning(*cols, sort_by_parameter_order=True)
    out: list = []
    for part in chunks(rows):
        out.extend(conn.execute(stmt, part).all())
    return out


def scale_data_present() -> bool:
    return (
        db.session.scalar(select(User.id).where(User.email.like(f"%@{SCALE_DOMAIN}")).limit(1))
        is not None
    )


def seed_scale(employees: int, courses: int, seed: int = 7) -> ScaleReport | None:
    """Generate `employees` people and `courses` courses; return None if scale data exists."""
    if scale_data_present():
        return None
    from app.people.auth import hash_password

    started = time.perf_counter()
    rng = random.Random(seed)
    report = ScaleReport()
    now = clock.now()
    try:
        job_roles = _job_roles(now)
        dept_rows, team_rows = _org(employees, rng, now, report)
        _people(employees, rng, now, hash_password(SCALE_PASSWORD), job_roles, team_rows, report)
        _grants(now, job_roles, report)
        _courses(courses, rng, now, report)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    report.seconds = time.perf_counter() - started
    return report


def _job_roles(now) -> dict[str, int]:
    existing = dict(db.session.execute(select(JobRole.name, JobRole.id)).all())
    missing = [
        {"name": name, "risk_level": risk, "description": None, "created_at": now}
        for name, risk, _, _ in JOB_ROLES
        if name not in existing
    ]
    for name, role_id in _insert_returning(JobRole, missing, JobRole.name, JobRole.id):
        existing[name] = role_id
    return existing


def _org(employees: int, rng, now, report: ScaleReport):
    # About one department per 500 people, five teams each; names never clash with the demo's.
    n_depts = max(2, employees // 500)
    dept_specs = []
    for i in range(n_depts):
        site, tz, locale = SITES[i % len(SITES)]
        function = FUNCTIONS[i % len(FUNCTIONS)]
        dept_specs.append(
            {"name": f"{function} ({site} {i + 1:02d})", "site": site, "created_at": now}
        )
    depts = _insert_returning(Department, dept_specs, Department.id, Department.name)
    report.departments = len(depts)
    team_specs, team_meta = [], []
    for (dept_id, dept_name), spec in zip(depts, dept_specs, strict=True):
        for name in rng.sample(TEAM_NAMES, 5):
            team_specs.append({"name": name, "department_id": dept_id, "created_at": now})
            team_meta.append((spec["site"], dept_name.split(" (")[0]))
    teams = _insert_returning(Team, team_specs, Team.id, Team.department_id)
    report.teams = len(teams)
    team_rows = [
        {"id": team_id, "department_id": dept_id, "site": site, "function": function}
        for (team_id, dept_id), (site, function) in zip(teams, team_meta, strict=True)
    ]
    return depts, team_rows


def _person(i: int, rng, now, password_hash: str, team: dict, job_role_id: int) -> dict:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    site = next(s for s in SITES if s[0] == team["site"])
    return {
        "email": f"{first.lower()}.{last.lower()}.{i}@{SCALE_DOMAIN}",
        "name": f"{first} {last}",
        "password_hash": password_hash,
        "active": rng.random() > 0.03,
        "hire_date": date(2012, 1, 2) + timedelta(days=rng.randrange(0, 5000)),
        "department_id": team["department_id"],
        "team_id": team["id"],
        "job_role_id": job_role_id,
        "locale": site[2],
        "timezone": site[1],
        "created_at": now,
        "manager_id": None,
    }


def _people(employees, rng, now, password_hash, job_roles, team_rows, report: ScaleReport):
    # One team lead per team first (they manage the team), then everyone else; ~10 % sellers.
    leads = []
    for n, team in enumerate(team_rows):
        leads.append(_person(n, rng, now, password_hash, team, job_roles["Team Lead"]))
    lead_rows = _insert_returning(User, leads, User.id, User.team_id)
    lead_of = {team_id: user_id for user_id, team_id in lead_rows}
    n_sellers = employees // 10
    rest = max(0, employees - len(leads) - n_sellers)
    people = []
    for n in range(rest):
        team = team_rows[n % len(team_rows)]
        choices = [
            (name, weight)
            for name, _, functions, weight in JOB_ROLES
            if weight and team["function"] in functions
        ]
        names, weights = zip(*choices, strict=True)
        job = rng.choices(names, weights)[0]
        row = _person(len(leads) + n, rng, now, password_hash, team, job_roles[job])
        row["manager_id"] = lead_of[team["id"]]
        people.append(row)
    _insert(User, people)
    sales = [t for t in team_rows if t["function"] == "Seller Success"]
    seller_team = sales[0] if sales else team_rows[0]
    sellers, shops = [], {}
    for n in range(n_sellers):
        row = _person(
            len(leads) + rest + n, rng, now, password_hash, seller_team, job_roles["Seller"]
        )
        row["manager_id"] = lead_of[seller_team["id"]]
        shops[row["email"]] = {
            "shop_name": f"{row['name'].split()[1]} {rng.choice(SHOP_WORDS)}",
            "tier": rng.choices(["bronze", "silver", "gold", "platinum"], [50, 30, 15, 5])[0],
            "created_at": now,
        }
        sellers.append(row)
    if sellers:
        made = _insert_returning(User, sellers, User.id, User.email)
        _insert(SellerProfile, [{"user_id": uid, **shops[email]} for uid, email in made])
    report.users = len(leads) + len(people) + len(sellers)


SHOP_WORDS = ["Goods", "Home", "Outdoor", "Crafts", "Supplies", "Boutique", "Trading", "Studio"]


def _grants(now, job_roles: dict[str, int], report: ScaleReport) -> None:
    """Grant access roles set-based from what each generated person is."""
    scale = User.email.like(f"%@{SCALE_DOMAIN}")
    is_seller = select(SellerProfile.user_id).where(SellerProfile.user_id == User.id).exists()
    at = literal(now, UTCDateTime)
    by_job = {
        "trainer": job_roles["Learning & Development Specialist"],
        "qa": job_roles["QA Specialist"],
        "hr": job_roles["HR Business Partner"],
        "manager": job_roles["Team Lead"],
    }
    selects = [
        select(User.id, literal("employee"), at).where(scale, ~is_seller),
        select(User.id, literal("seller"), at).where(scale, is_seller),
    ]
    for role, job_role_id in by_job.items():
        selects.append(
            select(User.id, literal(role), at).where(scale, User.job_role_id == job_role_id)
        )
    for sel in selects:
        db.session.execute(insert(UserRole).from_select(["user_id", "role", "granted_at"], sel))
    # rowcount of INSERT ... SELECT is not reliable across drivers; count instead.
    report.role_grants = db.session.scalar(
        select(func.count()).select_from(UserRole).join(User).where(scale)
    )


def _courses(count: int, rng, now, report: ScaleReport) -> None:
    from app.learning.courses import normalise_tags

    owner_ids = db.session.scalars(
        select(User.id)
        .join(UserRole, UserRole.user_id == User.id)
        .where(User.email.like(f"%@{SCALE_DOMAIN}"), UserRole.role == "trainer")
        .limit(50)
    ).all() or [None]
    rows = []
    for i in range(count):
        topic, category, tags = TOPICS[i % len(TOPICS)]
        qualifier = QUALIFIERS[(i // len(TOPICS)) % len(QUALIFIERS)]
        language = rng.choices(["en", "de", "fr"], [80, 10, 10])[0]
        status = rng.choices(["published", "draft", "retired"], [90, 7, 3])[0]
        gxp = category in ("GxP", "Quality")
        edition = i // (len(TOPICS) * len(QUALIFIERS)) + 1
        title = f"{qualifier} {topic}"
        if edition > 1:
            title += f" ({edition})"
        rows.append(
            {
                "code": f"SC-{i + 1:05d}",
                "title": title,
                "summary": f"{topic} for {rng.choice(AUDIENCES)}: what good looks like, "
                "the common mistakes, and a short check at the end.",
                "category": category,
                "tags": normalise_tags(tags.split(",")),
                "level": LEVEL_FOR[qualifier],
                "language": language,
                "estimated_minutes": rng.choice([15, 20, 30, 45, 60, 90]),
                "status": status,
                "version": rng.choice([1, 1, 1, 2, 3]),
                "owner_id": rng.choice(owner_ids),
                "passing_score": rng.choice([70, 75, 80, 80, 85, 90]),
                "validity_months": rng.choice([12, 24]) if gxp else None,
                "mandatory": gxp or rng.random() < 0.1,
                "is_onboarding": rng.random() < 0.08,
                "self_enroll": True,
                "cover_file_id": None,
                "created_at": now - timedelta(days=rng.randrange(0, 900)),
                "updated_at": now,
                "published_at": now if status == "published" else None,
                "retired_at": now if status == "retired" else None,
            }
        )
    course_ids = [r[0] for r in _insert_returning(Course, rows, Course.id)]
    report.courses = len(course_ids)
    modules = []
    for course_id, row in zip(course_ids, rows, strict=True):
        topic = row["title"]
        for position, (kind, title) in enumerate(
            [
                ("text", "Overview"),
                ("quiz", "Knowledge check"),
                ("text", "Putting it into practice"),
            ],
            start=1,
        ):
            modules.append(
                {
                    "course_id": course_id,
                    "position": position,
                    "kind": kind,
                    "title": title,
                    "body": f"## {title}\n\nThis part of *{topic}* covers the essentials.\n",
                    "file_id": None,
                    "required": True,
                    "estimated_minutes": 10,
                    "settings": {"attempt_limit": 3} if kind == "quiz" else {},
                    "created_at": now,
                    "updated_at": now,
                }
            )
    module_rows = _insert_returning(Module, modules, Module.id, Module.kind)
    report.modules = len(module_rows)
    questions = [
        q for module_id, kind in module_rows if kind == "quiz" for q in _questions(module_id)
    ]
    _insert(QuizQuestion, questions)
    report.questions = len(questions)


def _questions(module_id: int) -> Iterable[dict]:
    base = {"module_id": module_id, "explanation": "", "topic": None, "version": 1, "points": 1}
    yield {
        **base,
        "position": 1,
        "kind": "single",
        "prompt": "Which of these is the correct first step?",
        "options": ["Stop and check the procedure", "Carry on", "Ask a customer"],
        "answer": {"correct": [0]},
    }
    yield {
        **base,
        "position": 2,
        "kind": "true_false",
        "prompt": "Records are made at the time of the activity.",
        "options": ["True", "False"],
        "answer": {"correct": True},
    }
    yield {
        **base,
        "position": 3,
        "kind": "numeric",
        "prompt": "How many days do you have to report an incident?",
        "options": [],
        "answer": {"value": 1, "tolerance": 0},
    }


@dataclass
class EnrollmentReport:
    enrollments: int = 0
    by_status: dict[str, int] | None = None
    progress: int = 0
    results: int = 0
    seconds: float = 0.0


# (status, weight) of generated enrollments.
ENROLLMENT_MIX = (("assigned", 40), ("in_progress", 35), ("completed", 25))


def scale_enrollments_present() -> bool:
    return (
        db.session.scalar(
            select(Enrollment.id)
            .join(User, User.id == Enrollment.user_id)
            .where(User.email.like(f"%@{SCALE_DOMAIN}"))
            .limit(1)
        )
        is not None
    )


def seed_enrollments(count: int, seed: int = 7) -> EnrollmentReport | None:
    """Enrol active scale people in published scale courses, with progress and quiz results.

    Returns None when scale enrollments exist already. Raises click.UsageError when there are
    not enough people and courses for `count` distinct (person, course) pairs.
    """
    if count <= 0 or scale_enrollments_present():
        return None
    started = time.perf_counter()
    rng = random.Random(seed + 1)
    now = clock.now()
    report = EnrollmentReport()
    user_ids = db.session.scalars(
        select(User.id)
        .where(User.email.like(f"%@{SCALE_DOMAIN}"), User.active.is_(True))
        .order_by(User.id)
    ).all()
    course_rows = db.session.execute(
        select(Course.id, Course.passing_score)
        .where(Course.code.like("SC-%"), Course.status == "published")
        .order_by(Course.id)
    ).all()
    if len(user_ids) * len(course_rows) < count:
        raise click.UsageError(
            f"{count} enrollments need more people x published scale courses "
            f"({len(user_ids)} x {len(course_rows)})."
        )
    passing = dict(course_rows)
    course_ids = list(passing)
    modules: dict[int, list[tuple[int, str]]] = {}
    for module_id, course_id, kind in db.session.execute(
        select(Module.id, Module.course_id, Module.kind)
        .where(Module.course_id.in_(select(Course.id).where(Course.code.like("SC-%"))))
        .order_by(Module.course_id, Module.position)
    ):
        modules.setdefault(course_id, []).append((module_id, kind))
    snapshots: dict[int, list[dict]] = {}
    quiz_modules = [m for ms in modules.values() for m, kind in ms if kind == "quiz"]
    from app.learning.quizzes import question_snapshot

    for part in chunks(quiz_modules):
        for q in db.session.scalars(
            select(QuizQuestion)
            .where(QuizQuestion.module_id.in_(part))
            .order_by(QuizQuestion.module_id, QuizQuestion.position)
        ):
            snapshots.setdefault(q.module_id, []).append(question_snapshot(q, False))

    try:
        pairs = _pairs(count, user_ids, course_ids, rng)
        statuses, weights = zip(*ENROLLMENT_MIX, strict=True)
        rows = []
        for user_id, course_id in pairs:
            status = rng.choices(statuses, weights)[0]
            created = now - timedelta(days=rng.randrange(30, 400))
            begun = created + timedelta(days=rng.randrange(0, 20)) if status != "assigned" else None
            done = begun + timedelta(days=rng.randrange(0, 10)) if status == "completed" else None
            rows.append(
                {
                    "user_id": user_id,
                    "course_id": course_id,
                    "cycle": 1,
                    "source": rng.choices(["self", "manager", "rule"], [30, 30, 40])[0],
                    "assigned_by_id": None,
                    "due_date": (created + timedelta(days=rng.choice([30, 60, 90]))).date(),
                    "status": status,
                    "created_at": created,
                    "started_at": begun,
                    "completed_at": done,
                    "score": 100.0 if status == "completed" else None,
                }
            )
        ids = [r[0] for r in _insert_returning(Enrollment, rows, Enrollment.id)]
        report.enrollments = len(ids)
        report.by_status = {s: sum(1 for r in rows if r["status"] == s) for s in statuses}
        progress, results = [], []
        for enrollment_id, row in zip(ids, rows, strict=True):
            if row["status"] != "assigned":
                _records(
                    enrollment_id,
                    row,
                    modules[row["course_id"]],
                    snapshots,
                    passing,
                    rng,
                    progress,
                    results,
                )
        _insert(Progress, progress)
        _insert(Result, results)
        report.progress, report.results = len(progress), len(results)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    report.seconds = time.perf_counter() - started
    return report


def _pairs(count: int, user_ids: list[int], course_ids: list[int], rng) -> list[tuple[int, int]]:
    """`count` distinct (person, course) pairs, spread evenly over people."""
    seen: set[tuple[int, int]] = set()
    per_user = count // len(user_ids)
    if per_user:
        for user_id in user_ids:
            for course_id in rng.sample(course_ids, min(per_user, len(course_ids))):
                seen.add((user_id, course_id))
    while len(seen) < count:
        seen.add((rng.choice(user_ids), rng.choice(course_ids)))
    return sorted(seen)


def _records(enrollment_id, row, course_modules, snapshots, passing, rng, progress, results):
    """Progress rows (and graded quiz attempts) for one started or completed enrollment."""
    begun, user_id = row["started_at"], row["user_id"]
    if row["status"] == "completed":
        done = len(course_modules)
    else:
        done = rng.randrange(0, len(course_modules))  # modules finished before the current one
    for index, (module_id, kind) in enumerate(course_modules[: done + 1]):
        finished = index < done
        at = begun + timedelta(hours=index + 1)
        progress.append(
            {
                "enrollment_id": enrollment_id,
                "module_id": module_id,
                "status": "completed" if finished else "in_progress",
                "percent": 100 if finished else (0 if kind == "quiz" else rng.randrange(5, 95)),
                "time_spent_seconds": rng.randrange(60, 1200),
                "position": None,
                "updated_at": at,
                "completed_at": at if finished else None,
            }
        )
        if kind != "quiz" or module_id not in snapshots:
            continue
        # A quiz passed at the first try, or after a failed attempt; an open quiz may have one
        # failed attempt behind it.
        outcomes = [True] if rng.random() < 0.8 else [False, True]
        if not finished:
            outcomes = [False] if rng.random() < 0.3 else []
        for attempt_no, passed in enumerate(outcomes, start=1):
            results.append(
                _graded_attempt(
                    enrollment_id,
                    module_id,
                    user_id,
                    attempt_no,
                    snapshots[module_id],
                    passed,
                    passing[row["course_id"]],
                    at - timedelta(minutes=20 * (len(outcomes) - attempt_no) + 10),
                )
            )


def _graded_attempt(enrollment_id, module_id, user_id, attempt_no, questions, passed, mark, at):
    answers, per_question, score, max_score = {}, {}, 0, 0
    for n, q in enumerate(questions):
        right = passed or n > 0  # a failed attempt gets the first question wrong
        answer = q["answer"]
        if q["kind"] in ("single", "multiple"):
            value = (
                answer["correct"]
                if right
                else [i for i in q["order"] if i not in answer["correct"]][:1]
            )
        elif q["kind"] == "true_false":
            value = answer["correct"] if right else not answer["correct"]
        elif q["kind"] == "numeric":
            value = float(answer["value"]) + (0 if right else 1 + float(answer["tolerance"]))
        else:
            value = answer["accepted"][0] if right else "no idea"
        answers[str(q["id"])] = value
        score += q["points"] if right else 0
        max_score += q["points"]
        per_question[str(q["id"])] = {"correct": right, "awarded": q["points"] if right else 0}
    percent = round(score * 100.0 / max_score, 1) if max_score else 0.0
    return {
        "enrollment_id": enrollment_id,
        "module_id": module_id,
        "user_id": user_id,
        "kind": "quiz",
        "attempt_no": attempt_no,
        "status": "graded",
        "questions": questions,
        "answers": answers,
        "feedback": {"questions": per_question, "percent": percent, "pass_mark": mark},
        "score": float(score),
        "max_score": float(max_score),
        "passed": percent >= mark,
        "submission_text": None,
        "submission_file_id": None,
        "rubric_scores": {},
        "comment": None,
        "graded_by_id": None,
        "started_at": at - timedelta(minutes=8),
        "deadline_at": None,
        "submitted_at": at,
        "graded_at": at,
    }


def scale_requirements_present() -> bool:
    return (
        db.session.scalar(
            select(CompetencyRequirement.id).where(CompetencyRequirement.notes == SCALE_MARK)
        )
        is not None
    )


SCALE_MARK = "seed-scale"


def seed_requirements(per_role: int, seed: int = 7) -> int | None:
    """Give every job role `per_role` requirements on published scale courses (a mix of
    due bases and relative/calendar recertification). None when they exist already."""
    if per_role <= 0 or scale_requirements_present():
        return None
    rng = random.Random(seed + 2)
    course_ids = db.session.scalars(
        select(Course.id)
        .where(Course.code.like("SC-%"), Course.status == "published")
        .order_by(Course.id)
    ).all()
    if len(course_ids) < per_role:
        raise click.UsageError(f"Need {per_role} published scale courses, found {len(course_ids)}.")
    now = clock.now()
    rows = []
    for role_id in db.session.scalars(select(JobRole.id).order_by(JobRole.id)).all():
        for course_id in rng.sample(course_ids, per_role):
            calendar_mode = rng.random() < 0.2
            rows.append(
                {
                    "job_role_id": role_id,
                    "course_id": course_id,
                    "due_days": rng.choice((14, 30, 60, 90)),
                    "due_basis": rng.choice(("hire", "assignment")),
                    "recert_months": rng.choice((None, 12, 24)),
                    "recert_mode": "calendar" if calendar_mode else "relative",
                    "recert_anchor_month": 1 if calendar_mode else None,
                    "recert_window_days": 60,
                    "grace_days": rng.choice((0, 0, 14)),
                    "risk_level": rng.choice(("low", "medium", "high")),
                    "effective_from": date(2020, 1, 1),
                    "notes": SCALE_MARK,
                    "created_at": now,
                    "updated_at": now,
                }
            )
    for part in chunks(rows):
        db.session.execute(insert(CompetencyRequirement), part)
    db.session.commit()
    return len(rows)


def register(app: Flask) -> None:
    @app.cli.command("seed-scale")
    @click.option("--employees", default=10000, show_default=True, type=click.IntRange(20, 500000))
    @click.option("--courses", default=500, show_default=True, type=click.IntRange(1, 100000))
    @click.option(
        "--enrollments",
        default=0,
        show_default=True,
        type=click.IntRange(0, 10_000_000),
        help="Also enrol scale people in published scale courses, with progress and results.",
    )
    @click.option(
        "--requirements",
        default=0,
        show_default=True,
        type=click.IntRange(0, 200),
        help="Also give every job role this many competency requirements (scale courses).",
    )
    @click.option("--seed", default=7, show_default=True, help="Random seed for repeatable data.")
    def seed_scale_command(
        employees: int, courses: int, enrollments: int, requirements: int, seed: int
    ) -> None:
        """Bulk-generate people and courses for benchmarks (skips if scale data exists)."""
        report = seed_scale(employees, courses, seed)
        if report is None:
            total = db.session.scalar(
                select(func.count()).select_from(User).where(User.email.like(f"%@{SCALE_DOMAIN}"))
            )
            click.echo(f"Scale data already present ({total} @{SCALE_DOMAIN} users); skipping.")
        else:
            click.echo(
                f"Scale data created in {report.seconds:.1f} s: {report.departments} departments, "
                f"{report.teams} teams, {report.users} users, {report.role_grants} role grants, "
                f"{report.courses} courses, {report.modules} modules, "
                f"{report.questions} quiz questions."
            )
        if requirements:
            made = seed_requirements(requirements, seed)
            click.echo(
                "Scale requirements already present; skipping."
                if made is None
                else f"Scale requirements created: {made}."
            )
        if enrollments:
            _seed_enrollments(enrollments, seed)
        if db.session.get_bind().dialect.name == "postgresql":
            # Fresh bulk rows: give the planner real statistics before anyone queries them.
            db.session.execute(text("ANALYZE"))
            db.session.commit()

    def _seed_enrollments(enrollments: int, seed: int) -> None:
        records = seed_enrollments(enrollments, seed)
        if records is None:
            total = db.session.scalar(
                select(func.count())
                .select_from(Enrollment)
                .join(User, User.id == Enrollment.user_id)
                .where(User.email.like(f"%@{SCALE_DOMAIN}"))
            )
            click.echo(f"Scale enrollments already present ({total}); skipping.")
            return
        mix = ", ".join(f"{n} {status}" for status, n in (records.by_status or {}).items())
        click.echo(
            f"Scale enrollments created in {records.seconds:.1f} s: {records.enrollments} "
            f"enrollments ({mix}), {records.progress} progress rows, "
            f"{records.results} graded quiz attempts."
        )
