"""Courses: create, edit (with version bumps), publish, retire, delete, and the catalog search."""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import current_app, has_app_context
from redis.exceptions import RedisError
from sqlalchemy import event, func, or_, select
from sqlalchemy.orm import Session

from app.extensions import db
from app.learning import module_kinds
from app.learning.models import COURSE_LEVELS, COURSE_STATUSES, Course, Enrollment, Module
from app.people.models import User
from app.platform import clock
from app.platform.audit import read_back, record_audit, snapshot
from app.platform.errors import Conflict, Invalid, NotFound
from app.platform.pagination import Page, clamp, paginate

COURSE_FIELDS = [
    "code",
    "title",
    "summary",
    "category",
    "tags",
    "level",
    "language",
    "estimated_minutes",
    "passing_score",
    "validity_months",
    "mandatory",
    "is_onboarding",
    "self_enroll",
]
AUDIT_FIELDS = [
    "status",
    "version",
    *COURSE_FIELDS,
    "cover_file_id",
    "published_at",
    "retired_at",
]
SORTS = {
    "title": (Course.title.asc(), Course.id.asc()),
    "newest": (Course.created_at.desc(), Course.id.desc()),
    "shortest": (Course.estimated_minutes.asc(), Course.title.asc()),
    "longest": (Course.estimated_minutes.desc(), Course.title.asc()),
}
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")
_LANG = re.compile(r"^[a-z]{2}(-[A-Z]{2})?$")
T = TypeVar("T")


def normalise_tags(value: Any) -> str:
    """Store tags as ',a,b,' (lower-case, unique, sorted) so one LIKE finds a tag."""
    if value is None:
        return ""
    parts = value if isinstance(value, (list, tuple)) else str(value).split(",")
    tags = sorted({str(t).strip().lower()[:40] for t in parts if str(t).strip()})
    return "," + ",".join(tags) + "," if tags else ""


def _int(errors, name, value, lo, hi, nullable=False):
    if value in (None, "") and nullable:
        return None
    try:
        if isinstance(value, bool):
            raise ValueError
        number = int(value)
    except (TypeError, ValueError):
        errors.setdefault(name, []).append("Must be a whole number.")
        return None
    if not lo <= number <= hi:
        errors.setdefault(name, []).append(f"Must be between {lo} and {hi}.")
    return number


def _bool(errors, name, value):
    if isinstance(value, bool):
        return value
    if value in ("true", "1", "on", "yes", 1):
        return True
    if value in ("false", "0", "off", "no", 0, "", None):
        return False
    errors.setdefault(name, []).append("Must be true or false.")
    return None


def validate_course_data(data: dict, partial: bool = False) -> dict:
    """Check and normalise course fields; raise Invalid with per-field errors.

    `partial` (updates) validates only the fields present.
    """
    if not isinstance(data, dict):
        raise Invalid("Expected an object of course fields.")
    errors: dict[str, list[str]] = {}
    unknown = set(data) - set(COURSE_FIELDS) - {"status", "owner_id", "id", "version"}
    for name in sorted(unknown):
        errors[name] = ["Unknown field."]
    out: dict[str, Any] = {}

    def present(name):
        return name in data or not partial

    if present("code"):
        code = str(data.get("code") or "").strip()
        if not _CODE.match(code):
            errors["code"] = ["Required: letters, digits, '.', '_' or '-', at most 40."]
        out["code"] = code.upper()
    if present("title"):
        title = str(data.get("title") or "").strip()
        if not title or len(title) > 200:
            errors["title"] = ["Required, at most 200 characters."]
        out["title"] = title
    if present("summary"):
        summary = str(data.get("summary") or "")
        if len(summary) > 5000:
            errors["summary"] = ["At most 5000 characters."]
        out["summary"] = summary
    if present("category"):
        category = str(data.get("category") or "General").strip()
        if len(category) > 80:
            errors["category"] = ["At most 80 characters."]
        out["category"] = category or "General"
    if present("tags"):
        out["tags"] = normalise_tags(data.get("tags"))
        if len(out["tags"]) > 500:
            errors["tags"] = ["Too many tags."]
    if present("level"):
        level = data.get("level") or "beginner"
        if level not in COURSE_LEVELS:
            errors["level"] = [f"One of: {', '.join(COURSE_LEVELS)}."]
        out["level"] = level
    if present("language"):
        language = str(data.get("language") or "en").strip()
        if not _LANG.match(language):
            errors["language"] = ["A language code such as en, de or fr-CH."]
        out["language"] = language
    if present("estimated_minutes"):
        out["estimated_minutes"] = _int(
            errors, "estimated_minutes", data.get("estimated_minutes", 30), 1, 10000
        )
    if present("passing_score"):
        out["passing_score"] = _int(errors, "passing_score", data.get("passing_score", 80), 0, 100)
    if present("validity_months"):
        out["validity_months"] = _int(
            errors, "validity_months", data.get("validity_months"), 1, 240, nullable=True
        )
    for flag, default in (("mandatory", False), ("is_onboarding", False), ("self_enroll", True)):
        if present(flag):
            out[flag] = _bool(errors, flag, data.get(flag, default))
    if errors:
        raise Invalid("Some course fields are not valid.", errors)
    return out


def get_course(course_id: int) -> Course:
    course = db.session.get(Course, course_id)
    if course is None:
        raise NotFound(f"Course {course_id} does not exist.")
    return course


def _check_code_free(code: str, course_id: int | None = None) -> None:
    q = select(Course.id).where(func.upper(Course.code) == code.upper())
    if course_id is not None:
        q = q.where(Course.id != course_id)
    if db.session.scalar(q) is not None:
        raise Invalid("Course code already in use.", {"code": ["Another course uses this code."]})


def create_course(data: dict, actor: User | None = None, cover=None) -> Course:
    """Create a draft course. Raises Invalid."""
    return save_course(None, data, actor, cover=cover)


def bump_version_if_published(course: Course) -> None:
    """A published course that changes gets a new version (learners' records name the version)."""
    if course.status == "published":
        course.version += 1


def update_course(
    course_id: int, data: dict, actor: User | None = None, partial: bool = True, cover=None
) -> Course:
    """Edit a course; a change to a published course bumps its version. Raises NotFound, Invalid."""
    return save_course(course_id, data, actor, cover=cover, partial=partial)


def unfinishable_modules(modules: list[Module]) -> list[Module]:
    """Required modules of a kind no learner can complete yet: they make a course unfinishable."""
    return [m for m in modules if m.required and not module_kinds.is_completable(m.kind)]


def unfinishable_message(modules: list[Module]) -> str:
    """Name the modules that keep a course from being finished, and what to do about them."""
    names = ", ".join(f"{m.position}. “{m.title}” ({m.kind})" for m in modules)
    them = "it" if len(modules) == 1 else "them"
    return (
        f"Learners cannot complete the required module{'s' if len(modules) != 1 else ''} {names}: "
        f"the player cannot complete that kind of module yet. Make {them} optional or replace "
        f"{them} with a kind learners can complete."
    )


def check_publishable(course: Course) -> None:
    """Refuse to publish a course nobody could finish.

    Raises Conflict (no modules, or a required module of a kind learners cannot complete).
    """
    if not course.modules:
        raise Conflict("Add at least one module before publishing.")
    blocked = unfinishable_modules(list(course.modules))
    if blocked:
        raise Conflict(
            "This course cannot be published. " + unfinishable_message(blocked),
            {"modules": [f"{m.position}. {m.title}" for m in blocked]},
        )


def _set_status(course_id: int, status: str, actor: User | None, reason: str | None) -> Course:
    course = get_course(course_id)
    if course.status == status:
        return course
    if status == "published":
        check_publishable(course)
    before = snapshot(course, AUDIT_FIELDS)
    course.status = status
    if status == "published":
        course.published_at = clock.now()
        course.retired_at = None
    elif status == "retired":
        course.retired_at = clock.now()
    record_audit(
        "update",
        "course",
        course.id,
        before=before,
        after=snapshot(read_back(course), AUDIT_FIELDS),
        reason=reason,
        actor=actor,
    )
    db.session.commit()
    return course


def publish_course(course_id: int, actor: User | None = None, reason: str | None = None) -> Course:
    """Make a course visible in the catalog.

    Raises NotFound, Conflict (no modules, or a required module learners cannot complete).
    """
    return _set_status(course_id, "published", actor, reason)


def retire_course(course_id: int, actor: User | None = None, reason: str | None = None) -> Course:
    """Withdraw a course from the catalog while keeping every record of it."""
    return _set_status(course_id, "retired", actor, reason)


def set_course_status(course_id: int, status: str, actor: User | None = None) -> Course:
    if status not in COURSE_STATUSES:
        raise Invalid("Unknown status.", {"status": [f"One of: {', '.join(COURSE_STATUSES)}."]})
    return _set_status(course_id, status, actor, None)


def delete_course(course_id: int, actor: User | None = None) -> None:
    """Delete a course nobody is enrolled in. Raises NotFound, Conflict (has enrollments)."""
    course = get_course(course_id)
    enrolled = db.session.scalar(
        select(func.count()).select_from(Enrollment).where(Enrollment.course_id == course.id)
    )
    if enrolled:
        raise Conflict(
            f"{enrolled} enrollment(s) reference this course; retire it instead of deleting it."
        )
    before = snapshot(course, AUDIT_FIELDS)
    record_audit("delete", "course", course.id, before=before, actor=actor)
    db.session.delete(course)
    db.session.commit()


@dataclass
class CatalogQuery:
    q: str = ""
    category: str = ""
    level: str = ""
    language: str = ""
    mandatory: bool | None = None
    onboarding: bool | None = None
    status: str = ""
    sort: str = "title"
    page: int = 1
    per_page: int = 20

    @classmethod
    def from_args(cls, args) -> CatalogQuery:
        """Build from request args, ignoring junk instead of failing."""

        def flag(name):
            value = args.get(name, "")
            return {"1": True, "true": True, "yes": True, "0": False, "false": False}.get(
                value.lower() if isinstance(value, str) else value
            )

        page, per_page = clamp(args.get("page", 1), args.get("per_page", 20))
        sort = args.get("sort", "title")
        return cls(
            q=(args.get("q") or "").strip()[:200],
            category=(args.get("category") or "").strip(),
            level=(args.get("level") or "").strip(),
            language=(args.get("language") or "").strip(),
            mandatory=flag("mandatory"),
            onboarding=flag("onboarding"),
            status=(args.get("status") or "").strip(),
            sort=sort if sort in SORTS else "title",
            page=page,
            per_page=per_page,
        )

    def to_args(self, **changes: Any) -> dict[str, str]:
        """The query string of this search in canonical form (defaults left out), with
        `changes` (say page=2) applied: for links and as a cache key."""
        values = {**self.__dict__, **changes}
        flags = {True: "1", False: "0", None: ""}
        args = {
            "q": values["q"],
            "category": values["category"],
            "level": values["level"],
            "language": values["language"],
            "mandatory": flags[values["mandatory"]],
            "onboarding": flags[values["onboarding"]],
            "status": values["status"],
            "sort": "" if values["sort"] == "title" else values["sort"],
            "per_page": "" if values["per_page"] == 20 else str(values["per_page"]),
            "page": "" if values["page"] == 1 else str(values["page"]),
        }
        return {k: v for k, v in args.items() if v}


def _like_escape(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_catalog(query: CatalogQuery, include_unpublished: bool = False) -> Page:
    """Return a page of courses matching every search word in title, summary or tags.

    Learners see published courses only; authors may ask for drafts and retired ones.
    """
    q = select(Course)
    if include_unpublished:
        if query.status in COURSE_STATUSES:
            q = q.where(Course.status == query.status)
    else:
        q = q.where(Course.status == "published")
    for word in query.q.lower().split()[:8]:
        pattern = f"%{_like_escape(word)}%"
        q = q.where(
            or_(
                func.lower(Course.title).like(pattern, escape="\\"),
                func.lower(Course.summary).like(pattern, escape="\\"),
                Course.tags.like(pattern, escape="\\"),
                func.lower(Course.code).like(pattern, escape="\\"),
            )
        )
    if query.category:
        q = q.where(Course.category == query.category)
    if query.level:
        q = q.where(Course.level == query.level)
    if query.language:
        q = q.where(Course.language == query.language)
    if query.mandatory is not None:
        q = q.where(Course.mandatory.is_(query.mandatory))
    if query.onboarding is not None:
        q = q.where(Course.is_onboarding.is_(query.onboarding))
    q = q.order_by(*SORTS.get(query.sort, SORTS["title"]))
    return paginate(q, query.page, query.per_page)


CATALOG_CACHE_TTL_SECONDS = 30
CATALOG_CACHE_MAX_ENTRIES = 256
_GENERATION_KEY = "cadre:catalog-generation"
_FINGERPRINT = select(func.count(Course.id), func.max(Course.updated_at))


class _CatalogCache:
    """Per-process values computed for one catalog generation (an LRU, dropped when it moves)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.local = 0  # bumped by this process's own course changes
        self.fingerprint: tuple[float, str] | None = None  # (valid until, count/latest)
        self.generation: str | None = None
        self.entries: OrderedDict[tuple, tuple[float, Any]] = OrderedDict()


def _catalog_cache() -> _CatalogCache:
    cache = current_app.extensions.get("cadre_catalog_cache")
    if cache is None:
        cache = current_app.extensions.setdefault("cadre_catalog_cache", _CatalogCache())
    return cache


def _generation_key() -> str:
    return current_app.config.get("RQ_QUEUE_PREFIX", "") + _GENERATION_KEY


def catalog_generation() -> str:
    """Return a token that changes whenever a course changes, in this process or any other.

    Read it once per request, before the data it guards. Its parts: this process's own change
    counter and the Redis counter, both moved after every commit that wrote a course row
    (`_note_course_writes`), and a fingerprint of the courses table (row count and latest
    `updated_at`) for writes that bypass the ORM (bulk SQL, another version of the app).
    Without Redis the fingerprint is the only news from other processes, so it is read on
    every call; with Redis it backs the counter up and is re-read every
    CATALOG_FINGERPRINT_SECONDS, which saves a query on every catalog request.
    """
    from app.platform.jobs import get_redis

    cache = _catalog_cache()
    shared = "-"
    conn = get_redis()
    if conn is not None:
        try:
            shared = (conn.get(_generation_key()) or b"0").decode()
        except RedisError:
            shared = "?"  # the fingerprint and the short TTL still hold
    with_redis = shared not in ("-", "?")
    ttl = current_app.config.get("CATALOG_FINGERPRINT_SECONDS", 5) if with_redis else 0
    now = time.monotonic()
    fingerprint = cache.fingerprint
    if fingerprint is None or now >= fingerprint[0]:
        # Core on the session's connection: a third cheaper than the ORM path.
        count, latest = db.session.connection().execute(_FINGERPRINT).one()
        stamp = latest.isoformat() if latest is not None else ""
        fingerprint = cache.fingerprint = (now + ttl, f"{count}/{stamp}")
    return f"{cache.local}/{shared}/{fingerprint[1]}"


def catalog_cached(generation: str, key: tuple, build: Callable[[], T]) -> T:
    """Return `build()` for `key`, computed at most once per catalog generation in this process.

    Entries also expire after CATALOG_CACHE_TTL_SECONDS, which bounds how long a change that
    slipped past the generation (two edits committing out of timestamp order without Redis)
    can stay hidden. Cache only what every viewer of `key` may see: nothing per user.
    """
    cache = _catalog_cache()
    now = time.monotonic()
    with cache.lock:
        if cache.generation != generation:
            cache.generation = generation
            cache.entries.clear()
        hit = cache.entries.get(key)
        if hit is not None and hit[0] > now:
            cache.entries.move_to_end(key)
            return hit[1]
    value = build()
    with cache.lock:
        if cache.generation == generation:
            cache.entries[key] = (now + CATALOG_CACHE_TTL_SECONDS, value)
            cache.entries.move_to_end(key)
            while len(cache.entries) > CATALOG_CACHE_MAX_ENTRIES:
                cache.entries.popitem(last=False)
    return value


def catalog_facets(
    include_unpublished: bool = False, generation: str | None = None
) -> dict[str, list[str]]:
    """Distinct categories, levels and languages for the filter menus.

    Cached per process for the current catalog generation (see `catalog_generation()`).
    """
    if generation is None:
        generation = catalog_generation()
    return catalog_cached(
        generation, ("facets", include_unpublished), lambda: _facets(include_unpublished)
    )


def _facets(include_unpublished: bool) -> dict[str, list[str]]:
    base = select(Course.category, Course.language)
    if not include_unpublished:
        base = base.where(Course.status == "published")
    rows = db.session.execute(base.distinct()).all()
    return {
        "categories": sorted({r[0] for r in rows}),
        "languages": sorted({r[1] for r in rows}),
        "levels": list(COURSE_LEVELS),
    }


@event.listens_for(Session, "after_flush")
def _note_course_writes(session, flush_context) -> None:
    """Remember that this transaction wrote a course row (the session lists still show what
    the flush wrote)."""
    changed = any(isinstance(o, Course) for o in (*session.new, *session.deleted)) or any(
        isinstance(o, Course) and session.is_modified(o, include_collections=False)
        for o in session.dirty
    )
    if changed:
        session.info["catalog_changed"] = True


@event.listens_for(Session, "after_commit")
def _course_writes_committed(session) -> None:
    if session.info.pop("catalog_changed", False) and has_app_context():
        catalog_changed()


@event.listens_for(Session, "after_rollback")
def _course_writes_rolled_back(session) -> None:
    session.info.pop("catalog_changed", None)


def catalog_changed() -> None:
    """Move the catalog generation after a committed course change, here and (via Redis) in
    every other process, so no cached catalog page or menu outlives the change."""
    from app.platform.jobs import get_redis

    cache = _catalog_cache()
    with cache.lock:
        cache.local += 1
        cache.generation = None
        cache.fingerprint = None
        cache.entries.clear()
    conn = get_redis()
    if conn is not None:
        try:
            conn.incr(_generation_key())
        except RedisError:
            current_app.logger.warning("catalog generation not bumped in Redis", exc_info=True)


def save_course(
    course_id: int | None, data: dict, actor: User | None = None, cover=None, partial: bool = True
) -> Course:
    """Create (course_id None) or edit a course from the authoring form, with an optional cover.

    Course fields and the cover image are checked together, so bad input writes nothing.
    Raises NotFound, Invalid (cover errors under "cover").
    """
    from app.platform import files

    course = get_course(course_id) if course_id is not None else None
    errors: dict[str, list[str]] = {}
    fields: dict[str, Any] = {}
    try:
        fields = validate_course_data(data, partial=partial and course is not None)
        if "code" in fields:
            _check_code_free(fields["code"], course.id if course else None)
    except Invalid as exc:
        errors.update(exc.errors or {"code": [exc.detail]})
    checked = None
    if cover is not None and getattr(cover, "filename", None):
        try:
            checked = files.check_upload(cover, "image")
        except Invalid as exc:
            errors["cover"] = exc.errors.get("file", [exc.detail])
    if errors:
        raise Invalid("Some course fields are not valid.", errors)
    if course is None:
        stored = files.save_checked_upload(checked, actor) if checked is not None else None
        course = Course(**fields, status="draft", version=1, owner_id=actor.id if actor else None)
        course.cover_file = stored
        db.session.add(course)
        db.session.flush()
        record_audit(
            "create",
            "course",
            course.id,
            after=snapshot(read_back(course), AUDIT_FIELDS),
            actor=actor,
        )
        db.session.commit()
        return course
    before = snapshot(course, AUDIT_FIELDS)
    changed = {k: v for k, v in fields.items() if getattr(course, k) != v}
    for key, value in changed.items():
        setattr(course, key, value)
    new_file_id = files.attach_checked_upload(course, "cover_file", checked, actor)
    if new_file_id is not None:
        changed["cover_file_id"] = new_file_id
    if not changed:
        return course
    bump_version_if_published(course)
    course.updated_at = clock.now()
    db.session.flush()
    record_audit(
        "update",
        "course",
        course.id,
        before=before,
        after=snapshot(read_back(course), AUDIT_FIELDS),
        actor=actor,
    )
    db.session.commit()
    return course


def get_catalog_course(course_id: int, include_unpublished: bool = False) -> Course:
    """Return a course with its modules for the detail page; drafts and retired courses are
    hidden unless `include_unpublished`. Raises NotFound.
    """
    from sqlalchemy.orm import selectinload

    from app.learning.models import Module

    course = db.session.scalar(
        select(Course)
        .where(Course.id == course_id)
        .options(selectinload(Course.modules).selectinload(Module.file))
    )
    if course is None or (course.status != "published" and not include_unpublished):
        raise NotFound(f"Course {course_id} does not exist.")
    return course
