"""Error handlers: problem+json under /api, friendly pages elsewhere; never a 500 for bad input."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.platform.errors import DomainError, RateLimited


def wants_problem() -> bool:
    return request.path.startswith("/api/")


def problem(status: int, title: str, detail: str = "", errors: dict | None = None, **extra):
    """Build an RFC 9457 problem+json response."""
    body = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    body.update(extra)
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def init_app(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        if wants_problem():
            resp = problem(exc.status, exc.title, exc.detail, exc.errors or None)
        else:
            resp = app.make_response(
                (
                    render_template(
                        "error.html", status=exc.status, title=exc.title, detail=exc.detail
                    ),
                    exc.status,
                )
            )
        if isinstance(exc, RateLimited):
            resp.headers["Retry-After"] = str(exc.retry_after)
        return resp

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        if wants_problem():
            return problem(400, "CSRF check failed", exc.description)
        return render_template(
            "error.html",
            status=400,
            title="Form expired",
            detail="The form was missing its security token. Reload the page and try again.",
        ), 400

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if wants_problem():
            resp = problem(exc.code or 500, exc.name, exc.description or "")
        else:
            resp = app.make_response(
                (
                    render_template(
                        "error.html", status=exc.code, title=exc.name, detail=exc.description
                    ),
                    exc.code,
                )
            )
        if exc.code == 405 and hasattr(exc, "valid_methods") and exc.valid_methods:
            resp.headers["Allow"] = ", ".join(exc.valid_methods)
        return resp

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        app.logger.exception("unhandled error")
        from app.extensions import db

        db.session.rollback()
        if wants_problem():
            return problem(500, "Internal Server Error", "Something went wrong on our side.")
        return render_template(
            "error.html", status=500, title="Something went wrong", detail="The error was logged."
        ), 500
