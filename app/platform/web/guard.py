"""Refuse, before any view runs, input that no handler can store or answer: NUL bytes and lone
surrogates (PostgreSQL text refuses both, psycopg cannot encode the second), JSON nested past a
sane depth (the parser and every walk over it recurse), and ids past the database's integer
range in a URL (404 on every route, whatever methods it has).

One guard for the path, the query string, form fields and JSON bodies, so no view has to
remember; a refusal is a 400 problem+json under /api and a 400 page elsewhere.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Flask, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import BadRequest, NotFound
from werkzeug.routing import IntegerConverter, ValidationError

from app.platform.inputs import MAX_ID

# The deepest JSON body any endpoint takes is a few levels; 32 leaves room and stays far from
# Python's recursion limit.
MAX_JSON_DEPTH = 32
_UNSAFE = re.compile("[\x00\ud800-\udfff]")


class UnsafeInput(ValueError):
    """Input that is well-formed but cannot be stored or processed (a ValueError, so JSON
    parsing callers that catch malformed bodies catch this too)."""


def unsafe_text(value: str) -> str | None:
    """Why `value` cannot be taken, or None when it can."""
    found = _UNSAFE.search(value)
    if found is None:
        return None
    if found.group() == "\x00":
        return "contains a NUL byte"
    return "contains a lone surrogate (not valid Unicode)"


def check_json(data: Any) -> None:
    """Walk a parsed JSON value without recursion. Raises UnsafeInput for NUL bytes or lone
    surrogates in any key or string, and for nesting deeper than MAX_JSON_DEPTH."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            reason = unsafe_text(node)
            if reason:
                raise UnsafeInput(f"A JSON string {reason}.")
            continue
        if isinstance(node, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                raise UnsafeInput(f"JSON nested deeper than {MAX_JSON_DEPTH} levels.")
            if isinstance(node, dict):
                for key, value in node.items():
                    stack.append((key, depth))
                    stack.append((value, depth + 1))
            else:
                stack.extend((value, depth + 1) for value in node)


def parse_json(text: str | bytes) -> Any:
    """json.loads that never raises anything but ValueError: RecursionError (thousands of
    nested brackets) and unsafe strings become UnsafeInput."""
    try:
        data = json.loads(text)
    except RecursionError:
        raise UnsafeInput(f"JSON nested deeper than {MAX_JSON_DEPTH} levels.") from None
    check_json(data)
    return data


class GuardedJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider with parse_json's checks on every `loads` (request.get_json too)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        if kwargs:
            return super().loads(s, **kwargs)
        return parse_json(s)


class BoundedIntConverter(IntegerConverter):
    """`<int:...>` limited to the database's integer range. A larger id names nothing, so it
    is a 404; werkzeug's own refusal (ValidationError) would become a 405 when the path has a
    rule for another method."""

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False):  # noqa: A002
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)

    def to_python(self, value: str) -> Any:
        try:
            return super().to_python(value)
        except (ValidationError, ValueError):
            raise NotFound() from None


def _refuse(where: str, reason: str):
    raise BadRequest(f"The {where} {reason}.")


def guard_request() -> None:
    """Refuse a request whose path, query, form or JSON body carries unsafe input."""
    reason = unsafe_text(request.path)
    if reason:
        _refuse("URL path", reason)
    for key, value in request.args.items(multi=True):
        reason = unsafe_text(key) or unsafe_text(value)
        if reason:
            _refuse(f"query parameter {key.encode('unicode_escape').decode()!r}", reason)
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for key, value in request.form.items(multi=True):
            reason = unsafe_text(key) or unsafe_text(value)
            if reason:
                _refuse(f"form field {key.encode('unicode_escape').decode()!r}", reason)
    elif request.is_json:
        body = request.get_data(cache=True)
        if body:
            try:
                parse_json(body)
            except UnsafeInput as exc:
                raise BadRequest(f"The JSON body was refused: {exc}") from None
            except ValueError:
                pass  # malformed JSON: the view says what it expected


def init_app(app: Flask) -> None:
    """Install the guard: the JSON provider, the bounded int converter (before any blueprint
    adds a rule) and the before-request check."""
    app.json = GuardedJSONProvider(app)
    app.url_map.converters["int"] = BoundedIntConverter
    app.before_request(guard_request)
