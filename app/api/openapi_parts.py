"""Building blocks for the OpenAPI fragments each API area module declares."""

from __future__ import annotations


def problem(description: str) -> dict:
    """A problem+json response."""
    return {
        "description": description,
        "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        },
    }


def json_response(schema: str, description: str) -> dict:
    """A JSON response whose body is the named component schema."""
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


def query_param(name: str, schema: dict, description: str) -> dict:
    """An optional query parameter."""
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


# An id in a path or a query: PostgreSQL's integer range (routes refuse larger numbers).
ID = {"type": "integer", "minimum": 0, "maximum": 2147483647}
DATE_TIME_OR_NULL = {"type": ["string", "null"], "format": "date-time"}


def path_id(name: str, schema: dict = ID) -> dict:
    """The id path parameter of an item route."""
    return {"name": name, "in": "path", "required": True, "schema": schema}


def auth_errors(forbidden: str = "Role or token scope does not allow this.") -> dict:
    """The 401 and 403 answers every API operation may give."""
    return {
        "401": problem("No valid token and no session."),
        "403": problem(forbidden),
    }


def paging_params() -> list[dict]:
    """`page` and `per_page` of a paginated list."""
    return [
        query_param(
            "page",
            {"type": "integer", "minimum": 1, "maximum": 2147483647, "default": 1},
            "Page number; past 2147483647 is a 422.",
        ),
        query_param(
            "per_page",
            {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
            "Page size; larger values are clamped to 100.",
        ),
    ]


def paging_errors() -> dict:
    """The answers to a bad `page`/`per_page` (or unsafe text in any query parameter)."""
    return {
        "400": problem("A query parameter carries a NUL byte or a lone surrogate."),
        "422": problem("`page` or `per_page` is not a whole number in range."),
    }


def page_response(schema: str, description: str) -> dict:
    """The 200 of a paginated list: the page schema and the `Link` header."""
    return {
        **json_response(schema, description),
        "headers": {"Link": {"schema": {"type": "string"}}},
    }


def page_schema(item_schema: str) -> dict:
    """A page of `item_schema` objects with its position in the list."""
    return {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": {"$ref": f"#/components/schemas/{item_schema}"}},
            "page": {"type": "integer"},
            "per_page": {"type": "integer"},
            "total": {"type": "integer"},
            "pages": {"type": "integer"},
        },
        "required": ["items", "page", "per_page", "total", "pages"],
    }
