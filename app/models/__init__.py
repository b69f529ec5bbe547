"""Import every model module so SQLAlchemy and Alembic see all tables."""

from app.models.compliance import (
    CompetencyRequirement,
    CompetencySubstitute,
    ComplianceSnapshot,
    ComplianceStatus,
    ComplianceStatusState,
    Curriculum,
    CurriculumCourse,
    TrainingAssignment,
    Waiver,
)
from app.models.courses import Course, Module, QuizQuestion
from app.models.gxp import (
    ControlledDocument,
    DocumentAudience,
    DocumentVersion,
    ESignature,
    InspectionExport,
    ValidationReport,
)
from app.models.notifications import CalendarFeed, Notification, NotificationPreference
from app.models.people import Department, JobRole, Team, User, UserRole
from app.models.records import Certification, Enrollment, Progress, Result
from app.models.security import ApiToken, LoginAttempt, LoginSession
from app.models.sessions import (
    SessionInstructor,
    SessionRegistration,
    SessionSeries,
    TrainingSession,
)
from app.platform.audit import AuditLog
from app.platform.files import StoredFile

__all__ = [
    "TrainingSession",
    "SessionSeries",
    "SessionRegistration",
    "SessionInstructor",
    "NotificationPreference",
    "Notification",
    "CalendarFeed",
    "ValidationReport",
    "InspectionExport",
    "ESignature",
    "DocumentVersion",
    "DocumentAudience",
    "ControlledDocument",
    "ApiToken",
    "AuditLog",
    "Certification",
    "CompetencyRequirement",
    "CompetencySubstitute",
    "ComplianceSnapshot",
    "ComplianceStatus",
    "ComplianceStatusState",
    "Course",
    "Curriculum",
    "CurriculumCourse",
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
    "TrainingAssignment",
    "User",
    "UserRole",
    "Waiver",
]
