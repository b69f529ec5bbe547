"""Learning: courses and their modules (a registry of module kinds), enrollments, the course
player, quizzes and their grading, assignments, certificates and training records."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the learning domain: pages, API endpoints and jobs."""
    from app.learning import jobs  # noqa: F401  (registers them)
    from app.learning.api import certificates, courses, users  # noqa: F401  (API endpoints)
    from app.learning.web.certificates import bp as certificates_bp
    from app.learning.web.courses import bp as courses_bp
    from app.learning.web.enroll import bp as enroll_bp
    from app.learning.web.player import bp as player_bp

    for bp in (courses_bp, certificates_bp, enroll_bp, player_bp):
        app.register_blueprint(bp)
