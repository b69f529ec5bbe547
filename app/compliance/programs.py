"""Programs (curricula): ordered sets of courses with a validity of their own; audited CRUD."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from app.compliance.engine import request_engine_run
from app.compliance.models import (
    CURRICULUM_STATUSES,
    CompetencyRequirement,
    Curriculum,
    CurriculumCourse,
)
from app.extensions import db
from app.learning.models import Course
from app.people.models import User
from app.platform.audit import read_back, record_audit, snapshot
from app.platform.errors import Conflict, Invalid, NotFound
from app.platform.inputs import to_choice, to_id_list, to_int, to_text
from app.platform.pagination import Page, clamp, paginate

PROGRAM_FIELDS = ["code", "title", "description", "validity_months", "status"]
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")
MOVES = ("up", "down")


def get_program(program_id: int) -> Curriculum:
    """Return a program with its ordered courses. Raises NotFound."""
    program = db.session.scalar(
        select(Curriculum)
        .where(Curriculum.id == program_id)
        .options(selectinload(Curriculum.courses).joinedload(CurriculumCourse.course))
        .execution_options(populate_existing=True)
    )
    if program is None:
        raise NotFound(f"Program {program_id} does not exist.")
    return program


def program_snapshot(program: Curriculum) -> dict[str, Any]:
    """The audited state of a program, its ordered course ids included."""
    out = snapshot(program, PROGRAM_FIELDS)
    out["course_ids"] = course_ids(program)
    return out


def course_ids(program: Curriculum) -> list[int]:
    return [cc.course_id for cc in sorted(program.courses, key=lambda cc: cc.position)]


def validate_program(data: dict, program: Curriculum | None = None) -> dict[str, Any]:
    """Return the clean fields sent (all of them for a new program). Raises Invalid."""
    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {}
    new = program is None

    if new or "code" in data:
        code = to_text(errors, "code", data.get("code"), 40, required=True)
        if code and "code" not in errors:
            if not _CODE.match(code):
                errors["code"] = ["Letters, digits, dot, dash or underscore; at most 40."]
            else:
                q = select(Curriculum.id).where(func.lower(Curriculum.code) == code.lower())
                if program is not None:
                    q = q.where(Curriculum.id != program.id)
                if db.session.scalar(q) is not None:
                    errors["code"] = ["Another program has this code."]
        out["code"] = code
    if new or "title" in data:
        out["title"] = to_text(errors, "title", data.get("title"), 200, required=True)
    if new or "description" in data:
        out["description"] = to_text(errors, "description", data.get("description"), 5000) or ""
    if new or "validity_months" in data:
        out["validity_months"] = to_int(
            errors, "validity_months", data.get("validity_months"), 1, 240
        )
    if new or "status" in data:
        status = data.get("status") if not new or data.get("status") else "active"
        out["status"] = to_choice(errors, "status", status, CURRICULUM_STATUSES)
    if "course_ids" in data:
        out["course_ids"] = _valid_course_ids(errors, data.get("course_ids"))
    if errors:
        raise Invalid("Some program fields are not valid.", errors)
    return out


def _valid_course_ids(errors: dict, value: Any) -> list[int]:
    ids = to_id_list(errors, "course_ids", value)
    if ids:
        found = set(db.session.scalars(select(Course.id).where(Course.id.in_(ids))))
        missing = [str(i) for i in ids if i not in found]
        if missing:
            errors["course_ids"] = [f"No such course: {', '.join(missing)}."]
    return ids


def _place_courses(program: Curriculum, ids: list[int]) -> None:
    """Make the program's courses exactly `ids`, in that order (positions 1..n)."""
    rows = {cc.course_id: cc for cc in program.courses}
    for course_id, cc in rows.items():
        if course_id not in ids:
            program.courses.remove(cc)
    for position, course_id in enumerate(ids, start=1):
        if course_id in rows:
            rows[course_id].position = position
        else:
            program.courses.append(CurriculumCourse(course_id=course_id, position=position))


def _requirements_of(program_id: int) -> list[int]:
    return list(
        db.session.scalars(
            select(CompetencyRequirement.id).where(
                CompetencyRequirement.curriculum_id == program_id
            )
        )
    )


def _after_course_change(program_id: int, before: list[int], after: list[int]) -> None:
    """A course added to a program in force means people need it: ask for an engine run."""
    if set(after) - set(before):
        requirement_ids = _requirements_of(program_id)
        if requirement_ids:
            request_engine_run("program changed", requirement_ids=requirement_ids)


def create_program(data: dict, actor: User | None = None) -> Curriculum:
    """Create a program (optionally with its ordered `course_ids`), audited. Raises Invalid."""
    clean = validate_program(data)
    ids = clean.pop("course_ids", [])
    program = Curriculum(**clean)
    db.session.add(program)
    db.session.flush()
    _place_courses(program, ids)
    db.session.flush()
    record_audit(
        "create", "program", program.id, after=program_snapshot(read_back(program)), actor=actor
    )
    db.session.commit()
    return get_program(program.id)


def update_program(program_id: int, data: dict, actor: User | None = None) -> Curriculum:
    """Change the fields sent (and the courses when `course_ids` is sent), audited; an
    unchanged save writes nothing. Raises NotFound, Invalid."""
    program = get_program(program_id)
    clean = validate_program(data, program)
    before = program_snapshot(program)
    ids = clean.pop("course_ids", None)
    for key, value in clean.items():
        if getattr(program, key) != value:
            setattr(program, key, value)
    if ids is not None:
        _place_courses(program, ids)
    db.session.flush()
    after = program_snapshot(read_back(program))
    if after == before:
        db.session.rollback()
        return get_program(program_id)
    record_audit("update", "program", program.id, before=before, after=after, actor=actor)
    db.session.commit()
    _after_course_change(program_id, before["course_ids"], after["course_ids"])
    return get_program(program_id)


def set_program_courses(program_id: int, ids: list[int], actor: User | None = None) -> Curriculum:
    """Make the program's courses exactly `ids`, in that order. Raises NotFound, Invalid."""
    return update_program(program_id, {"course_ids": ids}, actor)


def add_program_course(program_id: int, course_id: Any, actor: User | None = None) -> Curriculum:
    """Append a course to the program. Raises NotFound, Invalid."""
    program = get_program(program_id)
    errors: dict[str, list[str]] = {}
    ids = _valid_course_ids(errors, [course_id] if course_id not in (None, "") else [])
    if not ids and not errors:
        errors["course_ids"] = ["Pick a course."]
    if errors:
        raise Invalid("Pick a course.", errors)
    current = course_ids(program)
    if ids[0] in current:
        raise Invalid("Already there.", {"course_ids": ["This course is already in the program."]})
    return set_program_courses(program_id, [*current, ids[0]], actor)


def remove_program_course(program_id: int, course_id: int, actor: User | None = None) -> Curriculum:
    """Take a course out of the program. Raises NotFound."""
    current = course_ids(get_program(program_id))
    if course_id not in current:
        raise NotFound("This course is not in the program.")
    return set_program_courses(program_id, [c for c in current if c != course_id], actor)


def move_program_course(
    program_id: int, course_id: int, direction: str, actor: User | None = None
) -> Curriculum:
    """Move a course one place up or down. Raises NotFound, Invalid."""
    if direction not in MOVES:
        raise Invalid("Bad direction.", {"direction": ["up or down"]})
    current = course_ids(get_program(program_id))
    if course_id not in current:
        raise NotFound("This course is not in the program.")
    i = current.index(course_id)
    j = i - 1 if direction == "up" else i + 1
    if 0 <= j < len(current):
        current[i], current[j] = current[j], current[i]
    return set_program_courses(program_id, current, actor)


def delete_program(program_id: int, actor: User | None = None) -> None:
    """Delete a program no requirement uses. Raises NotFound, Conflict."""
    program = get_program(program_id)
    used = len(_requirements_of(program.id))
    if used:
        raise Conflict(
            f"Program {program.code} is required by {used} competency matrix row(s); "
            "retire it, or end or delete those requirements first."
        )
    record_audit("delete", "program", program.id, before=program_snapshot(program), actor=actor)
    db.session.delete(program)
    db.session.commit()


@dataclass
class ProgramQuery:
    q: str = ""
    status: str = ""
    page: int = 1
    per_page: int = 20

    @classmethod
    def from_args(cls, args) -> ProgramQuery:
        page, per_page = clamp(args.get("page"), args.get("per_page"))
        status = (args.get("status") or "").strip()
        return cls(
            q=(args.get("q") or "").strip()[:100],
            status=status if status in CURRICULUM_STATUSES else "",
            page=page,
            per_page=per_page,
        )


def list_programs(query: ProgramQuery) -> Page:
    """A page of programs by title with their ordered courses loaded (three queries)."""
    stmt = (
        select(Curriculum)
        .options(selectinload(Curriculum.courses).joinedload(CurriculumCourse.course))
        .order_by(Curriculum.title, Curriculum.id)
    )
    if query.q:
        like = f"%{query.q}%"
        stmt = stmt.where(or_(Curriculum.title.ilike(like), Curriculum.code.ilike(like)))
    if query.status:
        stmt = stmt.where(Curriculum.status == query.status)
    return paginate(stmt, query.page, query.per_page)


def course_choices(exclude: list[int] | None = None) -> list[tuple[int, str]]:
    """(id, label) of courses that are not retired, for the add-a-course menu."""
    stmt = (
        select(Course.id, Course.code, Course.title)
        .where(Course.status != "retired")
        .order_by(Course.title)
    )
    if exclude:
        stmt = stmt.where(Course.id.not_in(exclude))
    return [(r.id, f"{r.title} ({r.code})") for r in db.session.execute(stmt)]
