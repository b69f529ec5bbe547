"""The JSON API: both families (/api/training/... and /api/v1/training/...) on one blueprint."""

from flask import Blueprint

bp = Blueprint("api", __name__)

from app.api import courses  # noqa: E402,F401  (routes register on bp)
