"""The OpenAPI document is public, well-formed and matches the URL map exactly."""

from __future__ import annotations

import re

IGNORED = {"HEAD", "OPTIONS"}


def _openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[^<>:]+:)?([^<>:]+)>", r"{\1}", rule)


def test_document_matches_url_map(app, client):
    doc = client.get("/api/openapi.json").get_json()
    documented = {
        (path, method.upper())
        for path, item in doc["paths"].items()
        for method in item
        if method in {"get", "put", "post", "delete", "patch"}
    }
    served = {
        (_openapi_path(rule.rule), method)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/")
        for method in rule.methods - IGNORED
    }
    assert documented == served


def test_document_is_public_and_describes_auth_and_schemas(client):
    resp = client.get("/api/openapi.json")
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    doc = resp.get_json()
    assert doc["openapi"].startswith("3.1")
    assert doc["components"]["securitySchemes"]["bearerAuth"] == {
        **doc["components"]["securitySchemes"]["bearerAuth"],
        "type": "http",
        "scheme": "bearer",
    }
    schemas = doc["components"]["schemas"]
    assert {"Course", "Problem", "CoursePage", "CourseDetail"} <= set(schemas)
    assert set(schemas["Problem"]["required"]) == {"type", "title", "status"}


def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_every_ref_resolves(client):
    doc = client.get("/api/openapi.json").get_json()
    refs = list(_refs(doc))
    assert len(refs) > 5
    for ref in refs:
        assert ref.startswith("#/")
        node = doc
        for part in ref[2:].split("/"):
            node = node[part]


def test_documented_course_fields_match_the_api(client, app):
    from app.learning.api.courses import course_json
    from tests.learning.factories import CourseFactory

    doc = client.get("/api/openapi.json").get_json()
    assert set(doc["components"]["schemas"]["Course"]["properties"]) == set(
        course_json(CourseFactory())
    )


def test_every_post_takes_an_idempotency_key_and_every_operation_may_be_rate_limited(client):
    doc = client.get("/api/openapi.json").get_json()
    key = doc["components"]["parameters"]["IdempotencyKey"]
    assert (key["name"], key["in"], key["required"]) == ("Idempotency-Key", "header", False)
    ref = {"$ref": "#/components/parameters/IdempotencyKey"}
    posts = 0
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method not in {"get", "put", "post", "delete", "patch"}:
                continue
            if path not in ("/api/openapi.json", "/api/docs"):  # the reference is not limited
                assert "Retry-After" in op["responses"]["429"]["headers"], (method, path)
            if method == "post":
                posts += 1
                assert op["parameters"].count(ref) == 1, path
                assert {"409", "422"} <= set(op["responses"]), path
            else:
                assert ref not in op.get("parameters", []), (method, path)
    assert posts >= 10
