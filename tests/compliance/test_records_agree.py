"""One obligation, one story: Home, My record, the compliance pages, the manager's panel, the
APIs and the CSV exports tell the same status, due date and validity for every (person,
requirement), over random histories.

The truth is `statuses()` (the one status derivation). Each surface is read as a user reads it,
through the real pages, exports and API endpoints, and compared obligation by obligation.
"""

from __future__ import annotations

import csv
import io
import random
import re
from datetime import date, timedelta

import pytest

from app.compliance.engine import run_requirement_engine
from app.compliance.models import TrainingAssignment, Waiver
from app.compliance.statuses import Scope, statuses
from app.extensions import db
from app.learning.models import Enrollment
from app.platform import clock
from tests.compliance.factories import RequirementFactory, at
from tests.learning.factories import CourseFactory
from tests.people.factories import JobRoleFactory, UserFactory

LATE = ("overdue", "expired")
HISTORIES = (
    "never",  # assigned long ahead, nothing done
    "in_progress",  # due within the month, started
    "overdue",  # due date passed, never done
    "completed",  # done recently, valid for long
    "expiring",  # valid until within the month
    "in_grace",  # validity ended a few days ago, grace not over
    "expired",  # validity and grace over
    "waived",
    "imported",  # a completion imported from the previous system
)


def _build(rng: random.Random):
    """A manager, an admin, and people on one job role with three requirements (12 months with
    14 days' grace, 12 months without grace, never expires) and a random history for each."""
    on = clock.today()
    role = JobRoleFactory()
    manager = UserFactory(roles=["manager", "employee"])
    admin = UserFactory(roles=["admin"])
    requirements = [
        RequirementFactory(
            job_role=role,
            course=CourseFactory(code="FUL-301", validity_months=12),
            grace_days=14,
        ),
        RequirementFactory(job_role=role, course=CourseFactory(validity_months=12), grace_days=0),
        RequirementFactory(job_role=role, course=CourseFactory(validity_months=None)),
    ]
    people = [UserFactory(job_role=role, manager=manager, roles=["employee"]) for _ in range(10)]
    histories = {}
    for person in people:
        for req in requirements:
            expires = req.course.validity_months is not None
            choices = [
                h
                for h in HISTORIES
                if (expires or h not in ("expiring", "in_grace", "expired"))
                and (req.grace_days or h != "in_grace")
            ]
            history = rng.choice(choices)
            histories[person.id, req.id] = history
            _history(rng, on, person, req, history)
    db.session.commit()
    # The nightly run: renewal assignments and enrollments for what expires or expired.
    run_requirement_engine(on)
    return on, manager, admin, people, requirements, histories


def _history(rng, on: date, person, req, history: str) -> None:
    due = {
        "never": on + timedelta(days=rng.randint(40, 120)),
        "in_progress": on + timedelta(days=rng.randint(0, 29)),
        "overdue": on - timedelta(days=rng.randint(1, 90)),
    }.get(history, on - timedelta(days=rng.randint(200, 400)))
    db.session.add(
        TrainingAssignment(
            user_id=person.id, requirement_id=req.id, cycle=1, due_date=due, reason="test"
        )
    )
    completed = {
        "completed": on - timedelta(days=rng.randint(1, 200)),
        "imported": on - timedelta(days=rng.randint(1, 200)),
        # 12 months valid: done a year ago less a few days (expiring), or plus a few (past).
        "expiring": on - timedelta(days=365 - rng.randint(2, 25)),
        "in_grace": on - timedelta(days=365 + rng.randint(0, 10)),
        "expired": on - timedelta(days=365 + rng.randint(20, 200)),
    }.get(history)
    if completed is not None:
        db.session.add(
            Enrollment(
                user_id=person.id,
                course_id=req.course_id,
                cycle=1,
                source="import" if history == "imported" else "requirement",
                status="completed",
                due_date=due,
                created_at=at(completed),
                started_at=at(completed),
                completed_at=at(completed),
                score=100.0,
            )
        )
        return
    db.session.add(
        Enrollment(
            user_id=person.id,
            course_id=req.course_id,
            cycle=1,
            source="requirement",
            # The enrollment's own due date may disagree with its requirement's (set once,
            # changed since): pages must not show it for an obligation.
            due_date=due + timedelta(days=rng.choice([0, 0, -10, 10])),
            status="in_progress" if history == "in_progress" else "assigned",
            created_at=at(on - timedelta(days=60)),
        )
    )
    if history == "waived":
        db.session.add(
            Waiver(
                user_id=person.id,
                requirement_id=req.id,
                reason="Equivalent external qualification.",
                status="approved",
                starts_on=on - timedelta(days=5),
                ends_on=on + timedelta(days=90),
            )
        )


def _iso(value) -> str:
    return value.isoformat() if value else ""


def _attrs(html: str, pattern: str) -> list[dict[str, str]]:
    """The data-* attributes of every element whose opening tag matches `pattern`."""
    out = []
    for tag in re.findall(rf"<[^>]*{pattern}[^>]*>", html):
        out.append(dict(re.findall(r'data-([a-z-]+)="([^"]*)"', tag)))
    return out


@pytest.mark.parametrize("seed", [15, 301, 2026])
def test_every_surface_tells_the_same_story(app, client, auth, seed):
    on, manager, admin, people, requirements, histories = _build(random.Random(seed))
    ids = [p.id for p in people]
    truth = {(s.user_id, s.requirement_id): s for s in statuses(on, Scope(user_ids=ids))}
    assert len(truth) == len(people) * len(requirements)
    # The random histories reach the statuses that matter (else the test proves little).
    seen = {s.status for s in truth.values()}
    assert {"overdue", "expired", "due_soon", "compliant", "waived"} <= seen, seen
    in_grace = [k for k, h in histories.items() if h == "in_grace"]

    def story(s) -> tuple[str, str, str]:
        return (s.status, _iso(s.due_date), _iso(s.valid_until))

    # Once done, the due date is the end of the validity: never a later, older cycle's date.
    for s in truth.values():
        if s.completed_on is not None:
            assert s.due_date == s.valid_until
    for key in in_grace:
        assert truth[key].status == "due_soon" and truth[key].valid_until <= on

    by_enrollment = _open_enrollments(ids, requirements)

    # 1. Home and the training API, as each person.
    for person in people:
        auth.login(person)
        home = client.get("/home").get_data(as_text=True)
        rows = {
            int(m.group(1)): dict(re.findall(r'data-([a-z-]+)="([^"]*)"', m.group(0)))
            for m in re.finditer(r'<li class="training-item" id="enrollment-(\d+)"[^>]*>', home)
        }
        api = client.get(f"/api/training/users/{person.id}").get_json()
        api_rows = {e["id"]: e for e in api["enrollments"]}
        late_on_home = 0
        for enrollment_id, req_id in by_enrollment.get(person.id, {}).items():
            s = truth[person.id, req_id]
            attrs = rows[enrollment_id]
            assert (attrs["status"], attrs["due"], attrs["valid-until"]) == story(s), histories[
                person.id, req_id
            ]
            e = api_rows[enrollment_id]
            assert (e["requirement_status"], e["due_date"] or "", e["valid_until"] or "") == story(
                s
            )
            assert e["overdue"] is (s.status in LATE)
            late_on_home += s.status in LATE
        # Home's "overdue" count is the number of late obligations.
        count = re.search(r'stat-overdue"><strong>(\d+)</strong> overdue', home)
        assert int(count.group(1)) == late_on_home
        # Every late obligation is on Home, as an open enrollment to act on.
        late = {r for (u, r), s in truth.items() if u == person.id and s.status in LATE}
        assert late == {
            r
            for e, r in by_enrollment.get(person.id, {}).items()
            if truth[person.id, r].status in LATE
        }
        auth.logout()

    # 2. My record (the page and its CSV), as the admin.
    auth.login(admin)
    for person in people:
        page = client.get(f"/people/{person.id}/record").get_data(as_text=True)
        told = {
            int(a["requirement"]): (a["status"], a["due"], a["valid-until"])
            for a in _attrs(page, 'class="obligation"')
        }
        assert told == {r: story(truth[person.id, r]) for r in (q.id for q in requirements)}
        body = client.get(f"/people/{person.id}/record.csv").get_data(as_text=True)
        in_csv = {
            int(row["id"]): (row["status"], row["due_date"], row["valid_until"])
            for row in csv.DictReader(io.StringIO(body))
            if row["section"] == "compliance"
        }
        assert in_csv == told
        # The training-records API: each open record speaks for its requirement.
        listed = client.get(f"/api/v1/training/records?user_id={person.id}&per_page=100")
        items = {i["id"]: i for i in listed.get_json()["items"]}
        for enrollment_id, req_id in by_enrollment.get(person.id, {}).items():
            i = items[enrollment_id]
            assert (
                i["requirement_status"],
                i["due_date"] or "",
                i["valid_until"] or "",
            ) == story(truth[person.id, req_id])

    # 3. The compliance pages, their CSV and the reports API, as the admin.
    def late_truth():
        return {k: story(s) for k, s in truth.items() if s.status in LATE}

    def soon_truth(days):
        return {
            k: story(s)
            for k, s in truth.items()
            if s.ok
            and s.waiver_id is None
            and s.valid_until
            and s.valid_until <= on + timedelta(days)
        }

    overdue_page = client.get("/compliance/overdue?per_page=200").get_data(as_text=True)
    assert _gap_rows(overdue_page) == late_truth()
    overdue_csv = client.get("/compliance/overdue.csv").get_data(as_text=True)
    assert _csv_gaps(overdue_csv, people, requirements) == late_truth()
    expiring_page = client.get("/compliance/expiring?days=90&per_page=200").get_data(as_text=True)
    assert _gap_rows(expiring_page) == soon_truth(90)
    expiring_csv = client.get("/compliance/expiring.csv?days=90").get_data(as_text=True)
    assert _csv_gaps(expiring_csv, people, requirements) == soon_truth(90)
    api = client.get("/api/v1/training/reports/overdue?per_page=100").get_json()
    assert {
        (i["user_id"], i["requirement_id"]): (
            i["status"],
            i["due_date"] or "",
            i["valid_until"] or "",
        )
        for i in api["items"]
    } == late_truth()
    dashboard = client.get("/compliance").get_data(as_text=True)
    assert dashboard  # renders; its counts are the manager panel's, checked below
    auth.logout()

    # 4. The manager's panel: counts, the team's overdue list, and the team table.
    auth.login(manager)
    home = client.get("/home").get_data(as_text=True)
    panel = home.split('id="team-compliance"', 1)[1].split("</section>", 1)[0]
    for status in ("overdue", "expired", "due_soon", "compliant", "waived", "not_started"):
        n = sum(1 for s in truth.values() if s.status == status)
        assert re.search(rf'stat-{status}"><strong>{n}</strong>', panel), status
    listed = _gap_rows(panel)
    total = re.search(r"Overdue and expired <span class=\"muted\">\((\d+)\)", panel)
    assert int(total.group(1) if total else 0) == len(late_truth())
    assert listed.items() <= late_truth().items()
    table = home.split('id="team-training"', 1)[1]
    for person in people:
        row = re.search(rf'id="report-{person.id}">(.*?)</tr>', table, re.S).group(1)
        cells = re.findall(r'<td data-label="\w+" class="num">(.*?)</td>', row, re.S)
        overdue_cell = re.sub(r"<[^>]+>", "", cells[1]).strip()
        late = sum(1 for (u, _), s in truth.items() if u == person.id and s.status in LATE)
        assert int(overdue_cell) == late, person.id


def _open_enrollments(ids, requirements) -> dict[int, dict[int, int]]:
    """{person: {open enrollment id: requirement id}} (one course per requirement here)."""
    req_by_course = {r.course_id: r.id for r in requirements}
    out: dict[int, dict[int, int]] = {}
    for e in db.session.scalars(
        db.select(Enrollment).where(
            Enrollment.user_id.in_(ids), Enrollment.status.in_(("assigned", "in_progress"))
        )
    ):
        out.setdefault(e.user_id, {})[e.id] = req_by_course[e.course_id]
    return out


def _gap_rows(html: str) -> dict[tuple[int, int], tuple[str, str, str]]:
    return {
        (int(a["user"]), int(a["requirement"])): (a["status"], a["due"], a["valid-until"])
        for a in _attrs(html, 'class="gap-row"')
    }


def _csv_gaps(body: str, people, requirements) -> dict[tuple[int, int], tuple[str, str, str]]:
    by_email = {p.email: p.id for p in people}
    by_code = {r.course.code: r.id for r in requirements}
    return {
        (by_email[row["email"]], by_code[row["requirement_code"]]): (
            row["status"],
            row["due_date"],
            row["valid_until"],
        )
        for row in csv.DictReader(io.StringIO(body.lstrip("\ufeff")))
    }
