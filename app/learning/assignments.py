"""Assignments: learners submit text and/or a PDF; trainers grade them against a rubric."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload

from app.audit.signatures import check_signer, sign, signed_content
from app.extensions import db
from app.learning import enrollments
from app.learning.models import Module, Result
from app.learning.modules import enrollment_module, pass_mark
from app.people.models import User
from app.platform import clock, files
from app.platform.audit import record_audit
from app.platform.errors import Conflict, Forbidden, Invalid, NotFound
from app.platform.inputs import as_id
from app.platform.pagination import Page, paginate

MAX_TEXT = 50_000
DEFAULT_RUBRIC = [{"criterion": "Overall quality", "points": 10}]


@dataclass
class Criterion:
    criterion: str
    points: float


def rubric(module: Module) -> list[Criterion]:
    """The module's rubric (criterion and points each), or a single overall criterion."""
    rows = (module.settings or {}).get("rubric") or DEFAULT_RUBRIC
    out = []
    for row in rows:
        try:
            points = float(row.get("points", 0))
        except (TypeError, ValueError, AttributeError):
            continue
        if points > 0:
            out.append(Criterion(str(row.get("criterion") or "Criterion"), points))
    return out or [Criterion(**DEFAULT_RUBRIC[0])]


def submissions(enrollment_id: int, module_id: int) -> list[Result]:
    """The learner's submissions to one assignment, oldest first."""
    return list(
        db.session.scalars(
            select(Result)
            .where(
                Result.enrollment_id == enrollment_id,
                Result.module_id == module_id,
                Result.kind == "assignment",
            )
            .options(joinedload(Result.submission_file), joinedload(Result.graded_by))
            .order_by(Result.attempt_no)
        )
    )


def submit_assignment(
    enrollment_id: int, module_id: int, user: User, text: str | None, upload=None
) -> Result:
    """Hand in (or replace, until it is graded) the learner's text and/or PDF.

    After a failing grade a new submission starts a new attempt; after a pass nothing more.
    Raises NotFound, Forbidden (not the learner), Invalid (empty, too long, bad or oversized
    file), Conflict (already passed, enrollment closed).
    """
    enrollment = enrollments.get_enrollment(enrollment_id)
    if enrollment.user_id != user.id:
        raise Forbidden("Only the enrolled learner may hand in this assignment.")
    module = enrollment_module(enrollment, module_id, "assignment")
    if enrollment.status in ("waived", "expired"):
        raise Conflict(f"This enrollment is {enrollment.status}; submissions are closed.")
    text = (text or "").strip()
    has_file = upload is not None and bool(getattr(upload, "filename", None))
    errors: dict[str, list[str]] = {}
    if len(text) > MAX_TEXT:
        errors["text"] = [f"At most {MAX_TEXT} characters."]
    if not text and not has_file:
        errors["text"] = ["Write an answer or attach a PDF."]
    checked = None
    if has_file:
        try:
            checked = files.check_upload(upload, "document")
        except Invalid as exc:
            errors["file"] = exc.errors.get("file", [exc.detail])
    if errors:
        raise Invalid("The submission is not complete.", errors)

    history = submissions(enrollment.id, module.id)
    latest = history[-1] if history else None
    if latest is not None and latest.status == "graded" and latest.passed:
        raise Conflict("This assignment has already been graded as passed.")
    stored = files.save_checked_upload(checked, user) if checked is not None else None
    now = clock.now()
    if latest is not None and latest.status == "submitted":
        result, action = latest, "update"
        result.submission_text = text or None
        if stored is not None:
            result.submission_file = stored
        result.submitted_at = now
    else:
        result = Result(
            enrollment_id=enrollment.id,
            module_id=module.id,
            user_id=user.id,
            kind="assignment",
            attempt_no=(latest.attempt_no + 1) if latest else 1,
            status="submitted",
            submission_text=text or None,
            submission_file=stored,
            started_at=now,
            submitted_at=now,
        )
        db.session.add(result)
        action = "create"
    enrollments.mark_started(enrollment, user, now)
    db.session.flush()
    record_audit(
        action,
        "result",
        result.id,
        after={
            "kind": "assignment",
            "module_id": module.id,
            "attempt_no": result.attempt_no,
            "status": "submitted",
            "submitted_at": result.submitted_at.isoformat(),
            "submission_file_id": result.submission_file_id,
            "text_length": len(text),
        },
        actor=user,
    )
    db.session.commit()
    return result


# --- trainer side ------------------------------------------------------------------------


def grading_queue(page: int, per_page: int) -> Page:
    """Submitted, ungraded assignments, oldest submission first."""
    query = (
        select(Result)
        .where(Result.kind == "assignment", Result.status == "submitted")
        .options(
            joinedload(Result.user),
            joinedload(Result.module).joinedload(Module.course),
            joinedload(Result.submission_file),
        )
        .order_by(Result.submitted_at.asc(), Result.id.asc())
    )
    return paginate(query, page, per_page)


def queue_size() -> int:
    """How many assignments wait for a grade."""
    return db.session.scalar(
        select(func.count())
        .select_from(Result)
        .where(Result.kind == "assignment", Result.status == "submitted")
    )


def get_submission(result_id: int) -> Result:
    """Return an assignment submission for a trainer. Raises NotFound."""
    result = db.session.scalar(
        select(Result)
        .where(Result.id == result_id, Result.kind == "assignment")
        .options(
            joinedload(Result.user),
            joinedload(Result.module).joinedload(Module.course),
            joinedload(Result.submission_file),
            joinedload(Result.graded_by),
        )
    )
    if result is None:
        raise NotFound(f"Submission {result_id} does not exist.")
    return result


def _score(value: Any, limit: float, key: str, errors: dict) -> float:
    try:
        if isinstance(value, bool) or value in (None, ""):
            raise ValueError
        number = float(str(value).strip().replace(",", "."))
    except (TypeError, ValueError):
        errors[key] = ["Give a score."]
        return 0.0
    if not math.isfinite(number) or not 0 <= number <= limit:
        errors[key] = [f"Between 0 and {limit:g}."]
        return 0.0
    return number


GRADE_SIGNED = ["id", "enrollment_id", "user_id", "score", "max_score", "passed", "comment"]


@signed_content("result")
def _signed(result_id: str) -> dict | None:
    result = db.session.get(Result, as_id(result_id)) if as_id(result_id) else None
    if result is None or result.status != "graded":
        return None
    return {**{k: getattr(result, k) for k in GRADE_SIGNED}, "rubric": result.rubric_scores}


def grade_assignment(
    result_id: int,
    scores: dict[str, Any],
    comment: str | None,
    actor: User,
    password: str | None = None,
) -> Result:
    """Grade a submission against the rubric, signed by the trainer; a pass completes the
    module.

    `scores` maps criterion index ("0", "1", ...) to points. Raises NotFound, Invalid (missing or
    out-of-range scores, comment too long, signature password), Conflict (already graded, own
    submission), RateLimited (must wait).
    """
    result = get_submission(result_id)
    if result.status != "submitted":
        raise Conflict("This submission has already been graded.")
    if result.user_id == actor.id:
        raise Conflict("You cannot grade your own submission.")
    criteria = rubric(result.module)
    errors: dict[str, list[str]] = {}
    given = {
        str(i): _score(scores.get(str(i)), c.points, f"score-{i}", errors)
        for i, c in enumerate(criteria)
    }
    comment = (comment or "").strip()
    if len(comment) > 10_000:
        errors["comment"] = ["At most 10000 characters."]
    if errors:
        raise Invalid("Some scores are not valid.", errors)
    check_signer(actor, password)
    score = round(sum(given.values()), 2)
    max_score = sum(c.points for c in criteria)
    percent = score * 100.0 / max_score
    mark = pass_mark(result.module)
    passed = percent >= mark
    rubric_scores = {
        str(i): {"criterion": c.criterion, "points": c.points, "score": given[str(i)]}
        for i, c in enumerate(criteria)
    }
    now = clock.now()
    claimed = db.session.execute(
        update(Result)
        .where(Result.id == result.id, Result.status == "submitted")
        .values(
            status="graded",
            score=score,
            max_score=max_score,
            passed=passed,
            rubric_scores=rubric_scores,
            comment=comment or None,
            graded_by_id=actor.id,
            graded_at=now,
            feedback={"percent": round(percent, 1), "pass_mark": mark},
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        db.session.rollback()
        raise Conflict("Someone else graded this submission a moment ago.")
    if passed:
        enrollments.complete_module(result.enrollment_id, result.module_id, actor=actor)
    record_audit(
        "update",
        "result",
        result.id,
        before={"status": "submitted"},
        after={"status": "graded", "score": score, "max_score": max_score, "passed": passed},
        reason="graded by trainer",
        actor=actor,
    )
    db.session.expire(result)
    sign(
        signer=actor,
        password=None,
        checked=True,
        meaning="trainer_signoff",
        entity="result",
        entity_id=result.id,
        statement=(
            f"I grade {result.user.name}'s submission for {result.module.title}: "
            f"{score:g} of {max_score:g} points, {'pass' if passed else 'not passed'}."
        ),
    )
    db.session.commit()
    if passed:
        enrollments.evaluate_completion(result.enrollment_id, actor=actor)
    return result
