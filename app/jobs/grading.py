"""Grading jobs: auto-grade submitted quiz attempts (idempotent, safe to retry)."""

from __future__ import annotations

import os

from app.platform.jobs import job


@job("grading.grade_quiz_attempt", queue="grading")
def grade_quiz_attempt(result_id: int) -> bool:
    """Grade one submitted quiz attempt; a second delivery changes nothing."""
    from app.services.quizzes import grade_attempt

    # Tests only: hold the claimed, uncommitted grade this many seconds so a worker can be
    # killed mid-grading. Unset (0) everywhere else.
    hold = float(os.environ.get("CADRE_TEST_GRADING_DELAY") or 0)
    return grade_attempt(result_id, hold_seconds=hold)
