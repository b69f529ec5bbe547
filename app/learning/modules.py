"""Course modules and quiz questions: add, edit, reorder, delete (published courses re-version)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.learning import module_kinds
from app.learning.courses import bump_version_if_published, get_course
from app.learning.models import (
    DEFAULT_ATTEMPT_LIMIT,
    MODULE_KINDS,
    QUESTION_KINDS,
    QUIZ_REVEAL,
    Course,
    Module,
    Progress,
    QuizQuestion,
    Result,
)
from app.people.models import User
from app.platform import clock, files
from app.platform.audit import read_back, record_audit, snapshot
from app.platform.errors import Conflict, Invalid, NotFound

# Module kind -> upload kind for modules that carry a file.
FILE_KINDS = {"video": "video", "document": "document"}
MARKDOWN_KINDS = ("text", "assignment", "scenario", "sop")
QUIZ_SETTINGS = (
    "reveal_answers",
    "attempt_limit",
    "retry_wait_minutes",
    "time_limit_minutes",
    "shuffle",
    "pool_size",
    "pool_per_topic",
)
MODULE_FIELDS = [
    "course_id",
    "position",
    "kind",
    "title",
    "body",
    "file_id",
    "required",
    "estimated_minutes",
    "settings",
]
QUESTION_FIELDS = [
    "module_id",
    "position",
    "kind",
    "prompt",
    "options",
    "answer",
    "points",
    "explanation",
    "topic",
]


def _add(errors: dict[str, list[str]], name: str, message: str) -> None:
    errors.setdefault(name, []).append(message)


def _int(errors, name, value, lo, hi, nullable=False) -> int | None:
    if value in (None, "") and nullable:
        return None
    try:
        if isinstance(value, bool):
            raise ValueError
        number = int(value)
    except (TypeError, ValueError):
        _add(errors, name, "Must be a whole number.")
        return None
    if not lo <= number <= hi:
        _add(errors, name, f"Must be between {lo} and {hi}.")
    return number


def _bool(errors, name, value) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("true", "1", "on", "yes", 1):
        return True
    if value in ("false", "0", "off", "no", 0, "", None):
        return False
    _add(errors, name, "Must be true or false.")
    return False


def _quiz_settings(errors, data: dict, current: dict) -> dict:
    """The quiz policy with safe defaults: answers revealed after passing, 3 attempts (0, as
    an explicit choice, is unlimited), no wait; time limit and pool size blank = none/all."""
    source = dict(current)
    source.update(data.get("settings") or {})
    source.update({k: data[k] for k in QUIZ_SETTINGS if k in data})
    reveal = source.get("reveal_answers") or "after_pass"
    if reveal not in QUIZ_REVEAL:
        _add(errors, "reveal_answers", f"One of: {', '.join(QUIZ_REVEAL)}.")
    limit = source.get("attempt_limit")
    wait = source.get("retry_wait_minutes")
    return {
        "reveal_answers": reveal,
        "attempt_limit": _int(
            errors,
            "attempt_limit",
            DEFAULT_ATTEMPT_LIMIT if limit in (None, "") else limit,
            0,
            100,
        ),
        "retry_wait_minutes": _int(
            errors, "retry_wait_minutes", 0 if wait in (None, "") else wait, 0, 10080
        ),
        "time_limit_minutes": _int(
            errors, "time_limit_minutes", source.get("time_limit_minutes"), 1, 600, True
        ),
        "shuffle": _bool(errors, "shuffle", source.get("shuffle", False)),
        "pool_size": _int(errors, "pool_size", source.get("pool_size"), 1, 500, True),
        "pool_per_topic": _bool(errors, "pool_per_topic", source.get("pool_per_topic", False)),
    }


@dataclass(frozen=True)
class QuizPolicy:
    """A quiz's rules for attempts, read from its settings with the safe defaults."""

    reveal_answers: str = "after_pass"
    attempt_limit: int | None = DEFAULT_ATTEMPT_LIMIT  # None = unlimited
    retry_wait_minutes: int = 0
    time_limit_minutes: int | None = None
    shuffle: bool = False
    pool_size: int | None = None
    pool_per_topic: bool = False


def quiz_policy(module: Module) -> QuizPolicy:
    """Read a quiz module's policy; quizzes saved before the policy existed get the defaults
    (so a missing or blank attempt limit is 3, never unlimited)."""
    s = module.settings or {}

    def number(name: str) -> int | None:
        try:
            return int(s[name]) if s.get(name) not in (None, "") else None
        except (TypeError, ValueError):
            return None

    limit = number("attempt_limit")
    reveal = s.get("reveal_answers")
    return QuizPolicy(
        reveal_answers=reveal if reveal in QUIZ_REVEAL else "after_pass",
        attempt_limit=DEFAULT_ATTEMPT_LIMIT if limit is None else (limit or None),
        retry_wait_minutes=max(0, number("retry_wait_minutes") or 0),
        time_limit_minutes=number("time_limit_minutes") or None,
        shuffle=bool(s.get("shuffle") or s.get("shuffle_questions")),
        pool_size=number("pool_size") or None,
        pool_per_topic=bool(s.get("pool_per_topic")),
    )


def validate_module_data(data: dict, module: Module | None = None) -> dict[str, Any]:
    """Check and normalise module fields for a new (`module` None) or existing module.

    Raises Invalid with per-field errors.
    """
    if not isinstance(data, dict):
        raise Invalid("Expected an object of module fields.")
    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {}

    def present(name: str) -> bool:
        return module is None or name in data

    kind = data.get("kind") if module is None else module.kind
    if module is None and kind not in MODULE_KINDS:
        _add(errors, "kind", f"One of: {', '.join(MODULE_KINDS)}.")
    if module is not None and data.get("kind") not in (None, "", module.kind):
        _add(errors, "kind", "A module's kind cannot change; add a new module instead.")
    out["kind"] = kind
    if present("title"):
        title = str(data.get("title") or "").strip()
        if not title or len(title) > 200:
            _add(errors, "title", "Required, at most 200 characters.")
        out["title"] = title
    if present("body"):
        body = str(data.get("body") or "")
        if len(body) > 100_000:
            _add(errors, "body", "At most 100000 characters.")
        out["body"] = body
    if kind == "text" and not (out.get("body", module.body if module else "") or "").strip():
        _add(errors, "body", "A text module needs some text.")
    if present("required"):
        out["required"] = _bool(errors, "required", data.get("required", True))
    if present("estimated_minutes"):
        out["estimated_minutes"] = _int(
            errors, "estimated_minutes", data.get("estimated_minutes", 10), 1, 1000
        )
    if kind == "quiz":
        out["settings"] = _quiz_settings(errors, data, module.settings if module else {})
    if errors:
        raise Invalid("Some module fields are not valid.", errors)
    return out


def _check_file(kind: str, upload, module: Module | None, errors: dict):
    has_upload = upload is not None and bool(getattr(upload, "filename", None))
    if kind not in FILE_KINDS:
        if has_upload:
            _add(errors, "file", "Only video and document modules take a file.")
        return None
    if not has_upload:
        if module is None or module.file_id is None:
            _add(errors, "file", f"A {kind} module needs a file.")
        return None
    try:
        return files.check_upload(upload, FILE_KINDS[kind])
    except Invalid as exc:
        for message in exc.errors.get("file", [exc.detail]):
            _add(errors, "file", message)
        return None


def _module_snapshot(module: Module) -> dict:
    out = snapshot(module, MODULE_FIELDS)
    out["course_version"] = module.course.version
    return out


def _touch(course: Course) -> None:
    bump_version_if_published(course)
    course.updated_at = clock.now()


def get_module(module_id: int) -> Module:
    """Return a module or raise NotFound."""
    module = db.session.get(Module, module_id)
    if module is None:
        raise NotFound(f"Module {module_id} does not exist.")
    return module


def pass_mark(module: Module) -> int:
    """The percent a graded module needs: its own mark, else the course passing score."""
    mark = (module.settings or {}).get("pass_mark")
    return int(mark) if mark is not None else module.course.passing_score


def enrollment_module(enrollment, module_id: int, kind: str) -> Module:
    """Return a module of the enrollment's course of the given kind. Raises NotFound, Conflict."""
    module = db.session.get(Module, module_id)
    if module is None or module.course_id != enrollment.course_id:
        raise NotFound("This module is not part of the course.")
    if module.kind != kind:
        raise Conflict(f"This module is not a {kind}.")
    return module


def list_modules(course_id: int) -> list[Module]:
    """Return a course's modules in order, with their files loaded."""
    return list(
        db.session.scalars(
            select(Module)
            .where(Module.course_id == course_id)
            .options(selectinload(Module.file))
            .order_by(Module.position)
        )
    )


def module_counts(course_ids: list[int]) -> dict[int, int]:
    """Count modules per course in one grouped query."""
    if not course_ids:
        return {}
    rows = db.session.execute(
        select(Module.course_id, func.count(Module.id))
        .where(Module.course_id.in_(course_ids))
        .group_by(Module.course_id)
    ).all()
    return {course_id: count for course_id, count in rows}


def _validate_with_file(data: dict, module: Module | None, upload) -> tuple[dict, Any]:
    errors: dict[str, list[str]] = {}
    fields: dict[str, Any] = {}
    try:
        fields = validate_module_data(data, module)
    except Invalid as exc:
        if not exc.errors:
            raise
        errors.update(exc.errors)
    kind = module.kind if module is not None else data.get("kind")
    checked = _check_file(kind, upload, module, errors) if kind in MODULE_KINDS else None
    if errors:
        raise Invalid("Some module fields are not valid.", errors)
    return fields, checked


def _check_finishable(course: Course, kind: str, required: bool) -> None:
    """A published course must stay finishable: no new required module learners cannot complete."""
    if course.status == "published" and required and not module_kinds.is_completable(kind):
        raise Invalid(
            "Learners could not finish this published course.",
            {
                "required": [
                    f"Learners cannot complete a {kind} module in the player yet, so in a "
                    "published course it can only be optional."
                ]
            },
        )


def add_module(course_id: int, data: dict, actor: User | None = None, upload=None) -> Module:
    """Append a module to a course, storing its uploaded file.

    Raises NotFound, Invalid (including a required module of a kind learners cannot complete
    in a published course).
    """
    course = get_course(course_id)
    fields, checked = _validate_with_file(data, None, upload)
    _check_finishable(course, fields["kind"], fields.get("required", True))
    position = (
        db.session.scalar(select(func.max(Module.position)).where(Module.course_id == course.id))
        or 0
    ) + 1
    stored = files.save_checked_upload(checked, actor) if checked is not None else None
    settings = fields.pop("settings", {})
    module = Module(course=course, position=position, settings=settings, file=stored, **fields)
    db.session.add(module)
    _touch(course)
    db.session.flush()
    record_audit(
        "create", "module", module.id, after=_module_snapshot(read_back(module)), actor=actor
    )
    db.session.commit()
    return module


def update_module(module_id: int, data: dict, actor: User | None = None, upload=None) -> Module:
    """Edit a module; a new upload replaces its file.

    Raises NotFound, Invalid (including making a module of a kind learners cannot complete
    required in a published course).
    """
    module = get_module(module_id)
    fields, checked = _validate_with_file(data, module, upload)
    if fields.get("required") and not module.required:
        _check_finishable(module.course, module.kind, True)
    fields.pop("kind", None)
    before = _module_snapshot(module)
    changed = {k: v for k, v in fields.items() if getattr(module, k) != v}
    for key, value in changed.items():
        setattr(module, key, value)
    new_file_id = files.attach_checked_upload(module, "file", checked, actor)
    if new_file_id is not None:
        changed["file_id"] = new_file_id
    if not changed:
        return module
    _touch(module.course)
    db.session.flush()
    record_audit(
        "update",
        "module",
        module.id,
        before=before,
        after=_module_snapshot(read_back(module)),
        actor=actor,
    )
    db.session.commit()
    return module


def _close_gap(course_id: int, position: int) -> None:
    """Shift later modules up by one, via negative positions so UNIQUE never trips."""
    later = (Module.course_id == course_id, Module.position > position)
    db.session.execute(
        update(Module).where(*later).values(position=-(Module.position - 1)),
        execution_options={"synchronize_session": False},
    )
    db.session.execute(
        update(Module)
        .where(Module.course_id == course_id, Module.position < 0)
        .values(position=-Module.position),
        execution_options={"synchronize_session": False},
    )


def delete_module(module_id: int, actor: User | None = None) -> Course:
    """Delete a module and close the gap in the order; return its course.

    Raises NotFound, Conflict (learners have progress or results on it: training records are
    never deleted, so such a module stays; make it optional or retire the course instead).
    """
    module = get_module(module_id)
    course = module.course
    used = db.session.scalar(
        select(func.count()).select_from(Progress).where(Progress.module_id == module.id)
    ) or db.session.scalar(
        select(func.count()).select_from(Result).where(Result.module_id == module.id)
    )
    if used:
        raise Conflict(
            "Learners have progress or results on this module, and training records are never "
            "deleted. Make the module optional, or retire the course and publish a new one."
        )
    before = _module_snapshot(module)
    position = module.position
    record_audit("delete", "module", module.id, before=before, actor=actor)
    db.session.delete(module)
    db.session.flush()
    db.session.expire(course, ["modules"])
    _close_gap(course.id, position)
    _touch(course)
    db.session.commit()
    return course


def move_module(module_id: int, direction: str, actor: User | None = None) -> Module:
    """Swap a module with its neighbour ("up" or "down"); at either end nothing changes.

    Raises NotFound, Invalid (unknown direction).
    """
    if direction not in ("up", "down"):
        raise Invalid("Unknown direction.", {"direction": ["Either up or down."]})
    module = get_module(module_id)
    q = select(Module).where(Module.course_id == module.course_id)
    if direction == "up":
        q = q.where(Module.position < module.position).order_by(Module.position.desc())
    else:
        q = q.where(Module.position > module.position).order_by(Module.position.asc())
    neighbour = db.session.scalars(q.limit(1)).first()
    if neighbour is None:
        return module
    mine, theirs = module.position, neighbour.position
    # Park this module on a negative slot so the swap never breaks UNIQUE(course_id, position).
    module.position = -mine
    db.session.flush()
    neighbour.position = mine
    db.session.flush()
    module.position = theirs
    _touch(module.course)
    db.session.flush()
    record_audit(
        "update",
        "module",
        module.id,
        before={"position": mine},
        after={"position": theirs, "swapped_with": neighbour.id},
        reason=f"moved {direction}",
        actor=actor,
    )
    db.session.commit()
    return module


# --- quiz questions -------------------------------------------------------------------------


def _choice_indexes(errors, raw, count: int, single: bool) -> list[int]:
    values = raw if isinstance(raw, list) else [raw]
    out: list[int] = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            _add(errors, "answer", "Correct answers must be option numbers.")
            return []
        try:
            index = int(value)
        except ValueError:
            _add(errors, "answer", "Correct answers must be option numbers.")
            return []
        if not 0 <= index < count:
            _add(errors, "answer", f"Option {index + 1} does not exist.")
            return []
        if index not in out:
            out.append(index)
    if single and len(out) != 1:
        _add(errors, "answer", "Mark exactly one option as correct.")
    if not single and not out:
        _add(errors, "answer", "Mark at least one option as correct.")
    return sorted(out)


def _number(errors, name, value) -> float | None:
    try:
        if isinstance(value, bool) or value in (None, ""):
            raise ValueError
        number = float(value)
    except (TypeError, ValueError):
        _add(errors, name, "Must be a number.")
        return None
    if number != number or number in (float("inf"), float("-inf")):
        _add(errors, name, "Must be a finite number.")
        return None
    return number


def _answer(errors, kind: str, options: list[str], answer: dict) -> tuple[list[str], dict]:
    if kind in ("single", "multiple"):
        if not 2 <= len(options) <= 20:
            _add(errors, "options", "Give between 2 and 20 options.")
            return options, {}
        single = kind == "single"
        correct = _choice_indexes(errors, answer.get("correct"), len(options), single)
        return options, {"correct": correct}
    if kind == "true_false":
        correct = answer.get("correct")
        if isinstance(correct, list) and len(correct) == 1:
            correct = correct[0]
        if correct not in (True, False, "true", "false"):
            _add(errors, "answer", "Say whether the statement is true or false.")
            return ["True", "False"], {}
        return ["True", "False"], {"correct": correct in (True, "true")}
    if kind == "numeric":
        value = _number(errors, "answer", answer.get("value"))
        tolerance = _number(errors, "tolerance", answer.get("tolerance", 0) or 0)
        if tolerance is not None and tolerance < 0:
            _add(errors, "tolerance", "Must not be negative.")
        return [], {"value": value, "tolerance": tolerance}
    accepted = answer.get("accepted") or []
    if not isinstance(accepted, list):
        accepted = [accepted]
    accepted = [str(a).strip()[:200] for a in accepted if str(a).strip()]
    if not accepted:
        _add(errors, "answer", "Give at least one accepted answer.")
    return [], {"accepted": accepted, "case_sensitive": bool(answer.get("case_sensitive", False))}


def validate_question_data(data: dict) -> dict[str, Any]:
    """Check and normalise a quiz question by kind. Raises Invalid with per-field errors."""
    if not isinstance(data, dict):
        raise Invalid("Expected an object of question fields.")
    errors: dict[str, list[str]] = {}
    kind = data.get("kind")
    if kind not in QUESTION_KINDS:
        _add(errors, "kind", f"One of: {', '.join(QUESTION_KINDS)}.")
    prompt = str(data.get("prompt") or "").strip()
    if not prompt or len(prompt) > 5000:
        _add(errors, "prompt", "Required, at most 5000 characters.")
    raw_options = data.get("options") or []
    if not isinstance(raw_options, list):
        _add(errors, "options", "Must be a list of options.")
        raw_options = []
    options = [str(o).strip()[:500] for o in raw_options if str(o).strip()]
    answer = data.get("answer") or {}
    if not isinstance(answer, dict):
        _add(errors, "answer", "Must be an object.")
        answer = {}
    if kind in QUESTION_KINDS:
        options, answer = _answer(errors, kind, options, answer)
    points = _int(errors, "points", data.get("points", 1), 1, 100)
    explanation = str(data.get("explanation") or "")
    if len(explanation) > 5000:
        _add(errors, "explanation", "At most 5000 characters.")
    topic = str(data.get("topic") or "").strip() or None
    if topic and len(topic) > 80:
        _add(errors, "topic", "At most 80 characters.")
    if errors:
        raise Invalid("Some question fields are not valid.", errors)
    return {
        "kind": kind,
        "prompt": prompt,
        "options": options,
        "answer": answer,
        "points": points,
        "explanation": explanation,
        "topic": topic,
    }


def get_question(question_id: int) -> QuizQuestion:
    """Return a quiz question or raise NotFound."""
    question = db.session.get(QuizQuestion, question_id)
    if question is None:
        raise NotFound(f"Question {question_id} does not exist.")
    return question


def add_question(module_id: int, data: dict, actor: User | None = None) -> QuizQuestion:
    """Append a question to a quiz module. Raises NotFound, Conflict (not a quiz), Invalid."""
    module = get_module(module_id)
    if module.kind != "quiz":
        raise Conflict("Questions belong to quiz modules only.")
    fields = validate_question_data(data)
    position = (
        db.session.scalar(
            select(func.max(QuizQuestion.position)).where(QuizQuestion.module_id == module.id)
        )
        or 0
    ) + 1
    question = QuizQuestion(module_id=module.id, position=position, **fields)
    db.session.add(question)
    _touch(module.course)
    db.session.flush()
    after = snapshot(read_back(question), QUESTION_FIELDS)
    after["course_version"] = module.course.version
    record_audit("create", "quiz_question", question.id, after=after, actor=actor)
    db.session.commit()
    return question


def update_question(question_id: int, data: dict, actor: User | None = None) -> QuizQuestion:
    """Edit a quiz question (its type stays); a change bumps its version, so attempts keep
    the version they were shown. Raises NotFound, Invalid."""
    question = get_question(question_id)
    if data.get("kind") not in (None, "", question.kind):
        raise Invalid(
            "A question's type cannot change.",
            {"kind": ["A question's type cannot change; add a new question instead."]},
        )
    fields = validate_question_data({**data, "kind": question.kind})
    before = snapshot(question, QUESTION_FIELDS)
    changed = {k: v for k, v in fields.items() if getattr(question, k) != v}
    if not changed:
        return question
    for key, value in changed.items():
        setattr(question, key, value)
    question.version = (question.version or 1) + 1
    _touch(question.module.course)
    db.session.flush()
    after = snapshot(read_back(question), QUESTION_FIELDS)
    after["version"] = question.version
    after["course_version"] = question.module.course.version
    record_audit("update", "quiz_question", question.id, before=before, after=after, actor=actor)
    db.session.commit()
    return question


def delete_question(question_id: int, actor: User | None = None) -> Module:
    """Delete a quiz question; return its module. Raises NotFound."""
    question = get_question(question_id)
    module = question.module
    record_audit(
        "delete",
        "quiz_question",
        question.id,
        before=snapshot(question, QUESTION_FIELDS),
        actor=actor,
    )
    db.session.delete(question)
    db.session.flush()
    db.session.expire(module, ["questions"])
    _touch(module.course)
    db.session.commit()
    return module
