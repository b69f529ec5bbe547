"""Export cells that stay inert in a spreadsheet, one charset per text response, and the file
download's CSP that only relaxes frame-ancestors (issue 16, "Smaller")."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from werkzeug.datastructures import Headers

from app.platform.csv_export import neutralise, neutralise_text, to_csv
from app.platform.security import one_charset
from app.platform.storage import LocalStorage
from tests.people.factories import UserFactory

FULL_WIDTH = ["\uff1d1+2", "\uff0b1", "\uff0d1", "\uff20SUM(A1)"]


@pytest.mark.parametrize("cell", ["=1+2", "+1", "-1", "@SUM(A1)", "\tx", "\rx", *FULL_WIDTH])
def test_every_formula_starter_is_neutralised(cell):
    assert neutralise(cell) == "'" + cell
    assert list(csv.reader(io.StringIO(to_csv(["h"], [[cell]]))))[1] == ["'" + cell]


def test_typed_cells_keep_their_type_and_plain_text_stays():
    assert neutralise_text(-5) == -5
    assert neutralise_text(date(2026, 1, 2)) == date(2026, 1, 2)
    assert neutralise_text("=A1") == "'=A1"
    assert neutralise_text("Ｇ plain") == "Ｇ plain"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("text/csv; charset=utf-8; charset=utf-8", "text/csv; charset=utf-8"),
        ("text/plain", "text/plain; charset=utf-8"),
        ("text/calendar; method=PUBLISH", "text/calendar; method=PUBLISH; charset=utf-8"),
        ("text/html; charset=utf-8", "text/html; charset=utf-8"),
        ("application/pdf", "application/pdf"),
        ("application/problem+json", "application/problem+json"),
    ],
)
def test_one_charset(given, expected):
    headers = Headers({"Content-Type": given})
    one_charset(headers)
    assert headers["Content-Type"] == expected


@pytest.mark.parametrize(
    "url", ["/audit/export.csv", "/home", "/api/openapi.json", "/people/{id}/record.csv"]
)
def test_responses_carry_at_most_one_charset(client, auth, url):
    admin = UserFactory(roles=["admin"])
    auth.login(admin)
    resp = client.get(url.format(id=admin.id))
    assert resp.status_code == 200
    content_type = resp.headers["Content-Type"]
    assert content_type.count("charset") == (1 if content_type.startswith("text/") else 0)


def test_a_file_download_keeps_the_whole_csp_and_only_allows_framing_by_ourselves(
    app, client, tmp_path, monkeypatch
):
    store = LocalStorage(str(tmp_path / "files"), app.config["SECRET_KEY"])
    monkeypatch.setitem(app.extensions, "cadre_storage", store)
    store.put("docs/sop.pdf", b"%PDF-1.4 x", "application/pdf")
    resp = client.get(store.url_for_download("docs/sop.pdf", "sop.pdf"))
    assert resp.status_code == 200
    csp = resp.headers["Content-Security-Policy"]
    page_csp = client.get("/login").headers["Content-Security-Policy"]
    assert csp == page_csp.replace("frame-ancestors 'none'", "frame-ancestors 'self'")
    assert "default-src 'self'" in csp and "object-src 'none'" in csp
    assert resp.headers["X-Frame-Options"] == "SAMEORIGIN"
