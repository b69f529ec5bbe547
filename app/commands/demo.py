"""CLI command module: demo."""

from flask import Flask


def register(app: Flask) -> None:
    pass
