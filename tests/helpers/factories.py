"""The factory base every domain's factories build on (a committed row each)."""

from __future__ import annotations

from factory.alchemy import SQLAlchemyModelFactory

from app.extensions import db

_PASSWORD_HASHES: dict[str, str] = {}


def password_hash(password: str = "password") -> str:
    """The argon2 hash of `password`, computed once per run."""
    if password not in _PASSWORD_HASHES:
        from app.people.auth import hash_password

        _PASSWORD_HASHES[password] = hash_password(password)
    return _PASSWORD_HASHES[password]


class Base(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "commit"
