"""Domain errors raised by services and turned into a page, a flash or problem+json at the edge."""

from __future__ import annotations


class DomainError(Exception):
    status = 400
    title = "Bad request"

    def __init__(self, detail: str = "", errors: dict[str, list[str]] | None = None):
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.errors = errors or {}


class Invalid(DomainError):
    status = 422
    title = "Validation failed"


class NotFound(DomainError):
    status = 404
    title = "Not found"


class Forbidden(DomainError):
    status = 403
    title = "Forbidden"


class Conflict(DomainError):
    status = 409
    title = "Conflict"


class RateLimited(DomainError):
    status = 429
    title = "Too many requests"

    def __init__(self, detail: str = "", retry_after: int = 60):
        super().__init__(detail)
        self.retry_after = retry_after
