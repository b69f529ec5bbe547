"""Read models of training records: a person's enrollments, certificates, results, and a team's."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy import and_, case, column, func, or_, select, table
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.learning.certificates import status_from_dates
from app.learning.events import obligations_asked
from app.learning.models import Certification, Course, Enrollment, Module, Progress, Result
from app.people.models import User
from app.platform import clock
from app.platform.errors import NotFound
from app.platform.pagination import Page, paginate

# Enrollments that can be late: still to be done (failed ones must be retaken).
TODO_STATUSES = ("assigned", "in_progress", "failed")

GROUPS = ("overdue", "in_progress", "assigned", "completed")


def today() -> date:
    return clock.today()


def is_overdue(status: str, due_date: date | None, on: date | None = None) -> bool:
    """Late: a due date before today on an enrollment still to be done."""
    return due_date is not None and status in TODO_STATUSES and due_date < (on or today())


@dataclass(frozen=True)
class Told:
    """What the requirement an open enrollment serves says about it (answered by compliance
    through `learning.obligations_asked`): its status, due date and validity."""

    user_id: int
    requirement_id: int
    status: str
    due_date: date | None
    valid_until: date | None
    grace_until: date | None  # in grace: the validity ended, it still counts until this day

    @property
    def late(self) -> bool:
        return self.status in ("overdue", "expired")


def obligations(user_ids: list[int], on: date | None = None) -> dict[int, Told]:
    """{enrollment id: Told} for the open enrollments of these people that serve a
    requirement (one query in the compliance domain; empty when no domain answers)."""
    out: dict[int, Told] = {}
    if user_ids:
        for answer in obligations_asked.publish(on=on or today(), user_ids=list(user_ids)):
            out.update(answer or {})
    return out


def told(row: EnrollmentRow, t: Told | None) -> EnrollmentRow:
    """The row with its requirement's status, due date and validity (unchanged without one):
    a page never shows an enrollment's own due date against its requirement's."""
    if t is None:
        return row
    return replace(
        row,
        due_date=t.due_date,
        overdue=t.late,
        requirement_status=t.status,
        valid_until=t.valid_until,
        grace_until=t.grace_until,
    )


def percent(done: int, total: int) -> int:
    return int(done * 100 // total) if total else 0


@dataclass
class EnrollmentRow:
    """One enrollment as a learner or their manager sees it."""

    id: int
    course_id: int
    course_code: str
    course_title: str
    status: str
    source: str
    due_date: date | None
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    score: float | None
    required_modules: int = 0
    completed_modules: int = 0
    next_module_id: int | None = None
    overdue: bool = False
    # Set by the compliance domain when the enrollment serves a requirement: its status, due
    # date and validity then come from the one status derivation (see
    # app.compliance.obligations), and `due_date`/`overdue` follow them.
    requirement_status: str | None = None
    valid_until: date | None = None
    grace_until: date | None = None
    # Read-and-understand training: the controlled document version it is for.
    document_version: str | None = None

    @property
    def imported(self) -> bool:
        """A completion recorded before Cadre and imported: no modules were taken here."""
        return self.source == "import" and self.status == "completed"

    @property
    def progress_percent(self) -> int:
        if self.status == "completed":
            return 100
        return percent(self.completed_modules, self.required_modules)

    @property
    def group(self) -> str:
        """The dashboard section: overdue, in_progress, assigned or completed."""
        if self.overdue:
            return "overdue"
        if self.status in ("completed", "waived"):
            return "completed"
        if self.status == "assigned":
            return "assigned"
        return "in_progress"


@dataclass
class CertificationRow:
    id: int
    course_id: int
    course_title: str
    number: str
    verification_code: str
    issued_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    status: str


@dataclass
class UserTraining:
    """A person's training: enrollments with progress, and certificates."""

    user_id: int
    enrollments: list[EnrollmentRow]
    certifications: list[CertificationRow]

    def group(self, name: str) -> list[EnrollmentRow]:
        return [e for e in self.enrollments if e.group == name]

    @property
    def groups(self) -> dict[str, list[EnrollmentRow]]:
        out: dict[str, list[EnrollmentRow]] = {g: [] for g in GROUPS}
        for e in self.enrollments:
            out[e.group].append(e)
        return out

    @property
    def valid_certificates(self) -> int:
        return sum(1 for c in self.certifications if c.status in ("active", "expiring"))


def _progress_by_enrollment(enrollment_ids: list[int]) -> dict[int, tuple[int, int, int | None]]:
    """(required modules, completed required modules, module to continue with) per enrollment.

    One grouped query; the module to continue is the first not completed, else the first one.
    """
    if not enrollment_ids:
        return {}
    done = Progress.status == "completed"
    required = Module.required.is_(True)
    grouped = (
        select(
            Enrollment.id.label("enrollment_id"),
            Enrollment.course_id.label("course_id"),
            func.count(Module.id).filter(required).label("required"),
            func.count(Module.id).filter(required, done).label("done"),
            func.coalesce(
                func.min(case((or_(Progress.id.is_(None), ~done), Module.position))),
                func.min(Module.position),
            ).label("next_position"),
        )
        .join(Module, Module.course_id == Enrollment.course_id)
        .outerjoin(
            Progress,
            and_(Progress.enrollment_id == Enrollment.id, Progress.module_id == Module.id),
        )
        .where(Enrollment.id.in_(enrollment_ids))
        .group_by(Enrollment.id, Enrollment.course_id)
        .subquery()
    )
    rows = db.session.execute(
        select(grouped.c.enrollment_id, grouped.c.required, grouped.c.done, Module.id).outerjoin(
            Module,
            and_(
                Module.course_id == grouped.c.course_id,
                Module.position == grouped.c.next_position,
            ),
        )
    )
    return {r[0]: (int(r[1] or 0), int(r[2] or 0), r[3]) for r in rows}


def _certifications(user_id: int) -> list[CertificationRow]:
    now = clock.now()
    rows = db.session.execute(
        select(Certification, Course.title)
        .join(Course, Course.id == Certification.course_id)
        .where(Certification.user_id == user_id)
        .order_by(Certification.issued_at.desc(), Certification.id.desc())
    )
    return [
        CertificationRow(
            id=c.id,
            course_id=c.course_id,
            course_title=title,
            number=c.number,
            verification_code=c.verification_code,
            issued_at=c.issued_at,
            expires_at=c.expires_at,
            revoked_at=c.revoked_at,
            status=status_from_dates(c.revoked_at, c.expires_at, now, c.approval_status),
        )
        for c, title in rows
    ]


# The controlled-document versions (gxp's table, named here so learning need not import gxp):
# read-and-understand enrollments show theirs, so two rows of one SOP are told apart.
DOCUMENT_VERSIONS = table("document_versions", column("id"), column("version"))


def _row(
    e: Enrollment,
    code: str,
    title: str,
    progress: dict,
    on: date,
    document_version: str | None = None,
) -> EnrollmentRow:
    required, done, next_module = progress.get(e.id, (0, 0, None))
    return EnrollmentRow(
        id=e.id,
        course_id=e.course_id,
        course_code=code,
        course_title=title,
        status=e.status,
        source=e.source,
        due_date=e.due_date,
        created_at=e.created_at,
        started_at=e.started_at,
        completed_at=e.completed_at,
        score=e.score,
        required_modules=required,
        completed_modules=done,
        next_module_id=next_module,
        overdue=is_overdue(e.status, e.due_date, on),
        document_version=document_version,
    )


def user_training(user_id: int) -> UserTraining:
    """A person's enrollments (due date, status, overdue, progress) and certificates: 4 queries.

    Enrollments that serve a requirement take its status and due date (see `obligations`)."""
    on = today()
    dv = DOCUMENT_VERSIONS
    rows = db.session.execute(
        select(Enrollment, Course.code, Course.title, dv.c.version)
        .join(Course, Course.id == Enrollment.course_id)
        .outerjoin(dv, dv.c.id == Enrollment.document_version_id)
        .where(Enrollment.user_id == user_id)
        .order_by(Enrollment.due_date.is_(None), Enrollment.due_date, Course.title, Enrollment.id)
    ).all()
    progress = _progress_by_enrollment([e.id for e, *_ in rows])
    found = obligations([user_id], on) if rows else {}
    enrollments = [
        told(_row(e, code, title, progress, on, version), found.get(e.id))
        for e, code, title, version in rows
    ]
    # In the order of the due dates shown (a requirement's may differ from the enrollment's).
    enrollments.sort(key=lambda r: (r.due_date is None, r.due_date or date.min, r.course_title))
    return UserTraining(user_id, enrollments, _certifications(user_id))


@dataclass
class ResultRow:
    """One graded or submitted quiz attempt / assignment submission."""

    id: int
    kind: str
    enrollment_id: int
    module_id: int
    module_title: str
    course_id: int
    course_title: str
    attempt_no: int
    status: str
    score: float | None
    max_score: float | None
    passed: bool | None
    submitted_at: datetime | None
    graded_at: datetime | None

    @property
    def percent(self) -> float | None:
        if self.score is None or not self.max_score:
            return None
        return round(self.score * 100.0 / self.max_score, 1)


def user_results(user_id: int, page: int = 1, per_page: int = 20) -> Page:
    """A page of a person's submitted and graded results, newest first, with module/course."""
    query = (
        select(Result)
        .join(Result.module)
        .join(Module.course)
        .options(joinedload(Result.module).joinedload(Module.course))
        .where(Result.user_id == user_id, Result.status.in_(("submitted", "graded")))
        .order_by(func.coalesce(Result.submitted_at, Result.started_at).desc(), Result.id.desc())
    )
    found = paginate(query, page, per_page)
    found.items = [
        ResultRow(
            id=r.id,
            kind=r.kind,
            enrollment_id=r.enrollment_id,
            module_id=r.module_id,
            module_title=r.module.title,
            course_id=r.module.course_id,
            course_title=r.module.course.title,
            attempt_no=r.attempt_no,
            status=r.status,
            score=r.score,
            max_score=r.max_score,
            passed=r.passed,
            submitted_at=r.submitted_at,
            graded_at=r.graded_at,
        )
        for r in found.items
    ]
    return found


@dataclass
class TeamMemberRow:
    """One direct report's training in counts, for the manager's dashboard."""

    user_id: int
    name: str
    email: str
    assigned: int = 0
    overdue: int = 0
    completed: int = 0
    # Of `overdue`: requirements overdue or expired (the rest is other training past its due
    # date, such as reading a new SOP version), so the team's overdue list can be matched.
    late_requirements: int = 0
    required_modules: int = 0
    completed_modules: int = 0

    @property
    def progress_percent(self) -> int:
        return percent(self.completed_modules, self.required_modules)


def _count_late_as_told(members: dict[int, TeamMemberRow], on: date) -> None:
    """Count enrollments that serve a requirement as its status says: late requirements once
    each (a program's courses are one requirement), as the team's overdue list shows them;
    the others as assigned. Training that serves no requirement keeps its own due date."""
    found = obligations(list(members), on)
    if not found:
        return
    rows = db.session.execute(
        select(Enrollment.id, Enrollment.status, Enrollment.due_date).where(
            Enrollment.id.in_(list(found))
        )
    )
    late: dict[int, set[int]] = {}
    for enrollment_id, status, due_date in rows:
        t = found[enrollment_id]
        member = members.get(t.user_id)
        if member is None:
            continue
        if is_overdue(status, due_date, on):
            member.overdue -= 1
        else:
            member.assigned -= 1
        if t.late:
            late.setdefault(t.user_id, set()).add(t.requirement_id)
        else:
            member.assigned += 1
    for user_id, requirements in late.items():
        members[user_id].overdue += len(requirements)
        members[user_id].late_requirements = len(requirements)


def team_training(manager_id: int) -> list[TeamMemberRow]:
    """Each active direct report with open/overdue/completed counts and overall progress: 4 queries.

    `assigned` counts work still to do that is not overdue; `overdue` counts requirements
    overdue or expired (the team's overdue list) and other training past its due date; overall
    progress is completed
    required modules over required modules across the person's enrollments (waived excluded).
    """
    on = today()
    late = and_(
        Enrollment.status.in_(TODO_STATUSES),
        Enrollment.due_date.is_not(None),
        Enrollment.due_date < on,
    )
    reports = (User.manager_id == manager_id) & User.active.is_(True)
    counts = db.session.execute(
        select(
            User.id,
            User.name,
            User.email,
            func.count(Enrollment.id).filter(Enrollment.status.in_(TODO_STATUSES), ~late),
            func.count(Enrollment.id).filter(late),
            func.count(Enrollment.id).filter(Enrollment.status == "completed"),
        )
        .outerjoin(Enrollment, Enrollment.user_id == User.id)
        .where(reports)
        .group_by(User.id, User.name, User.email)
        .order_by(User.name, User.id)
    ).all()
    members = {
        r[0]: TeamMemberRow(r[0], r[1], r[2], assigned=r[3], overdue=r[4], completed=r[5])
        for r in counts
    }
    if not members:
        return []
    _count_late_as_told(members, on)
    # A completed enrollment counts as fully done even if a module row is missing.
    finished = Enrollment.status == "completed"
    done = or_(finished, Progress.status == "completed")
    modules = db.session.execute(
        select(
            Enrollment.user_id,
            func.count(Module.id),
            func.count(Module.id).filter(done),
        )
        .join(User, User.id == Enrollment.user_id)
        .join(Module, and_(Module.course_id == Enrollment.course_id, Module.required.is_(True)))
        .outerjoin(
            Progress,
            and_(Progress.enrollment_id == Enrollment.id, Progress.module_id == Module.id),
        )
        .where(reports, Enrollment.status != "waived")
        .group_by(Enrollment.user_id)
    )
    for user_id, required, completed in modules:
        members[user_id].required_modules = int(required or 0)
        members[user_id].completed_modules = int(completed or 0)
    return list(members.values())


@dataclass
class TrainingDashboard:
    """Everything the home page shows: my training, and my team's for managers."""

    mine: UserTraining
    team: list[TeamMemberRow] | None


def training_dashboard(user: User) -> TrainingDashboard:
    """My training, plus each direct report's summary when I am a manager."""
    team = team_training(user.id) if user.has_role("manager") else None
    return TrainingDashboard(mine=user_training(user.id), team=team)


def enrollment_row(enrollment_id: int) -> EnrollmentRow:
    """One enrollment with its progress, shaped like the rows of user_training. Raises NotFound."""
    dv = DOCUMENT_VERSIONS
    found = db.session.execute(
        select(Enrollment, Course.code, Course.title, dv.c.version)
        .join(Course, Course.id == Enrollment.course_id)
        .outerjoin(dv, dv.c.id == Enrollment.document_version_id)
        .where(Enrollment.id == enrollment_id)
    ).first()
    if found is None:
        raise NotFound(f"Enrollment {enrollment_id} does not exist.")
    e, code, title, version = found
    row = _row(e, code, title, _progress_by_enrollment([e.id]), today(), version)
    return told(row, obligations([e.user_id]).get(e.id))
