"""Events of the learning domain (see README, "Architecture": the event catalogue)."""

from __future__ import annotations

from app.platform.events import event

enrollment_completed = event(
    "learning.enrollment_completed",
    "An enrollment became completed (the completion rule met, or attendance signed off)."
    " After commit. Learning's own handler starts the certificate job.",
    ("enrollment_id", "user_id", "course_id"),
)
certificate_issued = event(
    "learning.certificate_issued",
    "A certificate was issued, on a completion or by hand. After commit.",
    ("certificate_id", "user_id", "course_id"),
)
certificate_revoked = event(
    "learning.certificate_revoked",
    "A certificate was revoked. After commit.",
    ("certificate_id", "user_id", "course_id"),
)
obligations_asked = event(
    "learning.obligations_asked",
    "A list of training rows is about to be shown: which open enrollments of these people serve"
    " a requirement, and what its status says. In the transaction; handlers answer"
    " {enrollment_id: Told} (compliance: from the one status derivation).",
    ("on", "user_ids"),
    in_transaction=True,
)
