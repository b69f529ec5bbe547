"""Register the Flask CLI commands (each lives in app/commands/)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from app.commands import compliance, demo, scale, tokens

    for module in (compliance, demo, scale, tokens):
        module.register(app)
