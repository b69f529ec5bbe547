"""How the audit trail and signatures read to a person: a label for each kind of record and for
each stored field, and the names behind ids ("Course GMP-101 Good Manufacturing Practice"
instead of "course_id 10").

The trail stores raw values; names are resolved when a page or export shows them, in bulk: one
query per kind of record on the page, never one per row. Kinds that live above the audit domain
(courses, enrollments, documents ...) are registered by the domain that knows them, at import
time, with `register_kind`; the audit domain registers people's kinds itself.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from app.audit.models import SIGNATURE_MEANINGS
from app.extensions import db
from app.people.models import Department, JobRole, Team, User
from app.platform.inputs import as_id

Names = Callable[[list[int]], dict[int, str]]


@dataclass(frozen=True)
class Kind:
    """A kind of record: its label and how to name many of them at once."""

    label: str
    names: Names | None = None
    # How a signature on such a record cites it, when that differs from its name.
    citations: Names | None = None


_KINDS: dict[str, Kind] = {}
# Audit/signature entity -> the kind of record it is about (sop_enrollment is an enrollment).
_ENTITY_KIND: dict[str, str] = {}
# Field -> (label, kind of the id it holds or None). Unlisted fields are labelled from their name.
_FIELDS: dict[str, tuple[str, str | None]] = {}
# Fields only the raw values show (hashes and internal ids a reader cannot use).
_RAW_ONLY: set[str] = set()


def register_kind(name: str, label: str, names: Names | None = None, citations=None) -> None:
    """Declare a kind of record (also an audit entity of that name)."""
    _KINDS[name] = Kind(label, names, citations)


def register_entity(entity: str, kind: str) -> None:
    """Say that audit/signature rows about `entity` are about a record of `kind`."""
    _ENTITY_KIND[entity] = kind


def register_field(name: str, label: str, kind: str | None = None, raw_only=False) -> None:
    """Label a stored field, and name the kind of record its id (or list of ids) points to;
    `raw_only` leaves it out of the readable changes (the raw values still have it)."""
    _FIELDS[name] = (label, kind)
    if raw_only:
        _RAW_ONLY.add(name)


# --- reading fields and values -------------------------------------------------------------

_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
# Fields whose id is a person's under another name.
_PERSON_FIELDS = re.compile(r"^(.*_by|owner|manager|signer|requested_by|decided_by|actor)_id$")


def field_label(name: str) -> str:
    """ "anchor_date" -> "Anchor date"; registered fields keep their own label."""
    if name in _FIELDS:
        return _FIELDS[name][0]
    kind = field_kind(name)
    if kind is not None and name.endswith("_id"):
        stem = name[: -len("_id")]
        if kind in _KINDS and stem == kind:
            return _KINDS[kind].label
    text = re.sub(r"_ids?$", "", name).replace("_", " ").strip()
    return text[:1].upper() + text[1:] if text else name


def field_kind(name: str) -> str | None:
    """The kind of record an id field points to, if known."""
    if name in _FIELDS:
        return _FIELDS[name][1]
    if _PERSON_FIELDS.match(name):
        return "user"
    for suffix in ("_ids", "_id"):
        if name.endswith(suffix) and name[: -len(suffix)] in _KINDS:
            return name[: -len(suffix)]
    return None


def _ids(value: Any) -> list[int]:
    values = value if isinstance(value, list) else [value]
    out = []
    for v in values:
        number = as_id(v)
        if number is not None:
            out.append(number)
    return out


def plain(value: Any) -> str:
    """A stored value as a person reads it: yes/no, dates in words-free ISO, UTC times named."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        if _ISO_MOMENT.match(value):
            try:
                moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                return value
            return moment.strftime("%Y-%m-%d %H:%M UTC")
        return value
    if isinstance(value, list):
        return ", ".join(plain(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{field_label(k)}: {plain(v)}" for k, v in sorted(value.items()))
    return str(value)


# --- resolving names in bulk ---------------------------------------------------------------


@dataclass
class Resolver:
    """Collects the ids a page needs named, then names them with one query per kind."""

    wanted: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    cited: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    names: dict[str, dict[int, str]] = field(default_factory=dict)
    citations: dict[str, dict[int, str]] = field(default_factory=dict)

    def want(self, kind: str | None, value: Any) -> None:
        if kind in _KINDS and _KINDS[kind].names is not None:
            self.wanted[kind].update(_ids(value))

    def want_citation(self, entity: str, entity_id: Any) -> None:
        kind = entity_kind(entity)
        if kind in _KINDS and (_KINDS[kind].citations or _KINDS[kind].names):
            self.cited[kind].update(_ids(entity_id))

    def resolve(self) -> Resolver:
        for kind, ids in self.wanted.items():
            if ids:
                self.names[kind] = _KINDS[kind].names(sorted(ids))
        for kind, ids in self.cited.items():
            fn = _KINDS[kind].citations or _KINDS[kind].names
            if not ids:
                continue
            if fn is _KINDS[kind].names and kind in self.names:
                missing = sorted(i for i in ids if i not in self.names[kind])
                found = dict(self.names[kind])
                if missing:
                    found.update(fn(missing))
                self.citations[kind] = found
            else:
                self.citations[kind] = fn(sorted(ids))
        return self

    def name(self, kind: str | None, value: Any) -> str | None:
        """The name of a record (None: unknown kind, or the record is gone)."""
        ids = _ids(value)
        if kind not in self.names or len(ids) != 1:
            return None
        return self.names[kind].get(ids[0])

    def show(self, field_name: str, value: Any) -> str:
        """A field's value with ids replaced by names ("#12" for a record that is gone)."""
        if field_name == "meaning" and value in SIGNATURE_MEANINGS:
            return SIGNATURE_MEANINGS[value]
        kind = field_kind(field_name)
        ids = _ids(value)
        if kind in self.names and ids and not isinstance(value, bool):
            known = self.names[kind]
            return ", ".join(known.get(i, f"#{i}") for i in ids)
        return plain(value)

    def cite(self, entity: str, entity_id: Any) -> str | None:
        kind = entity_kind(entity)
        ids = _ids(entity_id)
        if kind not in self.citations or not ids:
            return None
        return self.citations[kind].get(ids[0])


def entity_kind(entity: str) -> str:
    return _ENTITY_KIND.get(entity, entity)


def entity_label(entity: str) -> str:
    kind = _KINDS.get(entity_kind(entity))
    if kind is not None:
        return kind.label
    return field_label(entity)


# --- what a row says -----------------------------------------------------------------------


@dataclass(frozen=True)
class FieldChange:
    """One field of a row, labelled and named: what it was and what it became."""

    field: str
    label: str
    before: str | None  # None: the field was not in the before-image
    after: str | None  # None: not in the after-image


@dataclass(frozen=True)
class Summary:
    """How one audit row reads: the record it is about, named, and its labelled changes."""

    entity_label: str
    entity_name: str | None
    changes: list[FieldChange]
    # By what means the change was made, readably ("API token #12"), and the person it was made
    # for when not the actor ("Mia Manager"); "" and None when the row does not say.
    means: str = ""
    on_behalf_of: str | None = None

    @property
    def record(self) -> str:
        return f"{self.entity_label} {self.entity_name}" if self.entity_name else self.entity_label

    def text(self) -> str:
        """One line for the CSV export."""
        parts = []
        for c in self.changes:
            if c.before is not None and c.after is not None:
                parts.append(f"{c.label}: {c.before} → {c.after}")
            else:
                parts.append(f"{c.label}: {c.after if c.after is not None else c.before}")
        return f"{self.record}" + (f" — {'; '.join(parts)}" if parts else "")


def means_label(means: str | None) -> str:
    """ "token:12" -> "API token #12": how an audit row's means reads to a person."""
    kind, _, detail = (means or "").partition(":")
    if kind == "session":
        return "browser session"
    if kind == "token" and detail:
        return f"API token #{detail}"
    if kind == "job" and detail:
        return f"background job {detail}"
    if kind == "cli" and detail:
        return f"command line (flask {detail})"
    return means or ""


def changed_fields(before: Any, after: Any) -> list[str]:
    """Fields that differ (a create lists every field, a delete every old value)."""
    before, after = before or {}, after or {}
    if not isinstance(before, dict) or not isinstance(after, dict):
        return []
    return [
        n
        for n in sorted(set(before) | set(after))
        if before.get(n) != after.get(n) or n not in before or n not in after
    ]


def _empty_on_one_side(name: str, before: dict, after: dict) -> bool:
    """An empty field of a created or deleted record says nothing (the raw values keep it)."""
    if name in before and name in after:
        return False
    value = after.get(name) if name in after else before.get(name)
    return value is None or value == "" or value == []


def summarise(rows: Iterable[Any]) -> list[Summary]:
    """Summaries of audit rows (anything with entity, entity_id, before, after), in order, with
    one query per kind of record the rows name."""
    rows = list(rows)
    resolver = Resolver()
    for r in rows:
        kind = entity_kind(r.entity)
        resolver.want(kind, r.entity_id)
        resolver.want("user", getattr(r, "on_behalf_of_id", None))
        for image in (r.before, r.after):
            if isinstance(image, dict):
                for name, value in image.items():
                    resolver.want(field_kind(name), value)
    resolver.resolve()
    out = []
    for r in rows:
        before = r.before if isinstance(r.before, dict) else {}
        after = r.after if isinstance(r.after, dict) else {}
        changes = [
            FieldChange(
                n,
                field_label(n),
                resolver.show(n, before.get(n)) if n in before else None,
                resolver.show(n, after.get(n)) if n in after else None,
            )
            for n in changed_fields(r.before, r.after)
            if n not in _RAW_ONLY and not _empty_on_one_side(n, before, after)
        ]
        name = resolver.name(entity_kind(r.entity), r.entity_id)
        behalf = getattr(r, "on_behalf_of_id", None)
        for_whom = None
        if behalf is not None:
            for_whom = resolver.name("user", behalf) or f"person #{behalf}"
        means = means_label(getattr(r, "means", None))
        out.append(Summary(entity_label(r.entity), name, changes, means, for_whom))
    return out


def citations(pairs: Iterable[tuple[str, Any]]) -> dict[tuple[str, str], str]:
    """(entity, entity_id) -> how a signature cites that record ("SOP-QA-001 version 2"), for
    the records whose kind knows; one query per kind."""
    pairs = [(e, str(i)) for e, i in pairs]
    resolver = Resolver()
    for entity, entity_id in pairs:
        resolver.want_citation(entity, entity_id)
    resolver.resolve()
    out = {}
    for entity, entity_id in pairs:
        cited = resolver.cite(entity, entity_id)
        out[(entity, entity_id)] = cited or f"{entity_label(entity)} #{entity_id}"
    return out


# --- people's kinds (the audit domain sits above people) -----------------------------------


def _people(ids: list[int]) -> dict[int, str]:
    return dict(db.session.execute(select(User.id, User.name).where(User.id.in_(ids))).all())


def _named(model) -> Names:
    def names(ids: list[int]) -> dict[int, str]:
        return dict(db.session.execute(select(model.id, model.name).where(model.id.in_(ids))).all())

    return names


register_kind("user", "Person", _people)
register_kind("department", "Department", _named(Department))
register_kind("team", "Team", _named(Team))
register_kind("job_role", "Job role", _named(JobRole))
register_entity("user_role", "user")
register_field("user_id", "Person", "user")
register_field("actor_id", "By", "user")
register_field("signature_id", "Signature", raw_only=True)
register_field("content_hash", "Content hash (SHA-256)", raw_only=True)
register_field("checksum", "Checksum (SHA-256)")
