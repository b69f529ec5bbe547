"""The JSON API: both families (/api/training/... and /api/v1/training/...) on one blueprint."""

from __future__ import annotations

from flask import Blueprint, request

from app.services.errors import DomainError

bp = Blueprint("api", __name__)


def json_object() -> dict:
    """Return the request's JSON object body. Raises DomainError (400) for anything else."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise DomainError("Send a JSON object with Content-Type: application/json.")
    return data


@bp.after_request
def json_only(response):
    # Bodyless answers (204, Flask's automatic OPTIONS) must not claim to be HTML.
    if request.method == "OPTIONS" and response.status_code == 200 and not response.data:
        response.status_code = 204
    if response.status_code == 204:
        response.headers.pop("Content-Type", None)
    return response


from app.api import certifications, courses, openapi, users  # noqa: E402,F401  (register routes)
