"""Certificates: issue exactly once per completion, render the PDF, verify publicly."""

from __future__ import annotations

import base64
import calendar
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import current_app, has_request_context, url_for
from sqlalchemy import or_, select, update
from sqlalchemy.orm import selectinload

from app.audit.signatures import check_signer, sign, signed_content
from app.extensions import db
from app.learning.events import certificate_issued, certificate_revoked
from app.learning.models import Certification, Course, Enrollment
from app.people.models import User
from app.people.permissions import can
from app.people.sod import require_distinct
from app.platform import clock
from app.platform.audit import read_back, record_audit, snapshot
from app.platform.errors import Conflict, Forbidden, Invalid, NotFound
from app.platform.files import StoredFile
from app.platform.inputs import as_id
from app.platform.pagination import Page, paginate
from app.platform.sql import upsert
from app.platform.timefmt import iso_utc
from app.platform.web.urls import path_for, public_url

CERT_AUDIT = [
    "user_id",
    "course_id",
    "enrollment_id",
    "number",
    "verification_code",
    "issued_at",
    "expires_at",
    "revoked_at",
    "course_version",
    "score",
    "issued_by_id",
    "approval_status",
    "decided_by_id",
    "decided_at",
    "decision_note",
]
# A certificate whose expiry is this close counts as "expiring".
EXPIRING_WITHIN = timedelta(days=30)
# Roles that see every certificate (besides the owner and the owner's manager).
VIEW_ALL_ROLES = frozenset({"admin", "hr", "qa", "trainer"})
REASON_MAX = 2000
# A back-dated manual certificate's decisions: the form's word -> the approval status.
DECISIONS = {"approve": "approved", "reject": "rejected"}
# Every status a certificate can show (certificate_status).
CERTIFICATE_STATUSES = ("active", "expiring", "expired", "revoked", "pending_approval", "rejected")
# Approval statuses under which a certificate is not valid (its status says so instead).
NOT_VALID = {"pending": "pending_approval", "rejected": "rejected"}


# --- helpers -----------------------------------------------------------------------------


def add_months(moment: datetime, months: int) -> datetime:
    """Add calendar months, clamping the day (31 Jan + 1 month = 28/29 Feb)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def _code(message: str) -> str:
    """A keyed, unguessable verification code: base32 of an HMAC of `message`."""
    key = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(key, message.encode(), hashlib.sha256).digest()[:10]
    return base64.b32encode(digest).decode()


def verification_code_for_enrollment(enrollment_id: int) -> str:
    return _code(f"cert:{enrollment_id}")


def certificate_number(enrollment_id: int, issued_at: datetime) -> str:
    return f"CAD-{issued_at.year}-{enrollment_id:07d}"


def verification_url(code: str) -> str:
    """The public verify link; built from config so jobs (no request) make the same URL."""
    return public_url(path_for("certificates.verify", code=code))


def verification_link(code: str) -> str:
    """The verify link to show on a page: the request's own host unless PUBLIC_BASE_URL is set."""
    if has_request_context() and not current_app.config.get("PUBLIC_BASE_URL"):
        return url_for("certificates.verify", code=code, _external=True)
    return verification_url(code)


def pdf_key(cert: Certification) -> str:
    return f"certificates/{cert.number}.pdf"


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


# --- issuing -----------------------------------------------------------------------------


def _validity_start(enrollment: Enrollment, issued_at: datetime) -> datetime:
    """A renewal done early counts from the previous expiry, so it never shortens the cycle."""
    anchor = enrollment.anchor_date
    if anchor is not None and anchor > issued_at.date():
        return issued_at.replace(year=anchor.year, month=anchor.month, day=anchor.day)
    return issued_at


def issue_certificate_for_enrollment(enrollment_id: int) -> Certification | None:
    """Issue (exactly once) the certificate of a completed enrollment and render its PDF.

    Safe under any number of concurrent calls: the UNIQUE(enrollment_id) constraint decides the
    winner, and number, code and storage key are derived from the enrollment, so every racer
    computes the same values. Returns None when the enrollment is not completed.
    """
    enrollment = db.session.get(Enrollment, enrollment_id)
    if enrollment is None or enrollment.status != "completed":
        return None
    course = enrollment.course
    issued_at = _aware(enrollment.completed_at) or _aware(enrollment.created_at) or clock.now()
    values: dict[str, Any] = {
        "user_id": enrollment.user_id,
        "course_id": enrollment.course_id,
        "enrollment_id": enrollment.id,
        "number": certificate_number(enrollment.id, issued_at),
        "verification_code": verification_code_for_enrollment(enrollment.id),
        "issued_at": issued_at,
        "expires_at": add_months(_validity_start(enrollment, issued_at), course.validity_months)
        if course.validity_months
        else None,
        "course_version": course.version,
        "score": enrollment.score,
    }
    stmt = (
        upsert(Certification)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["enrollment_id"])
    )
    # RETURNING gives a row only to the insert's winner (rowcount is -1 on psycopg here).
    won = db.session.execute(stmt.returning(Certification.id)).first() is not None
    cert = db.session.scalar(
        select(Certification).where(Certification.enrollment_id == enrollment_id)
    )
    if won:
        record_audit(
            "create",
            "certification",
            cert.id,
            after=snapshot(read_back(cert), CERT_AUDIT),
            reason="course completed",
        )
        _publish(certificate_issued, cert)
    db.session.commit()
    ensure_certificate_pdf(cert.id)
    return db.session.get(Certification, cert.id)


def ensure_certificate_pdf(cert_id: int) -> StoredFile | None:
    """Render and store the certificate PDF unless it already has one; race-safe.

    The storage key is derived from the number and the rendering is byte-for-byte
    deterministic. The file row is insert-or-get by its unique key: only the insert's winner
    writes the bytes, before its commit, so the losers (blocked on the key until then) find
    row and object both in place. file_id is attached only while it is still NULL.
    """
    from app.learning.certificate_pdf import render_certificate_pdf
    from app.platform.storage import get_storage

    cert = _load(cert_id)
    if cert is None or cert.approval_status in NOT_VALID:
        return None
    if cert.file_id is not None:
        return cert.file
    data = render_certificate_pdf(cert, verification_url(cert.verification_code))
    key = pdf_key(cert)
    stmt = (
        upsert(StoredFile)
        .values(
            key=key,
            filename=f"{cert.number}.pdf",
            content_type="application/pdf",
            size=len(data),
            checksum=hashlib.sha256(data).hexdigest(),
            created_at=clock.now(),
        )
        .on_conflict_do_nothing(index_elements=["key"])
    )
    won = db.session.execute(stmt.returning(StoredFile.id)).first() is not None
    stored = db.session.scalar(select(StoredFile).where(StoredFile.key == key))
    storage = get_storage()
    if won:
        storage.put(key, data, "application/pdf")
        record_audit(
            "create",
            "file",
            stored.id,
            after=snapshot(
                read_back(stored),
                ["key", "filename", "content_type", "size", "checksum", "uploaded_by_id"],
            ),
            reason=f"certificate {cert.number}",
        )
    elif not storage.exists(key):
        # The row outlived its object (e.g. storage restored from an older backup): write again.
        storage.put(key, data, "application/pdf")
    db.session.execute(
        update(Certification)
        .where(Certification.id == cert.id, Certification.file_id.is_(None))
        .values(file_id=stored.id)
    )
    db.session.commit()
    return stored


def _load(cert_id: int) -> Certification | None:
    return db.session.scalar(
        select(Certification)
        .where(Certification.id == cert_id)
        .options(
            selectinload(Certification.user),
            selectinload(Certification.course),
            selectinload(Certification.file),
            selectinload(Certification.enrollment),
            selectinload(Certification.issued_by),
            selectinload(Certification.decided_by),
        )
        .execution_options(populate_existing=True)
    )


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**31


def _reason(errors: dict, reason: Any) -> str:
    text = reason.strip() if isinstance(reason, str) else ""
    if not text:
        errors["reason"] = ["Give a reason; it is kept in the audit trail."]
    elif len(text) > REASON_MAX:
        errors["reason"] = [f"At most {REASON_MAX} characters."]
    return text


def backdate_limit() -> date:
    """The earliest issue date a manual certificate may have without QA's approval."""
    return clock.today() - timedelta(days=current_app.config.get("CERTIFICATE_BACKDATE_DAYS", 30))


def issue_certificate_manual(
    user_id: int,
    course_id: int,
    actor: User | None,
    reason: str,
    issued_at: datetime | None = None,
    expires_at: datetime | None = None,
    password: str | None = None,
) -> Certification:
    """Issue a certificate by hand (trainer, HR, admin), not tied to an enrollment, signed
    electronically by the issuer, never to the issuer themself. One dated before the
    back-dating window (CERTIFICATE_BACKDATE_DAYS) is "pending" approval by QA: not valid, no
    PDF and no "issued" event until approved.

    Raises Forbidden (role; SelfApproval: to oneself), Invalid (unknown person or course,
    missing reason, bad dates, signature password), RateLimited (must wait).
    """
    if actor is None or not can(actor, "certificate.issue"):
        raise Forbidden("Only trainers, HR and admins issue certificates by hand.")
    require_distinct(
        user_id,
        actor,
        "nobody issues a certificate to themselves; another trainer, HR person or admin must"
        " issue it.",
    )
    errors: dict[str, list[str]] = {}
    user = db.session.get(User, user_id) if _is_id(user_id) else None
    if user is None or not user.active:
        errors["user_id"] = ["No active person with this id."]
    course = db.session.get(Course, course_id) if _is_id(course_id) else None
    if course is None:
        errors["course_id"] = ["No course with this id."]
    text = _reason(errors, reason)
    now = clock.now()
    issued = _aware(issued_at) or now
    if issued > now + timedelta(minutes=5):
        errors["issued_at"] = ["The issue date cannot be in the future."]
    elif issued.year < 1900:
        errors["issued_at"] = ["Not before 1900."]
    expires = _aware(expires_at)
    if expires is None and course is not None and course.validity_months:
        expires = add_months(issued, course.validity_months)
    if expires is not None and expires <= issued:
        errors["expires_at"] = ["The expiry must come after the issue date."]
    if errors:
        raise Invalid("Some certificate fields are not valid.", errors)
    check_signer(actor, password)
    pending = issued.date() < backdate_limit()
    cert = Certification(
        user_id=user.id,
        course_id=course.id,
        enrollment_id=None,
        # Placeholders until the id is known; both are replaced before the commit.
        number=f"TMP-{secrets.token_hex(8)}",
        verification_code=f"TMP-{secrets.token_hex(8)}",
        issued_at=issued,
        expires_at=expires,
        course_version=course.version,
        issued_by_id=actor.id,
        reason=text,
        approval_status="pending" if pending else None,
    )
    db.session.add(cert)
    db.session.flush()
    cert.number = f"CAD-M-{cert.id:07d}"
    cert.verification_code = _code(f"cert:manual:{cert.id}")
    db.session.flush()
    record_audit(
        "create",
        "certification",
        cert.id,
        after=snapshot(read_back(cert), CERT_AUDIT),
        reason=text,
        actor=actor,
    )
    sign(
        signer=actor,
        password=None,
        checked=True,
        meaning="issued",
        entity="certification",
        entity_id=cert.id,
        statement=f"I issue certificate {cert.number} for {course.title} to {user.name}.",
        reason=text,
    )
    if not pending:
        _publish(certificate_issued, cert)
    db.session.commit()
    if not pending:
        ensure_certificate_pdf(cert.id)
    return _load(cert.id)


def decide_certificate(
    cert_id: int, decision: str, note: Any, actor: User | None, password: str | None
) -> Certification:
    """QA approves (signed "approved") or rejects (signed "reviewed", a note required) a
    back-dated manual certificate pending approval; neither its issuer nor its recipient may.
    An approved one becomes valid: its PDF is rendered and "issued" is announced.

    Raises Forbidden (not QA; SelfApproval: the issuer or the recipient), NotFound, Conflict
    (not pending), Invalid (decision, note, password), RateLimited (locked out).
    """
    if actor is None or not can(actor, "certificate.approve"):
        raise Forbidden("Only QA approves back-dated certificates.")
    cert = get_certificate(cert_id)
    require_distinct(
        cert.issued_by_id,
        actor,
        f"you issued certificate {cert.number}; another QA person must decide it.",
    )
    yours = f"certificate {cert.number} is yours; another QA person must decide it."
    require_distinct(cert.user_id, actor, yours)
    if cert.approval_status != "pending":
        state = cert.approval_status or "valid without approval"
        raise Conflict(f"Certificate {cert.number} is not pending approval ({state}).")
    errors: dict[str, list[str]] = {}
    if decision not in DECISIONS:
        errors["decision"] = ["approve or reject"]
    text = note.strip() if isinstance(note, str) else ""
    if decision == "reject" and not text:
        errors["note"] = ["Required when rejecting: say why."]
    elif len(text) > REASON_MAX:
        errors["note"] = [f"At most {REASON_MAX} characters."]
    if errors:
        raise Invalid("Some decision fields are not valid.", errors)
    approve = decision == "approve"
    verb = "approve" if approve else "reject"
    # Sign before changing anything: a wrong password commits only the failed attempt.
    sign(
        signer=actor,
        password=password,
        meaning="approved" if approve else "reviewed",
        entity="certification",
        entity_id=cert.id,
        statement=(
            f"I {verb} certificate {cert.number} for {cert.course.title} to {cert.user.name},"
            f" issued by hand and dated {_aware(cert.issued_at).date().isoformat()}."
        ),
        reason=text or None,
    )
    before = snapshot(cert, CERT_AUDIT)
    cert.approval_status = DECISIONS[decision]
    cert.decided_by_id = actor.id
    cert.decided_at = clock.now()
    cert.decision_note = text or None
    record_audit(
        verb,
        "certification",
        cert.id,
        before=before,
        after=snapshot(read_back(cert), CERT_AUDIT),
        reason=text or None,
        actor=actor,
    )
    if approve:
        _publish(certificate_issued, cert)
    db.session.commit()
    if approve:
        ensure_certificate_pdf(cert.id)
    return _load(cert.id)


def pending_certificates(page: int = 1, per_page: int = 20) -> Page:
    """Manual certificates waiting for QA's decision, oldest request first."""
    query = (
        select(Certification)
        .where(Certification.approval_status == "pending")
        .options(
            selectinload(Certification.user),
            selectinload(Certification.course),
            selectinload(Certification.issued_by),
        )
        .order_by(Certification.id)
    )
    return paginate(query, page, per_page)


# What an issuer's signature covers: the certificate as issued (revocation comes later and is a
# separate, audited act, so it does not invalidate the issue signature).
SIGNED_FIELDS = ["id", "number", "user_id", "course_id", "issued_at", "expires_at", "reason"]


@signed_content("certification")
def _signed(cert_id: str) -> dict | None:
    cert = db.session.get(Certification, as_id(cert_id)) if as_id(cert_id) else None
    if cert is None:
        return None
    out = snapshot(cert, SIGNED_FIELDS)
    for key in ("issued_at", "expires_at"):  # one spelling whatever the database returns
        value = _aware(getattr(cert, key))
        out[key] = value.isoformat() if value else None
    return out


def revoke_certificate(cert_id: int, actor: User | None, reason: str) -> Certification:
    """Revoke a certificate (admin, HR, QA), with a reason kept in the audit trail.

    Raises Forbidden, NotFound, Invalid (no reason), Conflict (already revoked).
    """
    if actor is None or not can(actor, "certificate.revoke"):
        raise Forbidden("Only admins, HR and QA revoke certificates.")
    cert = get_certificate(cert_id)
    errors: dict[str, list[str]] = {}
    text = _reason(errors, reason)
    if errors:
        raise Invalid("Give a reason for revoking.", errors)
    if cert.revoked_at is not None:
        raise Conflict("This certificate is already revoked.")
    before = snapshot(cert, CERT_AUDIT)
    cert.revoked_at = clock.now()
    record_audit(
        "update",
        "certification",
        cert.id,
        before=before,
        after=snapshot(read_back(cert), CERT_AUDIT),
        reason=text,
        actor=actor,
    )
    _publish(certificate_revoked, cert)
    db.session.commit()
    return cert


def _publish(event, cert: Certification) -> None:
    event.publish(certificate_id=cert.id, user_id=cert.user_id, course_id=cert.course_id)


# --- reading -----------------------------------------------------------------------------


def certificate_status(cert: Certification, now: datetime | None = None) -> str:
    """Derive "revoked", "rejected", "pending_approval", "expired", "expiring" (within 30
    days) or "active"."""
    return status_from_dates(cert.revoked_at, cert.expires_at, now, cert.approval_status)


def status_from_dates(
    revoked_at: datetime | None,
    expires_at: datetime | None,
    now: datetime | None = None,
    approval_status: str | None = None,
) -> str:
    """The one rule for a certificate's status, for rows read without the model too."""
    now = now or clock.now()
    if revoked_at is not None:
        return "revoked"
    if approval_status in NOT_VALID:
        return NOT_VALID[approval_status]
    expires = _aware(expires_at)
    if expires is None:
        return "active"
    if expires <= now:
        return "expired"
    if expires - now <= EXPIRING_WITHIN:
        return "expiring"
    return "active"


@dataclass(frozen=True)
class Issuance:
    """How a certificate came to be, as the verify page, the detail page and the API say it.

    kind: "completion" (a course completed in Cadre), "manual" (issued by hand) or "imported"
    (brought in from a previous system). approval: None (none needed), "pending", "approved"
    or "rejected", with the QA person who decided it and when they signed.
    """

    kind: str
    on: datetime
    course_title: str
    issued_by: str | None = None
    reason: str | None = None
    approval: str | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_note: str | None = None

    @property
    def summary(self) -> str:
        day = _aware(self.on).date().isoformat()
        if self.kind == "completion":
            text = f"On completing {self.course_title} on {day}"
        elif self.kind == "imported":
            text = f"Imported from a previous training record system, dated {day}"
        else:
            text = f"Issued manually by {self.issued_by or 'an unknown person'} on {day}"
            if self.reason:
                text += f", reason: {self.reason}"
        if self.approval == "approved" and self.decided_at is not None:
            signed = _aware(self.decided_at).date().isoformat()
            text += f"; approved by {self.decided_by} (e-signed {signed})"
        elif self.approval == "pending":
            text += "; back-dated, awaiting QA approval"
        elif self.approval == "rejected":
            text += f"; rejected by {self.decided_by}"
            if self.decision_note:
                text += f": {self.decision_note}"
        return text + "."

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "on": iso_utc(self.on),
            "issued_by": self.issued_by,
            "reason": self.reason,
            "approval": self.approval,
            "decided_by": self.decided_by,
            "decided_at": iso_utc(self.decided_at),
            "decision_note": self.decision_note,
            "summary": self.summary,
        }


def certificate_issuance(cert: Certification) -> Issuance:
    """How `cert` was issued (its enrollment, issuer and decider are loaded as needed)."""
    enrollment = cert.enrollment
    if enrollment is not None and enrollment.source != "import":
        on = _aware(enrollment.completed_at) or _aware(cert.issued_at)
        return Issuance("completion", on, cert.course.title)
    if enrollment is not None or cert.issued_by_id is None:
        return Issuance("imported", _aware(cert.issued_at), cert.course.title)
    return Issuance(
        "manual",
        _aware(cert.issued_at),
        cert.course.title,
        issued_by=cert.issued_by.name,
        reason=cert.reason,
        approval=cert.approval_status,
        decided_by=cert.decided_by.name if cert.decided_by is not None else None,
        decided_at=_aware(cert.decided_at),
        decision_note=cert.decision_note,
    )


def get_certificate(cert_id: int) -> Certification:
    """Return a certificate with its person, course and file. Raises NotFound."""
    cert = _load(cert_id)
    if cert is None:
        raise NotFound(f"Certificate {cert_id} does not exist.")
    return cert


def can_view_certificate(viewer: User | None, cert: Certification) -> bool:
    """Owner, the owner's manager, and HR/QA/admin/trainer may see a certificate."""
    if viewer is None or not getattr(viewer, "is_authenticated", False):
        return False
    if viewer.id == cert.user_id or viewer.roles & VIEW_ALL_ROLES:
        return True
    return cert.user is not None and cert.user.manager_id == viewer.id


def get_viewable_certificate(cert_id: int, viewer: User | None) -> Certification:
    """Return a certificate the viewer may see. Raises NotFound, Forbidden."""
    cert = get_certificate(cert_id)
    if not can_view_certificate(viewer, cert):
        raise Forbidden("You may not see this certificate.")
    return cert


def list_user_certificates(user_id: int) -> list[Certification]:
    """A person's certificates, newest first, with their courses loaded."""
    return list(
        db.session.scalars(
            select(Certification)
            .where(Certification.user_id == user_id)
            .options(selectinload(Certification.course))
            .order_by(Certification.issued_at.desc(), Certification.id.desc())
        )
    )


def search_certificates(q: str = "", page: int = 1, per_page: int = 20) -> Page:
    """All certificates (newest first) matching a person, email, number or course code."""
    query = (
        select(Certification)
        .join(User, User.id == Certification.user_id)
        .join(Course, Course.id == Certification.course_id)
        .options(selectinload(Certification.user), selectinload(Certification.course))
        .order_by(Certification.issued_at.desc(), Certification.id.desc())
    )
    q = (q or "").strip()[:100]
    if q:
        like = f"%{q}%"
        query = query.where(
            or_(
                User.name.ilike(like),
                User.email.ilike(like),
                Certification.number.ilike(like),
                Course.code.ilike(like),
                Course.title.ilike(like),
            )
        )
    return paginate(query, page, per_page)


def issuable_courses() -> list[tuple[int, str]]:
    """(id, label) of every course that is not a draft, for the manual-issue form."""
    rows = db.session.execute(
        select(Course.id, Course.code, Course.title)
        .where(Course.status != "draft")
        .order_by(Course.title)
    )
    return [(r.id, f"{r.title} ({r.code})") for r in rows]


def find_person(email: str) -> User:
    """Return the active person with this email. Raises Invalid (key "person")."""
    from app.people.users import find_user_by_email

    user = find_user_by_email(email or "")
    if user is None or not user.active:
        raise Invalid("Unknown person.", {"person": ["No active person has this email."]})
    return user


@dataclass(frozen=True)
class Verification:
    """What the public verify page may show: nothing beyond these facts."""

    name: str
    course_title: str
    course_code: str
    number: str
    issued_at: datetime
    expires_at: datetime | None
    status: str
    issuance: Issuance


def verify_certificate(code: str) -> Verification | None:
    """Look up a certificate by its public verification code; None when unknown."""
    code = (code or "").strip().upper()
    if not code or len(code) > 40 or code.startswith("TMP-"):
        return None
    cert = db.session.scalar(
        select(Certification)
        .where(Certification.verification_code == code)
        .options(
            selectinload(Certification.user),
            selectinload(Certification.course),
            selectinload(Certification.enrollment),
            selectinload(Certification.issued_by),
            selectinload(Certification.decided_by),
        )
    )
    if cert is None:
        return None
    return Verification(
        name=cert.user.name,
        course_title=cert.course.title,
        course_code=cert.course.code,
        number=cert.number,
        issued_at=cert.issued_at,
        expires_at=cert.expires_at,
        status=certificate_status(cert),
        issuance=certificate_issuance(cert),
    )
