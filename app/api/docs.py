"""GET /api/docs: the API reference as a plain HTML page, read from the same OpenAPI document
that /api/openapi.json serves (so the two never disagree) plus the URL map's access rules for
who may call each operation and with which token scope."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, render_template
from markupsafe import Markup, escape

from app.api.auth import api_access
from app.api.openapi import DOCUMENT
from app.people.permissions import PERMISSION_SCOPE, PERMISSIONS
from app.platform.web.access import LOGIN, PUBLIC

METHODS = ("get", "post", "put", "patch", "delete")
ROLE_ORDER = ("admin", "hr", "qa", "trainer", "manager", "employee", "seller")


@dataclass
class Operation:
    method: str
    path: str
    anchor: str
    summary: str
    description: str
    parameters: list[dict]
    request_body: list[tuple[str, Any]]  # (media type, schema)
    responses: list[tuple[str, str, list[tuple[str, Any]]]]  # (status, description, bodies)
    access: str  # who may call it, in words
    scope: str | None  # the token scope it needs, None for public


@dataclass
class Group:
    name: str
    anchor: str
    operations: list[Operation] = field(default_factory=list)


def _group_name(path: str, op: dict) -> str:
    """The operation's first tag, else its resource: /api/v1/training/sessions/... -> sessions."""
    if op.get("tags"):
        return op["tags"][0]
    parts = [p for p in path.split("/") if p and not p.startswith("{")]
    for prefix in (["api", "v1", "training"], ["api", "training"], ["api", "v1"], ["api"]):
        if parts[: len(prefix)] == prefix and len(parts) > len(prefix):
            return parts[len(prefix)].split(".")[0]
    return "api"


def inline_code(text: str) -> Markup:
    """Show the document's `code` spans (its descriptions are CommonMark) as <code>; the rest
    is escaped."""
    parts = str(text).split("`")
    return Markup("").join(
        Markup("<code>%s</code>") % part if i % 2 else escape(part) for i, part in enumerate(parts)
    )


def _openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[^<>:]+:)?([^<>:]+)>", r"{\1}", rule)


def _access_rules() -> dict[tuple[str, str], str]:
    """(OpenAPI path, method) -> the access rule its view carries."""
    out = {}
    for rule in current_app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        view = current_app.view_functions[rule.endpoint]
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            out[(_openapi_path(rule.rule), method.lower())] = getattr(view, "access_rule", LOGIN)
    return out


def _who(rule: str) -> tuple[str, str | None]:
    """An access rule in words and the token scope it needs."""
    if rule == PUBLIC:
        return "Anyone, without signing in", None
    if rule == LOGIN:
        return "Anyone signed in", "read"
    roles = [r for r in ROLE_ORDER if r in PERMISSIONS[rule]]
    roles += sorted(PERMISSIONS[rule] - set(ROLE_ORDER))
    who = "every role" if set(roles) >= set(ROLE_ORDER) else ", ".join(roles)
    return f"{rule} ({who})", PERMISSION_SCOPE.get(rule)


def _parameter(param: dict) -> dict:
    """A parameter as written, or the shared one it refers to (`#/components/parameters/...`)."""
    ref = param.get("$ref", "")
    if not ref.startswith("#/components/parameters/"):
        return param
    return DOCUMENT["components"]["parameters"][ref.rsplit("/", 1)[-1]]


def _bodies(content: dict | None) -> list[tuple[str, Any]]:
    return [(media, (spec or {}).get("schema")) for media, spec in (content or {}).items()]


def reference() -> tuple[dict, list[Group], dict]:
    """The document's info, its operations grouped by tag (or resource), and its schemas."""
    rules = _access_rules()
    groups: dict[str, Group] = {}
    for path, item in sorted(DOCUMENT["paths"].items()):
        shared = item.get("parameters", [])
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            name = _group_name(path, op)
            group = groups.setdefault(name, Group(name, f"group-{name}"))
            access, scope = _who(rules.get((path, method), LOGIN))
            body = op.get("requestBody") or {}
            group.operations.append(
                Operation(
                    method=method.upper(),
                    path=path,
                    anchor=op.get("operationId") or f"{method}-{path}",
                    summary=op.get("summary", ""),
                    description=op.get("description", ""),
                    parameters=[_parameter(p) for p in (*shared, *op.get("parameters", []))],
                    request_body=_bodies(body.get("content")),
                    responses=[
                        (status, resp.get("description", ""), _bodies(resp.get("content")))
                        for status, resp in sorted(op.get("responses", {}).items())
                    ],
                    access=access,
                    scope=scope,
                )
            )
    ordered = sorted(groups.values(), key=lambda g: (g.name == "api", g.name))
    return DOCUMENT["info"], ordered, DOCUMENT["components"].get("schemas", {})


@api_access(PUBLIC)
def docs():
    """GET /api/docs: the readable reference (public, like the document it is built from)."""
    info, groups, schemas = reference()
    return render_template(
        "api/docs.html", info=info, groups=groups, schemas=schemas, inline_code=inline_code
    )
