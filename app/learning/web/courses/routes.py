"""Course catalog, course detail, and trainer authoring pages."""

from __future__ import annotations

from flask import (
    Blueprint,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from markupsafe import Markup

from app.learning import quizzes
from app.learning.courses import (
    CatalogQuery,
    catalog_cached,
    catalog_facets,
    catalog_generation,
    delete_course,
    get_catalog_course,
    get_course,
    publish_course,
    retire_course,
    save_course,
    search_catalog,
    unfinishable_modules,
)
from app.learning.modules import (
    add_module,
    add_question,
    delete_module,
    delete_question,
    get_module,
    get_question,
    list_modules,
    module_counts,
    move_module,
    quiz_policy,
    update_module,
    update_question,
)
from app.learning.web.courses.forms import (
    KIND_HINTS,
    KIND_LABELS,
    QUESTION_LABELS,
    CourseForm,
    GrantAttemptForm,
    ModuleForm,
    NewModuleForm,
    QuestionForm,
)
from app.people.permissions import access, can
from app.platform import files
from app.platform.errors import Conflict, Invalid
from app.platform.pagination import clamp
from app.platform.web.htmx import is_htmx, render

bp = Blueprint("courses", __name__)


@bp.context_processor
def _helpers():
    return {
        "download_url": files.download_url,
        "human_size": files.human_size,
        "kind_labels": KIND_LABELS,
        "kind_hints": KIND_HINTS,
        "question_labels": QUESTION_LABELS,
        "unfinishable_modules": unfinishable_modules,
    }


def _actor():
    return current_user._get_current_object()


def _status(form) -> int:
    return 422 if form.is_submitted() else 200


# --- catalog ------------------------------------------------------------------------------


def _shared_fragment(generation: str, key: tuple, template: str, **context) -> Markup:
    """Render `template` once per catalog generation and `key` in this process.

    Only for fragments that hold nothing per user (no CSRF token, no name): everyone whose
    request maps to the same key gets the same markup. Callables in `context` are called on a
    miss only, so a hit runs no query.
    """

    def build() -> str:
        values = {k: v() if callable(v) else v for k, v in context.items()}
        return render_template(template, **values)

    return Markup(catalog_cached(generation, key, build))  # noqa: S704  (autoescaped template)


@bp.route("/courses")
@access("catalog.view")
def catalog():
    query = CatalogQuery.from_args(request.args)
    manager = can(current_user, "course.manage")
    # Authors see published courses unless they pick a status ("any" = every status).
    include = manager and bool(query.status)
    generation = catalog_generation()
    search = tuple(sorted(query.to_args().items()))
    results = _shared_fragment(
        generation,
        ("results", include, search),
        "courses/_catalog_results.html",
        results=lambda: search_catalog(query, include_unpublished=include),
        query=query,
    )
    if is_htmx():
        response = make_response(results)
    else:
        filters = _shared_fragment(
            generation,
            ("filters", manager, search),
            "courses/_catalog_filters.html",
            facets=lambda: catalog_facets(include_unpublished=manager, generation=generation),
            query=query,
            manager=manager,
        )
        page = render_template(
            "courses/catalog.html", filters_html=filters, results_html=results, manager=manager
        )
        response = make_response(page)
    response.headers.add("Vary", "HX-Request")
    return response


@bp.route("/courses/<int:course_id>")
@access("catalog.view")
def detail(course_id: int):
    manager = can(current_user, "course.manage")
    course = get_catalog_course(course_id, include_unpublished=manager)
    return render_template("courses/detail.html", course=course, manager=manager)


# --- authoring: courses -------------------------------------------------------------------


@bp.route("/authoring/courses")
@access("course.manage")
def manage():
    query = CatalogQuery.from_args(request.args)
    page = search_catalog(query, include_unpublished=True)
    counts = module_counts([c.id for c in page.items])
    return render(
        "courses/manage.html",
        "courses/_manage_table.html",
        results=page,
        query=query,
        counts=counts,
    )


@bp.route("/authoring/courses/new", methods=["GET", "POST"])
@access("course.manage")
def manage_new():
    form = CourseForm()
    if form.validate_on_submit():
        try:
            course = save_course(None, form.to_data(), _actor(), cover=form.cover.data)
        except Invalid as exc:
            form.apply_errors(exc.errors)
        else:
            flash(f"Course {course.code} created as a draft. Add modules, then publish.", "success")
            return redirect(url_for(".manage_builder", course_id=course.id))
    return render_template("courses/form.html", form=form, course=None), _status(form)


@bp.route("/authoring/courses/<int:course_id>/edit", methods=["GET", "POST"])
@access("course.manage")
def edit(course_id: int):
    course = get_course(course_id)
    form = CourseForm.for_course(course)
    if form.validate_on_submit():
        try:
            save_course(course.id, form.to_data(), _actor(), cover=form.cover.data)
        except Invalid as exc:
            form.apply_errors(exc.errors)
        else:
            flash("Course saved.", "success")
            return redirect(url_for(".manage_builder", course_id=course_id))
    return render_template("courses/form.html", form=form, course=course), _status(form)


def _builder(course_id: int, form: NewModuleForm, status: int = 200):
    course = get_course(course_id)
    modules = list_modules(course.id)
    page = render_template("courses/builder.html", course=course, modules=modules, form=form)
    return page, status


@bp.route("/authoring/courses/<int:course_id>")
@access("course.manage")
def manage_builder(course_id: int):
    return _builder(course_id, NewModuleForm(formdata=None))


@bp.route("/authoring/courses/<int:course_id>/publish", methods=["POST"])
@access("course.manage")
def manage_publish(course_id: int):
    try:
        course = publish_course(course_id, _actor())
        flash(f"Published {course.code} (version {course.version}).", "success")
    except Conflict as exc:
        flash(exc.detail, "error")
    return redirect(url_for(".manage_builder", course_id=course_id))


@bp.route("/authoring/courses/<int:course_id>/retire", methods=["POST"])
@access("course.manage")
def manage_retire(course_id: int):
    course = retire_course(course_id, _actor())
    flash(f"Retired {course.code}; it is gone from the catalog, its records stay.", "success")
    return redirect(url_for(".manage_builder", course_id=course_id))


@bp.route("/authoring/courses/<int:course_id>/delete", methods=["POST"])
@access("course.manage")
def manage_delete(course_id: int):
    try:
        delete_course(course_id, _actor())
    except Conflict as exc:
        flash(f"{exc.detail} Use Retire to take it out of the catalog.", "error")
        return redirect(url_for(".manage_builder", course_id=course_id))
    flash("Course deleted.", "success")
    return redirect(url_for(".manage"))


# --- authoring: modules -------------------------------------------------------------------


def _module_list(course_id: int):
    """The module list fragment for htmx, or back to the builder for a plain form post."""
    if not is_htmx():
        return redirect(url_for(".manage_builder", course_id=course_id, _anchor="modules"))
    course = get_course(course_id)
    return render(
        "courses/builder.html",
        "courses/_modules.html",
        course=course,
        modules=list_modules(course_id),
    )


@bp.route("/authoring/courses/<int:course_id>/modules", methods=["POST"])
@access("course.manage")
def module_add(course_id: int):
    form = NewModuleForm()
    if form.validate_on_submit():
        try:
            module = add_module(course_id, form.to_data(), _actor(), upload=form.file.data)
        except Invalid as exc:
            form.apply_errors(exc.errors)
        else:
            flash(f"Module “{module.title}” added.", "success")
            return redirect(url_for(".manage_builder", course_id=course_id, _anchor="modules"))
    return _builder(course_id, form, 422)


@bp.route("/authoring/modules/<int:module_id>/move", methods=["POST"])
@access("course.manage")
def module_move(module_id: int):
    module = move_module(module_id, request.form.get("direction", ""), _actor())
    return _module_list(module.course_id)


@bp.route("/authoring/modules/<int:module_id>/delete", methods=["POST"])
@access("course.manage")
def module_delete(module_id: int):
    try:
        course = delete_module(module_id, _actor())
    except Conflict as exc:
        flash(exc.detail, "error")
        return _module_list(get_module(module_id).course_id)
    if not is_htmx():
        flash("Module deleted.", "success")
    return _module_list(course.id)


def _module_page(module, form: ModuleForm, question_form: QuestionForm, status: int = 200):
    page = render_template(
        "courses/module.html",
        module=module,
        course=module.course,
        form=form,
        question_form=question_form,
    )
    return page, status


@bp.route("/authoring/modules/<int:module_id>/edit", methods=["GET", "POST"])
@access("course.manage")
def module_edit(module_id: int):
    module = get_module(module_id)
    form = ModuleForm.for_module(module)
    if form.validate_on_submit():
        try:
            update_module(module_id, form.to_data(), _actor(), upload=form.file.data)
        except Invalid as exc:
            form.apply_errors(exc.errors)
        else:
            flash("Module saved.", "success")
            return redirect(url_for(".manage_builder", course_id=module.course_id))
    return _module_page(module, form, QuestionForm(formdata=None), _status(form))


@bp.route("/authoring/modules/<int:module_id>/questions/new")
@access("course.manage")
def module_question_new(module_id: int):
    """The add-question form for one question type (htmx swaps just the editor)."""
    module = get_module(module_id)
    return render(
        "courses/module.html",
        "courses/_question_editor.html",
        module=module,
        course=module.course,
        form=ModuleForm.for_module(module, use_request=False),
        question_form=QuestionForm(formdata=None, question_kind=request.args.get("kind", "")),
    )


@bp.route("/authoring/modules/<int:module_id>/questions", methods=["POST"])
@access("course.manage")
def module_question_add(module_id: int):
    form = QuestionForm(question_kind=request.form.get("kind", ""))
    if form.validate_on_submit():
        try:
            add_question(module_id, form.to_data(), _actor())
        except Invalid as exc:
            form.apply_errors(exc.errors)
        except Conflict as exc:
            flash(exc.detail, "error")
            return redirect(url_for(".module_edit", module_id=module_id))
        else:
            flash("Question added.", "success")
            return redirect(
                url_for(
                    ".module_question_new",
                    module_id=module_id,
                    kind=form.question_kind,
                    _anchor="questions",
                )
            )
    module = get_module(module_id)
    return _module_page(module, ModuleForm.for_module(module, use_request=False), form, 422)


@bp.route("/authoring/questions/<int:question_id>/edit", methods=["GET", "POST"])
@access("course.manage")
def question_edit(question_id: int):
    question = get_question(question_id)
    form = QuestionForm(obj=question, question=question)
    if form.validate_on_submit():
        try:
            update_question(question_id, form.to_data(), _actor())
        except Invalid as exc:
            form.apply_errors(exc.errors)
        else:
            flash("Question saved.", "success")
            return redirect(
                url_for(".module_edit", module_id=question.module_id, _anchor="questions")
            )
    page = render_template(
        "courses/question.html", question=question, module=question.module, question_form=form
    )
    return page, _status(form) if form.has_errors else 200


@bp.route("/authoring/questions/<int:question_id>/delete", methods=["POST"])
@access("course.manage")
def module_question_delete(question_id: int):
    module = delete_question(question_id, _actor())
    flash("Question deleted.", "success")
    return redirect(url_for(".module_edit", module_id=module.id, _anchor="questions"))


# --- quiz attempts per learner (trainers) --------------------------------------------------


@bp.route("/authoring/modules/<int:module_id>/attempts")
@access("course.manage")
def quiz_attempts(module_id: int):
    page, per_page = clamp(request.args.get("page", 1), request.args.get("per_page", 25), 25)
    module = quizzes.get_quiz_module(module_id)
    results = quizzes.quiz_attempts_by_learner(module, page, per_page)
    return render(
        "courses/attempts.html",
        "courses/_attempts_table.html",
        module=module,
        course=module.course,
        policy=quiz_policy(module),
        results=results,
        grant_form=GrantAttemptForm(formdata=None),
    )


@bp.route("/authoring/attempts/<int:result_id>")
@access("course.manage")
def quiz_attempt_review(result_id: int):
    attempt = quizzes.get_attempt_for_trainer(result_id)
    rows = quizzes.feedback_rows(attempt, reveal=True)
    return render_template("courses/attempt.html", attempt=attempt, rows=rows)


@bp.route("/authoring/modules/<int:module_id>/attempts/<int:enrollment_id>/grant", methods=["POST"])
@access("course.manage")
def quiz_attempt_grant(module_id: int, enrollment_id: int):
    form = GrantAttemptForm()
    if form.validate_on_submit():
        try:
            allowed = quizzes.grant_attempt(module_id, enrollment_id, _actor(), form.reason.data)
        except (Conflict, Invalid) as exc:
            flash(exc.detail, "error")
        else:
            flash(f"One more attempt allowed ({allowed} in all).", "success")
    return redirect(url_for(".quiz_attempts", module_id=module_id, **request.args))
