"""Import every model module so SQLAlchemy and Alembic see all tables."""

from app.models.audit import AuditLog
from app.models.courses import Course, Module, QuizQuestion, StoredFile
from app.models.people import Department, JobRole, Team, User, UserRole
from app.models.records import Certification, Enrollment, Progress, Result
from app.models.security import ApiToken, LoginAttempt, LoginSession

__all__ = [
    "ApiToken",
    "AuditLog",
    "Certification",
    "Course",
    "Department",
    "Enrollment",
    "JobRole",
    "LoginAttempt",
    "LoginSession",
    "Module",
    "Progress",
    "QuizQuestion",
    "Result",
    "StoredFile",
    "Team",
    "User",
    "UserRole",
]
