"""/api/docs: the readable API reference, built from the same document as /api/openapi.json."""

from __future__ import annotations

import html
import re

from tests.conftest import Auth
from tests.people.factories import UserFactory

METHODS = ("get", "put", "post", "delete", "patch")


def _operations(body: str) -> set[tuple[str, str]]:
    found = re.findall(
        r'<span class="method method-\w+">(\w+)</span> <code class="path">([^<]+)</code>', body
    )
    return {(method, html.unescape(path)) for method, path in found}


def test_every_operation_of_the_document_is_on_the_page(client):
    doc = client.get("/api/openapi.json").get_json()
    resp = client.get("/api/docs")  # public, like the document
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    body = resp.get_data(as_text=True)
    documented = {
        (method.upper(), path)
        for path, item in doc["paths"].items()
        for method in item
        if method in METHODS
    }
    assert len(documented) > 30
    assert _operations(body) == documented
    for name in doc["components"]["schemas"]:
        assert f'id="schema-{name}"' in body, name


def test_an_operation_reads_with_its_parameters_bodies_and_who_may_call_it(client):
    body = client.get("/api/docs").get_data(as_text=True)
    op = body.split('id="op-listSessions"', 1)[1].split("</article>", 1)[0]
    assert "Sessions by start time" in op
    assert "<code>per_page</code>" in op and "query" in op and "default 20" in op
    assert "session.view (every role)" in op and "<code>read</code>" in op
    assert '<a href="#schema-SessionPage">SessionPage</a>' in op
    create = body.split('id="op-createSession"', 1)[1].split("</article>", 1)[0]
    assert "Request body" in create and "session.manage (admin, hr, trainer)" in create
    assert "<code>write</code>" in create
    spec = body.split('id="op-getOpenApi"', 1)[1].split("</article>", 1)[0]
    assert "Anyone, without signing in" in spec and "none needed" in spec


def test_the_page_needs_nothing_from_another_site(client):
    body = client.get("/api/docs").get_data(as_text=True)
    assert not re.search(r'<(?:script|link)[^>]+(?:src|href)="(?:https?:)?//', body)
    assert 'href="/api/openapi.json"' in body


def test_the_footer_and_the_tokens_page_link_to_it(app, client):
    assert 'href="/api/docs"' in client.get("/login").get_data(as_text=True)
    Auth(client).login(UserFactory(roles=["admin"]))
    assert 'href="/api/docs"' in client.get("/admin/tokens/").get_data(as_text=True)


def test_the_page_explains_idempotency_keys_and_rate_limits(client):
    body = client.get("/api/docs").get_data(as_text=True)
    assert 'id="idempotency"' in body and 'id="rate-limits"' in body
    assert "<code>100000/minute</code>" in body  # the configured limit (the tests' own)
    op = body.split('id="op-createCourse"', 1)[1].split("</article>", 1)[0]
    assert "<code>Idempotency-Key</code>" in op and '<td data-label="In">header</td>' in op
