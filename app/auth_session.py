"""Bind Flask-Login to server-side login sessions and the idle timeout."""

from __future__ import annotations

from flask import Flask, session

from app.extensions import login_manager
from app.services import auth


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = None  # our server-side sessions do the real work

    @login_manager.user_loader
    def load_user(user_id: str):
        return auth.load_session_user(user_id, session.get("sid"))

    @app.before_request
    def keep_session_permanent():
        # Permanent sessions expire after PERMANENT_SESSION_LIFETIME of inactivity.
        session.permanent = True
