"""Learning jobs: auto-grade submitted quiz attempts, issue certificates (idempotent, safe to
retry)."""

from __future__ import annotations

from flask import current_app

from app.platform.jobs import job


@job("grading.grade_quiz_attempt", queue="grading")
def grade_quiz_attempt(result_id: int) -> bool:
    """Grade one submitted quiz attempt; a second delivery changes nothing."""
    from app.learning.quizzes import grade_attempt

    hold = current_app.config.get("GRADING_HOLD_SECONDS", 0)  # tests only (see config.py)
    return grade_attempt(result_id, hold_seconds=hold)


@job("certificates.issue_for_enrollment")
def issue_for_enrollment(enrollment_id: int) -> int | None:
    """Issue (exactly once) the certificate of a completed enrollment and render its PDF."""
    from app.learning.certificates import issue_certificate_for_enrollment

    cert = issue_certificate_for_enrollment(enrollment_id)
    return cert.id if cert else None
