"""Import every model module so SQLAlchemy and Alembic see all tables."""

from app.models.audit import AuditLog
from app.models.courses import Course, Module, QuizQuestion, StoredFile
from app.models.people import Department, JobRole, Team, User, UserRole
from app.models.records import Enrollment
from app.models.security import ApiToken, LoginAttempt, LoginSession

__all__ = [
    "ApiToken",
    "AuditLog",
    "Course",
    "Department",
    "Enrollment",
    "JobRole",
    "LoginAttempt",
    "LoginSession",
    "Module",
    "QuizQuestion",
    "StoredFile",
    "Team",
    "User",
    "UserRole",
]
