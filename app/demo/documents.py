"""Demo controlled documents: two SOPs with read-and-understand training and its signatures.

Part of `flask seed-demo` (in its transaction); skipped for an SOP whose number exists. The
picking SOP has a second, significant version with a "what changed" note, so the demo
employee (a fulfillment associate) meets it first in the player. Seed data writes no audit
rows; its signatures hash the same content the services sign.
"""

from __future__ import annotations

import hashlib
import zlib
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select

from app.audit.signatures import sign
from app.extensions import db
from app.gxp import documents as svc
from app.gxp import read_and_understand, retraining, versions
from app.gxp.models import ControlledDocument, DocumentAudience, DocumentVersion
from app.learning.models import Enrollment, Module, Progress, QuizQuestion
from app.people.models import Department, JobRole, User
from app.platform import clock
from app.platform.files import StoredFile
from app.platform.storage import get_storage

DEMO_EMPLOYEE = "ryan.walsh@example.com"  # the employee login printed by seed-demo

# Version 2 keeps the purpose and the first two picking steps of version 1.
_PICKING_OPENING = """SOP-FUL-002 Picking and packing marketplace orders

1. Purpose
Every order leaves complete, undamaged and on time.

2. Picking
2.1 Scan the pick list before the first item.
2.2 Scan every item; a mismatch goes to the exceptions shelf.
"""

PICKING_V1 = (
    _PICKING_OPENING
    + """
3. Packing
3.1 Use the box size the packing screen suggests.
3.2 Fragile items are wrapped twice.
3.3 Seal the box and print the label.

4. Records
Note damaged stock in the shift log.
"""
)

PICKING_V2 = (
    _PICKING_OPENING
    + """\
2.3 Check the best-before date of food items; less than 30 days left goes to the exceptions shelf.

3. Packing
3.1 Use the box size the packing screen suggests.
3.2 Fragile items are wrapped twice and marked FRAGILE on two sides.
3.3 Weigh the sealed box; a weight outside the screen's range is repacked.
3.4 Seal the box and print the label.

4. Records
Note damaged stock and repacked boxes in the shift log.
"""
)

GDP_V1 = """SOP-QA-001 Good documentation practice

1. Purpose
GMP records are attributable, legible, contemporaneous, original and accurate (ALCOA).

2. Writing records
2.1 Record data at the time of the activity, in permanent ink or in the validated system.
2.2 Never use correction fluid; never back-date.

3. Corrections
3.1 Strike through once so the old entry stays legible.
3.2 Add the correct entry, your initials, the date and the reason.

4. Review
A second person reviews batch records before release.
"""

SOPS = [
    {
        "number": "SOP-FUL-002",
        "title": "Picking and packing marketplace orders",
        "description": "How fulfillment associates pick, check and pack every order.",
        "owner": "Oliver Bennett",
        # Segregation of duties (an SOP): author, reviewer and approver are three people.
        "author": "Sophie Brunner",
        "reviewer": "Katrin Vogel",
        "approver": "Lukas Meier",
        "job_roles": ["Fulfillment Associate"],
        "departments": [],
        "due_days": 21,
        "versions": [
            ("1", PICKING_V1, 300, None, None),
            (
                "2",
                PICKING_V2,
                12,
                "significant",
                "New: check best-before dates of food items (2.3), mark fragile boxes on two "
                "sides (3.2) and weigh every sealed box (3.3).",
            ),
        ],
        "completed_share": 30,
    },
    {
        "number": "SOP-QA-001",
        "title": "Good documentation practice",
        "description": "ALCOA principles for every GMP record at the Basel site.",
        "owner": "Katrin Vogel",
        "author": "Katrin Vogel",
        "reviewer": "Sophie Brunner",
        "approver": "Lukas Meier",
        "job_roles": [],
        "departments": ["Quality & Manufacturing"],
        "due_days": 14,
        "versions": [("1", GDP_V1, 60, None, None)],
        "completed_share": 60,
    },
]

QUIZ = {
    "SOP-FUL-002": [
        {
            "kind": "true_false",
            "prompt": "A box whose weight is outside the screen's range may ship if it looks fine.",
            "options": ["True", "False"],
            "answer": {"correct": False},
            "explanation": "It is repacked (3.3).",
            "topic": "packing",
        },
    ],
    "SOP-QA-001": [
        {
            "kind": "single",
            "prompt": "How do you correct a wrong entry in a batch record?",
            "options": ["Correction fluid", "One strike-through, initials, date and reason"],
            "answer": {"correct": [1]},
            "explanation": "The old entry stays legible and the change is attributable (3.1-3.2).",
            "topic": "corrections",
        },
    ],
}


def seed_demo_documents(report) -> None:
    """Add the demo SOPs, their versions and training (in the caller's transaction)."""
    users = {u.name: u for u in db.session.scalars(select(User))}
    roles = {r.name: r for r in db.session.scalars(select(JobRole))}
    depts = {d.name: d for d in db.session.scalars(select(Department))}
    have = set(db.session.scalars(select(ControlledDocument.number)))
    for spec in SOPS:
        if spec["number"] in have or spec["owner"] not in users:
            continue
        _seed_sop(spec, users, roles, depts)
        report.add("controlled documents")


def _store(number: str, label: str, content: str) -> StoredFile:
    data = content.encode()
    checksum = hashlib.sha256(data).hexdigest()
    filename = f"{number}_v{label}.txt"
    key = f"files/{checksum[:2]}/{checksum}/{filename}"
    stored = db.session.scalar(select(StoredFile).where(StoredFile.key == key))
    if stored is None:
        get_storage().put(key, data, "text/plain; charset=utf-8")
        stored = StoredFile(
            key=key,
            filename=filename,
            content_type="text/plain; charset=utf-8",
            size=len(data),
            checksum=checksum,
        )
        db.session.add(stored)
    return stored


def _at(day) -> datetime:
    return datetime.combine(day, time(9, 30), UTC)


def _signature(user: User, meaning: str, entity: str, entity_id, statement: str, content, when):
    """A signature from the demo's history (made `when`), as the pages would have made it."""
    sign(
        signer=user,
        password=None,
        checked=True,
        meaning=meaning,
        entity=entity,
        entity_id=entity_id,
        statement=statement,
        content=content,
        at=when,
    )


def _seed_sop(spec: dict, users, roles, depts) -> None:
    owner, approver = users[spec["owner"]], users[spec["approver"]]
    author, reviewer = users[spec["author"]], users[spec["reviewer"]]
    course = svc.read_and_understand_course(
        spec["number"], spec["title"], spec["description"], owner.id
    )
    sop_module = course.modules[0]
    sop_module.position = 2
    course.modules.insert(
        0,
        Module(
            position=1,
            kind="text",
            title="Why this SOP matters",
            body=f"{spec['description']}\n\nRead the SOP in full, then sign that you have "
            "read and understood it.",
            required=False,
            estimated_minutes=2,
            settings={},
        ),
    )
    quiz = Module(
        position=3,
        kind="quiz",
        title="Check your understanding",
        required=False,
        estimated_minutes=3,
        settings={
            "attempt_limit": None,
            "time_limit_minutes": None,
            "shuffle": False,
            "pool_size": None,
        },
    )
    for n, question in enumerate(QUIZ[spec["number"]], start=1):
        quiz.questions.append(QuizQuestion(position=n, points=1, **question))
    course.modules.append(quiz)
    course.estimated_minutes = 20
    doc = ControlledDocument(
        number=spec["number"],
        title=spec["title"],
        description=spec["description"],
        training_due_days=spec["due_days"],
        owner_id=owner.id,
        created_by_id=author.id,
        course=course,
    )
    for name in spec["job_roles"]:
        doc.audiences.append(DocumentAudience(job_role_id=roles[name].id))
    for name in spec["departments"]:
        doc.audiences.append(DocumentAudience(department_id=depts[name].id))
    db.session.add(doc)
    db.session.flush()

    today = clock.today()
    previous = None
    for label, content, days_ago, change_class, note in spec["versions"]:
        day = today - timedelta(days=days_ago)
        stored = _store(spec["number"], label, content)
        version = DocumentVersion(
            document_id=doc.id,
            version=label,
            status="effective",
            effective_date=day,
            file=stored,
            checksum=stored.checksum,
            text=content.strip(),
            change_class=change_class,
            change_note=note,
            created_by_id=author.id,
            created_at=_at(day - timedelta(days=7)),
            effective_by_id=approver.id,
            made_effective_at=_at(day),
        )
        if change_class:
            version.classified_by_id, version.classified_at = reviewer.id, _at(day - timedelta(5))
        if previous is not None:
            previous.status, previous.superseded_at = "superseded", _at(day)
        db.session.add(version)
        db.session.flush()
        if change_class:
            _signature(
                reviewer,
                "reviewed",
                svc.REVIEW_ENTITY,
                version.id,
                versions.review_statement(version, previous),
                versions.review_content(version, change_class, None, note),
                version.classified_at,
            )
        _signature(
            approver,
            "approved",
            svc.APPROVAL_ENTITY,
            version.id,
            versions.approval_statement(version),
            versions.approval_content(version, day),
            version.made_effective_at,
        )
        db.session.flush()
        # The same set-based assignment the retraining job runs, as of the effective date.
        retraining.assign_missing(_at(day), day, document_ids=[doc.id])
        last = label == spec["versions"][-1][0]
        _history(version, previous, last, spec["completed_share"], sop_module.id)
        previous = version


def _history(version, previous, last: bool, share: int, module_id: int) -> None:
    """Training on a superseded version was done by everyone hired by then (nobody else ever
    had it); of the current version's training, a stable share is done, the rest open."""
    if previous is not None:
        for old in db.session.scalars(
            select(Enrollment).where(
                Enrollment.document_version_id == previous.id,
                Enrollment.status.in_(("assigned", "in_progress")),
            )
        ):
            old.status = "expired"
    rows = db.session.scalars(
        select(Enrollment).where(Enrollment.document_version_id == version.id)
    ).all()
    for e in rows:
        user = db.session.get(User, e.user_id)
        when = _at(version.effective_date + timedelta(days=1 + e.user_id % 5))
        if not last:
            if user.hire_date is not None and user.hire_date > version.effective_date:
                db.session.delete(e)
                continue
        elif zlib.crc32(user.email.encode()) % 100 >= share or user.email == DEMO_EMPLOYEE:
            continue  # still to do (the demo employee signs it in the player)
        e.status, e.started_at, e.completed_at = "completed", when, when
        db.session.add(
            Progress(
                enrollment_id=e.id,
                module_id=module_id,
                status="completed",
                percent=100,
                time_spent_seconds=600,
                completed_at=when,
            )
        )
        _signature(
            user,
            "read_understood",
            svc.READ_ENTITY,
            e.id,
            read_and_understand.read_statement(version),
            read_and_understand.read_content(e, version),
            when,
        )
    db.session.flush()
