"""People and organisation: users, access roles, departments, teams, job roles, and their
authentication state (login sessions, API tokens, login attempts)."""

from __future__ import annotations

from datetime import date, datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, Date, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, query_expression, relationship

from app.extensions import db
from app.platform import clock
from app.platform.db import UTCDateTime

ROLES = ("admin", "hr", "qa", "trainer", "manager", "employee", "seller")
# A user row is a person, or a service account: a system integration that calls the API with
# its own tokens, never signs in, e-signs or trains.
USER_KINDS = ("person", "service")
NOT_A_PERSON = "A service account cannot sign in, e-sign or take training."
RISK_LEVELS = ("low", "medium", "high")
SELLER_TIERS = ("bronze", "silver", "gold", "platinum")


class Department(db.Model):
    __tablename__ = "departments"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    site: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    teams: Mapped[list[Team]] = relationship(back_populates="department", order_by="Team.name")


class Team(db.Model):
    __tablename__ = "teams"
    __table_args__ = (UniqueConstraint("department_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    department: Mapped[Department] = relationship(back_populates="teams")


class JobRole(db.Model):
    __tablename__ = "job_roles"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    risk_level: Mapped[str] = mapped_column(String(10), default="low")
    description: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class UserRole(db.Model):
    """An access-role grant; the role names are the fixed set in ROLES."""

    __tablename__ = "user_roles"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), primary_key=True)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        Index("ix_users_name", "name"),
        Index("ix_users_active", "active"),
        # A department's people in name order (training matrix, people lists) without a scan
        # of everyone through ix_users_name.
        Index("ix_users_department_name", "department_id", "name", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    hire_date: Mapped[date | None] = mapped_column(Date)
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    job_role_id: Mapped[int | None] = mapped_column(ForeignKey("job_roles.id"), index=True)
    locale: Mapped[str] = mapped_column(String(10), default="en")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when an admin chooses the password; the person must pick their own at next sign-in.
    must_change_password: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Bumped when the password changes (own change or admin reset): a login session started
    # under an older epoch is over (app.people.auth.load_session_user compares them).
    session_epoch: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    kind: Mapped[str] = mapped_column(String(10), default="person", server_default="person")

    manager: Mapped[User | None] = relationship(remote_side=[id])
    department: Mapped[Department | None] = relationship()
    team: Mapped[Team | None] = relationship()
    job_role: Mapped[JobRole | None] = relationship()
    role_grants: Mapped[list[UserRole]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )
    # A marketplace seller's shop and terms; None for everyone else.
    seller_profile: Mapped[SellerProfile | None] = relationship(
        back_populates="user", cascade="all, delete-orphan", uselist=False
    )
    # Unread notifications, filled in by the per-request session load (the nav bell) so that
    # every page makes one round trip for the person; None wherever the user was loaded
    # otherwise.
    unread_notifications: Mapped[int | None] = query_expression()
    # The session_epoch read together with the password hash that sign-in checked (not a
    # column): the login session starts under it, so a reset in between ends it at once.
    password_checked_epoch = None

    @property
    def is_active(self) -> bool:  # Flask-Login reads this
        return bool(self.active)

    @property
    def roles(self) -> set[str]:
        return {grant.role for grant in self.role_grants}

    @property
    def is_service_account(self) -> bool:
        return self.kind == "service"

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))


class SellerProfile(db.Model):
    """What makes a person a marketplace seller: their shop and seller tier. The marketplace
    domain hangs its gates, KPIs and privileges off this, not off the User row."""

    __tablename__ = "seller_profiles"
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    shop_name: Mapped[str | None] = mapped_column(String(200))
    tier: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    user: Mapped[User] = relationship(back_populates="seller_profile")


# --- authentication state: server-side login sessions, API tokens, login attempts ---------

TOKEN_SCOPES = ("read", "write", "admin")


class LoginSession(db.Model):
    """One browser login; revoking the row ends that cookie wherever it was copied."""

    __tablename__ = "login_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The user's session_epoch when this session began (read with the password it checked).
    epoch: Mapped[int] = mapped_column(default=0, server_default=text("0"))


class ApiToken(db.Model):
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[str] = mapped_column(String(100))  # space-separated
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user = relationship("User", foreign_keys=[user_id])

    @property
    def scope_set(self) -> set[str]:
        return set(self.scopes.split())


class LoginAttempt(db.Model):
    """Every login try; failures feed the per-account and per-address rate limits."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_email_at", "email", "at"),
        Index("ix_login_attempts_ip_at", "ip", "at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    ip: Mapped[str | None] = mapped_column(String(64))
    success: Mapped[bool] = mapped_column(default=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class LoginThrottle(db.Model):
    """Failed passwords of one episode for one key, seen by every process: `kind` "account"
    (subject: the email tried), "address" (the client address) or "known" (an account tried
    from an address it has signed in from before: "email address"). The wait after the
    latest failure grows with `failures` (app.people.auth); a success or a quiet day ends
    the episode."""

    __tablename__ = "login_throttles"
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    subject: Mapped[str] = mapped_column(String(330), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime)
