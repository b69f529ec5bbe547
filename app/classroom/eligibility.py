"""Who may book a session: its restrictions (sites, departments, job roles, prerequisite
courses), the one decision whether a person may book it and why not, and the same decision as
SQL for "sessions I can book".

A session without restrictions is open to everyone. Values of one kind are alternatives (the
Basel or the London site); the kinds add up (the Basel site and the QC department); every
prerequisite course must be completed (an enrollment in it with status "completed"). A
person's site is their department's site. Booking (pages, API, waitlist) asks
`require_eligible`; the session page shows `check_eligibility`'s reasons instead of a Book
button; the session list filters with `eligible_clause`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, String, and_, cast, exists, not_, or_, select

from app.classroom.models import SessionRestriction, TrainingSession
from app.extensions import db
from app.learning.models import Course, Enrollment
from app.people.models import Department, JobRole, User
from app.platform.errors import Conflict

R = SessionRestriction

# The session fields (form, service, API and audit snapshot) and the restriction kind of each.
FIELDS = {
    "eligible_sites": "site",
    "eligible_department_ids": "department",
    "eligible_job_role_ids": "job_role",
    "prerequisite_course_ids": "course",
}
COMPLETED = "completed"


@dataclass
class Restrictions:
    """A session's restrictions by kind (ids as integers, sites as names)."""

    sites: list[str] = field(default_factory=list)
    department_ids: list[int] = field(default_factory=list)
    job_role_ids: list[int] = field(default_factory=list)
    course_ids: list[int] = field(default_factory=list)

    @property
    def any(self) -> bool:
        return bool(self.sites or self.department_ids or self.job_role_ids or self.course_ids)

    def as_fields(self) -> dict[str, list]:
        """The four session fields, sorted (what the audit row and the API show)."""
        return {
            "eligible_sites": sorted(self.sites),
            "eligible_department_ids": sorted(self.department_ids),
            "eligible_job_role_ids": sorted(self.job_role_ids),
            "prerequisite_course_ids": sorted(self.course_ids),
        }

    def rows(self) -> list[tuple[str, str]]:
        """(kind, value) pairs as stored."""
        out = [("site", s) for s in self.sites]
        out += [("department", str(i)) for i in self.department_ids]
        out += [("job_role", str(i)) for i in self.job_role_ids]
        out += [("course", str(i)) for i in self.course_ids]
        return out


def restrictions_of(session: TrainingSession) -> Restrictions:
    """The session's restrictions from its (selectin-loaded) rows."""
    out = Restrictions()
    for row in session.restrictions:
        if row.kind == "site":
            out.sites.append(row.value)
        elif row.kind == "department":
            out.department_ids.append(int(row.value))
        elif row.kind == "job_role":
            out.job_role_ids.append(int(row.value))
        elif row.kind == "course":
            out.course_ids.append(int(row.value))
    return out


def set_restrictions(session: TrainingSession, wanted: Restrictions) -> None:
    """Make the session's rows match `wanted` (the caller audits and commits)."""
    pairs = set(wanted.rows())
    for row in list(session.restrictions):
        if (row.kind, row.value) not in pairs:
            session.restrictions.remove(row)
    have = {(row.kind, row.value) for row in session.restrictions}
    for kind, value in wanted.rows():
        if (kind, value) not in have:
            session.restrictions.append(R(kind=kind, value=value))


# --- the decision ----------------------------------------------------------------------------


@dataclass
class Eligibility:
    """Whether a person may book a session, and the reasons when not."""

    reasons: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.reasons

    def message(self, who: str = "You") -> str:
        return f"{who} cannot book this session: {'; '.join(self.reasons)}."


def _completed_course_ids(user_id: int, course_ids: list[int]) -> set[int]:
    if not course_ids:
        return set()
    return set(
        db.session.scalars(
            select(Enrollment.course_id).where(
                Enrollment.user_id == user_id,
                Enrollment.course_id.in_(course_ids),
                Enrollment.status == COMPLETED,
            )
        )
    )


def _names(model, ids: list[int], attr: str = "name") -> dict[int, str]:
    if not ids:
        return {}
    return {
        i: n
        for i, n in db.session.execute(
            select(model.id, getattr(model, attr)).where(model.id.in_(ids))
        )
    }


def _either(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def describe(r: Restrictions) -> list[str]:
    """Each restriction in words, e.g. "the Basel site", "requires GMP-101", for the page."""
    out = []
    if r.sites:
        out.append(f"the {_either(sorted(r.sites))} site{'s' if len(r.sites) > 1 else ''}")
    if r.department_ids:
        names = _names(Department, r.department_ids)
        out.append(f"the {_either(sorted(names.values()))} department")
    if r.job_role_ids:
        names = _names(JobRole, r.job_role_ids)
        out.append(f"job role {_either(sorted(names.values()))}")
    if r.course_ids:
        codes = _names(Course, r.course_ids, "code")
        out.append("people who completed " + " and ".join(sorted(codes.values())))
    return out


def check_eligibility(session: TrainingSession, user: User) -> Eligibility:
    """May `user` book `session`? The reasons (in words) when not. At most four queries."""
    r = restrictions_of(session)
    if not r.any:
        return Eligibility()
    reasons = []
    department = user.department
    if r.sites:
        site = department.site if department is not None else None
        if site not in r.sites:
            reasons.append(
                f"it is for the {_either(sorted(r.sites))} site" + ("s" if len(r.sites) > 1 else "")
            )
    if r.department_ids and user.department_id not in r.department_ids:
        names = _names(Department, r.department_ids)
        reasons.append(f"it is for the {_either(sorted(names.values()))} department")
    if r.job_role_ids and user.job_role_id not in r.job_role_ids:
        names = _names(JobRole, r.job_role_ids)
        reasons.append(f"it is for job role {_either(sorted(names.values()))}")
    missing = [i for i in r.course_ids if i not in _completed_course_ids(user.id, r.course_ids)]
    if missing:
        codes = _names(Course, missing, "code")
        reasons.append("it requires " + " and ".join(sorted(codes.values())) + " completed first")
    return Eligibility(reasons)


def require_eligible(session: TrainingSession, user: User, actor: User) -> None:
    """Raise Conflict with the reasons when `user` may not book `session`."""
    result = check_eligibility(session, user)
    if not result.ok:
        who = "You" if actor.id == user.id else user.name
        raise Conflict(result.message(who))


def eligible_clause(user: User) -> ColumnElement[bool]:
    """SQL: the training_sessions row is one `user` may book (the same rules as above)."""
    department = user.department
    mine: dict[str, Any] = {
        "site": department.site if department is not None else None,
        "department": str(user.department_id) if user.department_id else None,
        "job_role": str(user.job_role_id) if user.job_role_id else None,
    }
    TS = TrainingSession
    conditions = []
    for kind, value in mine.items():
        of_kind = exists().where(R.session_id == TS.id, R.kind == kind)
        matches = (
            exists().where(R.session_id == TS.id, R.kind == kind, R.value == value)
            if value is not None
            else None
        )
        conditions.append(or_(not_(of_kind), matches) if matches is not None else not_(of_kind))
    done = select(cast(Enrollment.course_id, String)).where(
        Enrollment.user_id == user.id, Enrollment.status == COMPLETED
    )
    missing = exists().where(R.session_id == TS.id, R.kind == "course", R.value.not_in(done))
    conditions.append(not_(missing))
    return and_(*conditions)


def people_clause(session: TrainingSession) -> ColumnElement[bool] | None:
    """SQL on users: the people who may book `session` (None: everyone may)."""
    r = restrictions_of(session)
    if not r.any:
        return None
    conditions = []
    if r.sites:
        conditions.append(
            User.department_id.in_(select(Department.id).where(Department.site.in_(r.sites)))
        )
    if r.department_ids:
        conditions.append(User.department_id.in_(r.department_ids))
    if r.job_role_ids:
        conditions.append(User.job_role_id.in_(r.job_role_ids))
    for course_id in r.course_ids:
        conditions.append(
            exists().where(
                Enrollment.user_id == User.id,
                Enrollment.course_id == course_id,
                Enrollment.status == COMPLETED,
            )
        )
    return and_(*conditions)
