"""Compliance: curricula, the competency matrix, assignments it causes, waivers, snapshots.

A person's compliance status per requirement is never stored: `app.compliance.statuses`
derives it in SQL from these rows and the training records.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.platform import clock
from app.platform.db import UTCDateTime

CURRICULUM_STATUSES = ("draft", "active", "retired")
DUE_BASES = ("hire", "assignment")
RECERT_MODES = ("relative", "calendar")
WAIVER_STATUSES = ("pending", "approved", "rejected", "withdrawn")
COMPLIANCE_STATUSES = ("compliant", "due_soon", "overdue", "expired", "not_started", "waived")


class Curriculum(db.Model):
    """A program: an ordered set of courses with a validity of its own."""

    __tablename__ = "curricula"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    # NULL: completing the program never expires (unless a requirement says otherwise).
    validity_months: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="active")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, onupdate=clock.now)

    courses: Mapped[list[CurriculumCourse]] = relationship(
        back_populates="curriculum",
        order_by="CurriculumCourse.position",
        cascade="all, delete-orphan",
    )


class CurriculumCourse(db.Model):
    __tablename__ = "curriculum_courses"
    curriculum_id: Mapped[int] = mapped_column(ForeignKey("curricula.id"), primary_key=True)
    course_id: Mapped[int] = mapped_column(
        ForeignKey("training_courses.id"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)

    curriculum: Mapped[Curriculum] = relationship(back_populates="courses")
    course = relationship("Course")


class CompetencyRequirement(db.Model):
    """One row of the competency matrix: who (job role, department or team) must hold what.

    Exactly one scope and exactly one target; the check constraints keep it so.
    """

    __tablename__ = "competency_matrix"
    __table_args__ = (
        CheckConstraint(
            "(CASE WHEN job_role_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN department_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN team_id IS NULL THEN 0 ELSE 1 END) = 1",
            name="one_scope",
        ),
        CheckConstraint(
            "(course_id IS NULL) <> (curriculum_id IS NULL)",
            name="one_target",
        ),
        Index("ix_competency_matrix_job_role_id", "job_role_id"),
        Index("ix_competency_matrix_department_id", "department_id"),
        Index("ix_competency_matrix_team_id", "team_id"),
        Index("ix_competency_matrix_course_id", "course_id"),
        Index("ix_competency_matrix_curriculum_id", "curriculum_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    job_role_id: Mapped[int | None] = mapped_column(ForeignKey("job_roles.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    course_id: Mapped[int | None] = mapped_column(ForeignKey("training_courses.id"))
    curriculum_id: Mapped[int | None] = mapped_column(ForeignKey("curricula.id"))
    due_days: Mapped[int] = mapped_column(Integer, default=30)
    # "hire": due N days after the hire date (or after effective_from for people hired before
    # it); "assignment": N days after the engine assigns it (also what a role change does).
    due_basis: Mapped[str] = mapped_column(String(20), default="assignment")
    # NULL: the course's (or program's) own validity decides; both NULL: never expires.
    recert_months: Mapped[int | None] = mapped_column(Integer)
    recert_mode: Mapped[str] = mapped_column(String(20), default="relative")
    # Calendar mode: the month (1-12) each cycle falls due on its first day.
    recert_anchor_month: Mapped[int | None] = mapped_column(Integer)
    # How long before expiry the renewal is assigned; a renewal done inside it does not
    # shorten the next cycle.
    recert_window_days: Mapped[int] = mapped_column(Integer, default=60)
    grace_days: Mapped[int] = mapped_column(Integer, default=0)
    risk_level: Mapped[str] = mapped_column(String(10), default="medium")
    effective_from: Mapped[date] = mapped_column(Date)
    effective_to: Mapped[date | None] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, onupdate=clock.now)

    job_role = relationship("JobRole")
    department = relationship("Department")
    team = relationship("Team")
    course = relationship("Course")
    curriculum = relationship("Curriculum")
    substitutes: Mapped[list[CompetencySubstitute]] = relationship(
        cascade="all, delete-orphan", order_by="CompetencySubstitute.course_id"
    )

    @property
    def scope_kind(self) -> str:
        if self.job_role_id:
            return "job_role"
        return "department" if self.department_id else "team"

    @property
    def scope_name(self) -> str:
        unit = self.job_role or self.department or self.team
        return unit.name if unit is not None else "?"

    @property
    def target_title(self) -> str:
        target = self.course or self.curriculum
        return target.title if target is not None else "?"

    @property
    def target_code(self) -> str:
        target = self.course or self.curriculum
        return target.code if target is not None else "?"


class CompetencySubstitute(db.Model):
    """A course that meets a course requirement as well as its own course does."""

    __tablename__ = "competency_substitutes"
    requirement_id: Mapped[int] = mapped_column(
        ForeignKey("competency_matrix.id"), primary_key=True
    )
    course_id: Mapped[int] = mapped_column(
        ForeignKey("training_courses.id"), primary_key=True, index=True
    )

    course = relationship("Course")


class TrainingAssignment(db.Model):
    """Why someone must take something: one row per person, requirement and cycle.

    The unique key makes the engine idempotent: the same cause never assigns twice.
    """

    __tablename__ = "training_assignments"
    __table_args__ = (
        UniqueConstraint("user_id", "requirement_id", "cycle"),
        Index("ix_training_assignments_requirement_id", "requirement_id"),
        Index("ix_training_assignments_due_date", "due_date"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requirement_id: Mapped[int] = mapped_column(ForeignKey("competency_matrix.id"))
    cycle: Mapped[int] = mapped_column(Integer, default=1)
    due_date: Mapped[date | None] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(40), default="new requirement")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    user = relationship("User")
    requirement = relationship("CompetencyRequirement")


class Waiver(db.Model):
    """An exemption from one requirement for one person, requested by HR, decided by QA."""

    __tablename__ = "training_waivers"
    __table_args__ = (
        Index("ix_training_waivers_user_requirement", "user_id", "requirement_id"),
        Index("ix_training_waivers_status", "status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requirement_id: Mapped[int] = mapped_column(ForeignKey("competency_matrix.id"))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str | None] = mapped_column(Text)

    user = relationship("User", foreign_keys=[user_id])
    requirement = relationship("CompetencyRequirement")
    requested_by = relationship("User", foreign_keys=[requested_by_id])
    decided_by = relationship("User", foreign_keys=[decided_by_id])


class ComplianceSnapshot(db.Model):
    """Counts taken each night, so the 12-month trend reads history instead of recomputing it.

    department_id/job_role_id NULL is the whole organisation.
    """

    __tablename__ = "compliance_snapshots"
    __table_args__ = (
        UniqueConstraint("taken_on", "department_id", "job_role_id"),
        Index("ix_compliance_snapshots_taken_on", "taken_on"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    taken_on: Mapped[date] = mapped_column(Date)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    job_role_id: Mapped[int | None] = mapped_column(ForeignKey("job_roles.id"))
    applicable: Mapped[int] = mapped_column(Integer, default=0)
    compliant: Mapped[int] = mapped_column(Integer, default=0)


class ComplianceStatus(db.Model):
    """`status_query(as_of)` kept as rows, so organisation-wide reads need not derive 200,000
    statuses again after every change. Derived data: rebuilt in full each day and when a
    requirement, program or course changes, refreshed per person by the audit sealer
    (app/compliance/status_store.py). No foreign keys: it is never the record itself."""

    __tablename__ = "compliance_statuses"
    user_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    requirement_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(20))
    ok: Mapped[int] = mapped_column(Integer)
    due_date: Mapped[date | None] = mapped_column(Date)
    completed_on: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    waiver_id: Mapped[int | None] = mapped_column(Integer)
    cycle: Mapped[int | None] = mapped_column(Integer)
    grace_days: Mapped[int] = mapped_column(Integer)
    window_days: Mapped[int] = mapped_column(Integer)
    department_id: Mapped[int | None] = mapped_column(Integer)
    job_role_id: Mapped[int | None] = mapped_column(Integer)


class ComplianceStatusState(db.Model):
    """One row: the day compliance_statuses was built for (NULL: not usable)."""

    __tablename__ = "compliance_status_state"
    id: Mapped[int] = mapped_column(primary_key=True)
    as_of: Mapped[date | None] = mapped_column(Date)
    built_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
