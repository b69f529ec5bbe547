"""Password rules: a minimum length and a check against a bundled list of breached passwords.

One function decides, for every place a password is chosen (admin pages, the API, a person's
own change), so the rules cannot drift apart.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from flask import current_app

_LIST = Path(__file__).resolve().parent.parent / "data" / "common-passwords.txt"
MAX_LENGTH = 200


@cache
def breached() -> frozenset[str]:
    lines = _LIST.read_text(encoding="utf-8").splitlines()
    return frozenset(x.strip() for x in lines if x.strip() and not x.startswith("#"))


def password_problems(password: str, *, email: str | None = None) -> list[str]:
    """What is wrong with a new password (empty when it may be used)."""
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if not minimum <= len(password) <= MAX_LENGTH:
        return [f"Between {minimum} and {MAX_LENGTH} characters."]
    lowered = password.lower()
    if lowered in breached() or len(set(lowered)) <= 2:
        return ["This password is too common (it appears in lists of breached passwords)."]
    name = (email or "").split("@")[0].lower()
    if len(name) >= 4 and name in lowered:
        return ["Do not build the password from your email address."]
    return []
