"""The JSON API shell: one blueprint for both families (/api/training/... and /api/v1/...),
authentication, idempotency keys, rate limits, problem+json, paging and the OpenAPI document.
Each domain adds its endpoints (its api module) before init_app registers the blueprint."""

from __future__ import annotations

from flask import Blueprint, request, url_for

from app.api import docs, idempotency, openapi
from app.platform.errors import DomainError

bp = Blueprint("api", __name__)


def json_object() -> dict:
    """Return the request's JSON object body. Raises DomainError (400) for anything else."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise DomainError("Send a JSON object with Content-Type: application/json.")
    return data


def link_header(page) -> str:
    """RFC 8288 Link header (first/prev/next/last) for a paginated list, keeping the filters."""
    args = {**request.args.to_dict(), "per_page": page.per_page}

    def link(number: int, rel: str) -> str:
        url = url_for(
            request.endpoint,
            _external=True,
            **(request.view_args or {}),
            **{**args, "page": number},
        )
        return f'<{url}>; rel="{rel}"'

    links = [link(1, "first")]
    if page.page > 1:
        links.append(link(min(page.page - 1, page.pages), "prev"))
    if page.page < page.pages:
        links.append(link(page.page + 1, "next"))
    links.append(link(page.pages, "last"))
    return ", ".join(links)


def page_body(page, items: list, **extra) -> tuple[dict, int, dict]:
    """The answer to a paginated list: `extra` fields, the items, where the page stands, and
    the Link header."""
    body = {
        **extra,
        "items": items,
        "page": page.page,
        "per_page": page.per_page,
        "total": page.total,
        "pages": page.pages,
    }
    return body, 200, {"Link": link_header(page)}


# Registered first, so it runs last: it stores the answer as the client receives it.
bp.after_request(idempotency.finish)
bp.teardown_request(idempotency.release_unfinished)


@bp.after_request
def json_only(response):
    # Bodyless answers (204, Flask's automatic OPTIONS) must not claim to be HTML.
    if request.method == "OPTIONS" and response.status_code == 200 and not response.data:
        response.status_code = 204
    if response.status_code == 204:
        response.headers.pop("Content-Type", None)
    return response


bp.add_url_rule("/openapi.json", view_func=openapi.openapi_document, methods=["GET"])
bp.add_url_rule("/docs", view_func=docs.docs, methods=["GET"])


def init_app(app) -> None:
    """Register the API blueprint once every domain has added its endpoints to it."""
    from app.api import jobs, limits  # noqa: F401  (jobs: registers them)
    from app.extensions import csrf

    app.register_blueprint(bp, url_prefix="/api")
    csrf.exempt(bp)  # the API checks CSRF itself for cookie-authenticated writes
    limits.init_app(app, bp)
