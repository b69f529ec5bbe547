"""Register the Flask CLI commands (each lives in app/commands/)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from app.commands import audit, compliance, demo, notifications, scale, tokens, validation

    for module in (audit, compliance, demo, notifications, scale, tokens, validation):
        module.register(app)
