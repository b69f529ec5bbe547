"""CLI command module: scale."""

from flask import Flask


def register(app: Flask) -> None:
    pass
