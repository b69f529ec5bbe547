"""CoursePlayer read model and the learner's own progress writes (read, watched, acknowledged)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.learning import enrollments
from app.learning.models import Enrollment, Module, Progress, Result
from app.learning.modules import list_modules
from app.people.models import User
from app.platform.errors import Forbidden, Invalid, NotFound
from app.platform.files import StoredFile
from app.platform.storage import get_storage

# Media links must outlive a long video: the browser keeps fetching byte ranges as it plays.
MEDIA_URL_SECONDS = 4 * 3600
# Module kinds the learner completes by saying so (video only as the no-JavaScript fallback).
SELF_COMPLETE_KINDS = ("text", "document", "video")


@dataclass
class PlayerView:
    """Everything the player page shows around the current module."""

    enrollment: Enrollment
    modules: list[Module]
    module: Module
    progress: dict[int, Progress]
    # Modules with a quiz attempt or assignment submission: under way even before a grade.
    attempted: frozenset[int] = frozenset()

    @property
    def course(self):
        return self.enrollment.course

    def status(self, module: Module) -> str:
        row = self.progress.get(module.id)
        status = row.status if row else "not_started"
        if status == "not_started" and module.id in self.attempted:
            return "in_progress"
        return status

    @property
    def current(self) -> Progress | None:
        return self.progress.get(self.module.id)

    @property
    def required_total(self) -> int:
        return sum(1 for m in self.modules if m.required)

    @property
    def required_done(self) -> int:
        return sum(1 for m in self.modules if m.required and self.status(m) == "completed")

    @property
    def percent(self) -> int:
        total = self.required_total
        return int(self.required_done * 100 / total) if total else 0

    @property
    def resume_at(self) -> float | None:
        """Where the video picks up: the saved position of an unfinished video, else None.

        A watched video starts again from the beginning ("Watch again"), never from its end.
        """
        row = self.current
        if self.module.kind != "video" or row is None or row.status == "completed":
            return None
        return row.position or None

    def _neighbour(self, step: int) -> Module | None:
        index = next(i for i, m in enumerate(self.modules) if m.id == self.module.id) + step
        return self.modules[index] if 0 <= index < len(self.modules) else None

    @property
    def previous(self) -> Module | None:
        return self._neighbour(-1)

    @property
    def next(self) -> Module | None:
        return self._neighbour(1)


def learner_enrollment(enrollment_id: int, user: User) -> Enrollment:
    """Return the user's own enrollment. Raises NotFound, Forbidden (someone else's)."""
    enrollment = enrollments.get_enrollment(enrollment_id)
    if enrollment.user_id != user.id:
        raise Forbidden("Only the enrolled learner may open this course player.")
    return enrollment


def _progress(enrollment_id: int) -> dict[int, Progress]:
    rows = db.session.scalars(select(Progress).where(Progress.enrollment_id == enrollment_id))
    return {row.module_id: row for row in rows}


def player_view(enrollment_id: int, module_id: int, user: User) -> PlayerView:
    """Build the player for one module. Raises NotFound (module of another course), Forbidden."""
    enrollment = learner_enrollment(enrollment_id, user)
    modules = list_modules(enrollment.course_id)
    module = next((m for m in modules if m.id == module_id), None)
    if module is None:
        raise NotFound("This module is not part of the course.")
    attempted = db.session.scalars(
        select(Result.module_id).where(Result.enrollment_id == enrollment.id).distinct()
    )
    return PlayerView(enrollment, modules, module, _progress(enrollment.id), frozenset(attempted))


def first_incomplete_module(enrollment_id: int, user: User) -> Module:
    """The module to resume at: the first not completed, else the first. Raises NotFound."""
    enrollment = learner_enrollment(enrollment_id, user)
    modules = list_modules(enrollment.course_id)
    if not modules:
        raise NotFound("This course has no modules yet.")
    progress = _progress(enrollment.id)
    for module in modules:
        row = progress.get(module.id)
        if row is None or row.status != "completed":
            return module
    return modules[0]


def media_url(stored: StoredFile | None) -> str | None:
    """A download link for a module's video or PDF that lasts through a long session."""
    if stored is None:
        return None
    return get_storage().url_for_download(stored.key, stored.filename, expires=MEDIA_URL_SECONDS)


def own_module(enrollment_id: int, module_id: int, user: User) -> Module:
    """A module of the learner's own enrollment. Raises NotFound, Forbidden."""
    enrollment = learner_enrollment(enrollment_id, user)
    module = db.session.get(Module, module_id)
    if module is None or module.course_id != enrollment.course_id:
        raise NotFound("This module is not part of the course.")
    return module


def complete_module_by_learner(enrollment_id: int, module_id: int, user: User) -> Progress:
    """Mark a text read, a document acknowledged (or a video watched, no-JS fallback).

    Raises NotFound, Forbidden, Invalid (a kind that completes otherwise), Conflict (closed).
    """
    module = own_module(enrollment_id, module_id, user)
    if module.kind not in SELF_COMPLETE_KINDS:
        raise Invalid(
            "This module completes another way.",
            {"module_id": ["Quizzes and assignments complete when graded."]},
        )
    return enrollments.record_progress(enrollment_id, module_id, status="completed", actor=user)


def _number(value: Any) -> float | None:
    if value in (None, ""):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return math.nan
    return number


def record_video_progress(
    enrollment_id: int, module_id: int, user: User, position: Any, duration: Any
) -> Progress:
    """Save the playback position; percent = position / duration, completed at `complete_at`.

    The player reports the duration with every position, so a position past the end (a
    container whose length the browser first guessed short) is clamped to it.

    Raises NotFound, Forbidden, Invalid (not a video, bad numbers), Conflict (closed).
    """
    module = own_module(enrollment_id, module_id, user)
    errors: dict[str, list[str]] = {}
    if module.kind != "video":
        errors["module_id"] = ["Only videos report a playback position."]
    pos, dur = _number(position), _number(duration)
    if pos is None or not math.isfinite(pos) or pos < 0:
        errors["position"] = ["Seconds from the start, 0 or more."]
    if dur is None or not math.isfinite(dur) or dur <= 0:
        errors["duration"] = ["The video's length in seconds, more than 0."]
    if errors:
        raise Invalid("The playback report is not valid.", errors)
    pos = min(pos, dur)
    share = pos / dur
    complete_at = float((module.settings or {}).get("complete_at", 0.9))
    return enrollments.record_progress(
        enrollment_id,
        module_id,
        status="completed" if share >= complete_at else "in_progress",
        percent=min(100, int(share * 100)),
        position=round(pos, 1),
        actor=user,
    )
