"""CoursePlayer: one page per module with a panel per kind, quiz attempts, assignment grading."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from app.audit.signatures import manifestations
from app.learning import assignments, module_kinds, player, quizzes
from app.learning.web.courses.forms import KIND_LABELS
from app.learning.web.player.forms import AssignmentForm, GradeForm, SopForm
from app.people.permissions import LOGIN, access
from app.platform import files
from app.platform.errors import Conflict, Invalid, RateLimited
from app.platform.pagination import clamp
from app.platform.web.errors import problem
from app.platform.web.htmx import is_htmx, render

bp = Blueprint("player", __name__)


@bp.context_processor
def _helpers():
    return {
        "media_url": player.media_url,
        "download_url": files.download_url,
        "human_size": files.human_size,
        "kind_labels": KIND_LABELS,
        "question_views": quizzes.question_views,
        "feedback_rows": quizzes.feedback_rows,
        "is_overdue": quizzes.is_overdue,
        "quiz_time": lambda moment: quizzes.format_local(moment, current_user),
    }


def _me():
    return current_user._get_current_object()


def _module_url(enrollment_id: int, module_id: int, **kwargs) -> str:
    return url_for(".module", enrollment_id=enrollment_id, module_id=module_id, **kwargs)


def _context(enrollment_id: int, module_id: int, **extra) -> dict:
    """Everything the player page needs for one module (panel data by kind)."""
    view = player.player_view(enrollment_id, module_id, _me())
    ctx: dict = {"view": view}
    if view.module.kind == "quiz":
        state = quizzes.quiz_state(enrollment_id, view.module)
        ctx["quiz"] = state
        ctx["attempt"] = state.open_attempt or state.latest
    elif view.module.kind == "assignment":
        ctx["submissions"] = assignments.submissions(enrollment_id, module_id)
        ctx["grade_signatures"] = manifestations(
            "result", [r.id for r in ctx["submissions"] if r.status == "graded"]
        )
        ctx["form"] = AssignmentForm(formdata=None)
    else:
        panel = module_kinds.behaviour(view.module.kind).panel
        if panel is not None:
            ctx.update(panel(view))
    ctx.update(extra)
    return ctx


def _page(status: int = 200, **ctx):
    return render_template("player/module.html", **ctx), status


def _with_status(fragment: str, ctx: dict):
    """Answer htmx with `fragment` plus the header, progress bar and outline out of band.

    All four come from one PlayerView read after the change, so none of them is stale.
    """
    html = render_template(fragment, **ctx) + render_template("player/_status_oob.html", **ctx)
    response = make_response(html)
    response.headers.add("Vary", "HX-Request")
    return response


def _back(enrollment_id: int, module_id: int, **kwargs):
    """After a plain form post: 303 back to the module page, which shows the same truth.

    htmx is sent there too (HX-Redirect) rather than swapping a whole page into the panel.
    """
    url = _module_url(enrollment_id, module_id, **kwargs)
    if is_htmx():
        response = make_response("", 204)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url, 303)


def _done(enrollment_id: int, module_id: int, message: str):
    """A completion (or hand-in) succeeded: htmx gets the panel and the status, a post goes back."""
    if is_htmx():
        return _with_status("player/_panel.html", _context(enrollment_id, module_id))
    flash(message, "success")
    return _back(enrollment_id, module_id)


def _refused(status: int, enrollment_id: int, module_id: int, **extra):
    """The panel again with its errors: the page (4xx) for a post, the panel for htmx.

    htmx only swaps 2xx answers, so its panel comes with 200; the errors are in the markup.
    """
    ctx = _context(enrollment_id, module_id, **extra)
    if is_htmx():
        return _with_status("player/_panel.html", ctx)
    return _page(status, **ctx)


# --- the player ---------------------------------------------------------------------------


@bp.route("/learn/<int:enrollment_id>")
@access(LOGIN)
def start(enrollment_id: int):
    module = player.first_incomplete_module(enrollment_id, _me())
    return redirect(_module_url(enrollment_id, module.id))


@bp.route("/learn/<int:enrollment_id>/<int:module_id>")
@access(LOGIN)
def module(enrollment_id: int, module_id: int):
    return _page(**_context(enrollment_id, module_id))


@bp.route("/learn/<int:enrollment_id>/<int:module_id>/complete", methods=["POST"])
@access(LOGIN)
def complete(enrollment_id: int, module_id: int):
    player.complete_module_by_learner(enrollment_id, module_id, _me())
    return _done(enrollment_id, module_id, "Marked as done.")


@bp.route("/learn/<int:enrollment_id>/<int:module_id>/progress", methods=["POST"])
@access(LOGIN)
def progress(enrollment_id: int, module_id: int):
    try:
        row = player.record_video_progress(
            enrollment_id,
            module_id,
            _me(),
            request.form.get("position"),
            request.form.get("duration"),
        )
    except Invalid as exc:
        return problem(422, exc.title, exc.detail, exc.errors)
    if is_htmx():  # the player script: the watched line, and the status out of band
        return _with_status("player/_video_status.html", _context(enrollment_id, module_id))
    return jsonify(status=row.status, percent=row.percent, position=row.position)


@bp.route("/learn/<int:enrollment_id>/<int:module_id>/sop", methods=["POST"])
@access(LOGIN)
def sop_sign(enrollment_id: int, module_id: int):
    kind = module_kinds.behaviour("sop")
    if kind.sign is None:
        abort(404)
    if SopForm().validate_on_submit():
        password = request.form.get("signature_password")
        try:
            kind.sign(enrollment_id, module_id, _me(), password)
        except Invalid as exc:
            errors = exc.errors.get("password") or [exc.detail]
            return _refused(422, enrollment_id, module_id, sop_errors=errors)
        except RateLimited as exc:
            return _refused(429, enrollment_id, module_id, sop_errors=[exc.detail])
        except Conflict as exc:
            flash(exc.detail, "error")
        else:
            return _done(enrollment_id, module_id, kind.signed_message)
    return _back(enrollment_id, module_id)


# --- quizzes ------------------------------------------------------------------------------


def _own_attempt(enrollment_id: int, module_id: int, result_id: int):
    attempt = quizzes.get_attempt(result_id, _me())
    if attempt.enrollment_id != enrollment_id or attempt.module_id != module_id:
        abort(404)
    return attempt


@bp.route("/learn/<int:enrollment_id>/<int:module_id>/quiz", methods=["POST"])
@access(LOGIN)
def quiz_start(enrollment_id: int, module_id: int):
    try:
        quizzes.start_attempt(enrollment_id, module_id, _me())
    except Conflict as exc:
        flash(exc.detail, "error")
    return redirect(_module_url(enrollment_id, module_id, _anchor="panel"))


@bp.route("/learn/<int:enrollment_id>/<int:module_id>/attempts/<int:result_id>", methods=["POST"])
@access(LOGIN)
def quiz_submit(enrollment_id: int, module_id: int, result_id: int):
    _own_attempt(enrollment_id, module_id, result_id)
    answers = {k[2:]: request.form.getlist(k) for k in request.form if k.startswith("q-")}
    try:
        attempt = quizzes.submit_attempt(result_id, answers, _me())
    except Invalid as exc:
        ctx = _context(enrollment_id, module_id, answer_errors=exc.errors, given=request.form)
        return _page(422, **ctx)
    except Conflict as exc:
        flash(exc.detail, "error")
        return redirect(_module_url(enrollment_id, module_id, _anchor="panel"))
    if attempt.feedback.get("late"):
        flash("Time was up: answers sent after the time limit were not accepted.", "warning")
    return redirect(_module_url(enrollment_id, module_id, _anchor="panel"))


@bp.route("/learn/<int:enrollment_id>/<int:module_id>/attempts/<int:result_id>")
@access(LOGIN)
def attempt_status(enrollment_id: int, module_id: int, result_id: int):
    attempt = _own_attempt(enrollment_id, module_id, result_id)
    ctx = _context(enrollment_id, module_id, attempt=attempt, oob=is_htmx())
    return render("player/module.html", "player/_panel_quiz.html", **ctx)


# --- assignments --------------------------------------------------------------------------


@bp.route("/learn/<int:enrollment_id>/<int:module_id>/assignment", methods=["POST"])
@access(LOGIN)
def assignment_submit(enrollment_id: int, module_id: int):
    form = AssignmentForm()
    if form.validate_on_submit():
        try:
            assignments.submit_assignment(
                enrollment_id, module_id, _me(), form.text.data, form.file.data
            )
        except Invalid as exc:
            form.apply_errors(exc.errors)
        except Conflict as exc:
            flash(exc.detail, "error")
            return _back(enrollment_id, module_id)
        else:
            return _done(enrollment_id, module_id, "Submitted. A trainer will grade it.")
    return _refused(422, enrollment_id, module_id, form=form)


@bp.route("/grading")
@access("grading.manage")
def grading_queue():
    page, per_page = clamp(request.args.get("page", 1), request.args.get("per_page", 20))
    results = assignments.grading_queue(page, per_page)
    return render("player/grading_queue.html", "player/_grading_rows.html", results=results)


@bp.route("/grading/<int:result_id>", methods=["GET", "POST"])
@access("grading.manage")
def grade(result_id: int):
    submission = assignments.get_submission(result_id)
    form = GradeForm()
    errors: dict[str, list[str]] = {}
    if form.validate_on_submit():
        scores = {k[6:]: v for k, v in request.form.items() if k.startswith("score-")}
        try:
            assignments.grade_assignment(
                result_id,
                scores,
                form.comment.data,
                _me(),
                password=request.form.get("signature_password"),
            )
        except Invalid as exc:
            errors = exc.errors
            form.apply_errors({k: v for k, v in errors.items() if k == "comment"})
        except RateLimited as exc:
            flash(exc.detail, "error")
        except Conflict as exc:
            flash(exc.detail, "error")
            return redirect(url_for(".grading_queue"))
        else:
            flash(f"Graded {submission.user.name}'s {submission.module.title}.", "success")
            return redirect(url_for(".grading_queue"))
    status = 422 if form.is_submitted() else 200
    page = render_template(
        "player/grade.html",
        submission=submission,
        rubric=assignments.rubric(submission.module),
        pass_mark=assignments.pass_mark(submission.module),
        form=form,
        errors=errors,
        posted=request.form,
    )
    return page, status
