"""The employee training record page, its PDF and CSV: every section, access, bounded queries."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest

from app.extensions import db
from app.gxp.employee_record import SIGNATURES_NONE, employee_record
from app.learning.models import Enrollment
from app.platform import clock
from tests.gxp.records.conftest import completed, pdf_text
from tests.learning.factories import CourseFactory
from tests.people.factories import UserFactory


def _page(client, user_id) -> str:
    resp = client.get(f"/people/{user_id}/record")
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


def _section(body: str, section_id: str) -> str:
    m = re.search(rf'<section[^>]*id="{section_id}".*?</section>', body, re.S)
    assert m, f"no section {section_id}"
    return m.group(0)


def test_record_page_shows_every_section(client, auth, history):
    auth.login(history.hr)
    body = _page(client, history.person.id)

    person = _section(body, "person")
    for text in (
        "Ada Lovelace",
        "ada.lovelace@example.com",
        "Sterile Manufacturing",
        "Filling Line 2",
        "Aseptic Operator",
        "badge-high",
        "Margaret Manager",
        "2020-02-03",
        "active",
    ):
        assert text in person, text

    compliance = _section(body, "compliance")
    assert "GMP-101" in compliance and "badge-compliant" in compliance
    assert "CLN-7" in compliance and "badge-waived" in compliance
    assert "Job role: Aseptic Operator" in compliance

    enrollments = _section(body, "enrollments")
    assert enrollments.count("Good Manufacturing Practice") == 2  # both cycles
    assert f'id="enrollment-{history.cycle1.id}"' in enrollments
    assert f'id="enrollment-{history.cycle2.id}"' in enrollments
    assert "95%" in enrollments and "81%" in enrollments
    assert f"/certificates/{history.active.id}" in enrollments

    results = _section(body, "results")
    assert "GMP final quiz" in results and "9 / 10" in results and "passed" in results

    certificates = _section(body, "certificates")
    assert history.active.number in certificates and history.revoked.number in certificates
    assert "badge-active" in certificates and "badge-revoked" in certificates
    assert "Issued against the wrong SOP version" in certificates
    assert "Quentin QA" in certificates
    assert f'href="/certificates/{history.revoked.id}"' in certificates

    waivers = _section(body, "waivers")
    assert "Trained at previous employer" in waivers and "badge-approved" in waivers
    assert "Harriet HR" in waivers and "Quentin QA" in waivers and "Evidence on file" in waivers

    assignments = _section(body, "assignments")
    assert "GMP-101 Good Manufacturing Practice" in assignments
    assert "new requirement" in assignments and "2020-03-04" in assignments

    assert SIGNATURES_NONE in _section(body, "signatures")
    record = employee_record(history.person.id)
    assert record.checksum in body
    assert f"/people/{history.person.id}/record.pdf" in body
    assert f"/people/{history.person.id}/record.csv" in body


def test_me_record_redirects_to_my_record(client, auth, history):
    auth.login(history.person)
    resp = client.get("/me/record")
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith(f"/people/{history.person.id}/record")
    assert "Ada Lovelace" in _page(client, history.person.id)


def _active_nav(body: str) -> list[str]:
    nav = body.split('<nav class="nav"', 1)[1].split("</nav>", 1)[0]
    return re.findall(r'class="active">([^<]+)</a>', nav)


def test_the_menu_marks_my_record_only_on_my_own(client, auth, history):
    auth.login(history.person)
    assert _active_nav(_page(client, history.person.id)) == ["My record"]
    auth.logout()
    auth.login(history.hr)
    assert _active_nav(_page(client, history.person.id)) == ["Compliance dashboard"]


@pytest.mark.parametrize(
    ("who", "status"),
    [("self", 200), ("manager", 200), ("hr", 200), ("qa", 200), ("peer", 403), ("admin", 200)],
)
def test_who_may_read_a_record(client, auth, history, who, status):
    viewer = {
        "self": history.person,
        "manager": history.manager,
        "hr": history.hr,
        "qa": history.qa,
        "peer": UserFactory(roles=["employee"]),
        "admin": UserFactory(roles=["admin"]),
    }[who]
    auth.login(viewer)
    pid = history.person.id
    for path in (f"/people/{pid}/record", f"/people/{pid}/record.pdf", f"/people/{pid}/record.csv"):
        resp = client.get(path)
        assert resp.status_code == status, path
        if status == 403:
            assert "Ada Lovelace" not in resp.get_data(as_text=True)


def test_a_manager_of_someone_else_and_a_trainer_are_refused(client, auth, history):
    for viewer in (UserFactory(roles=["manager"]), UserFactory(roles=["trainer"])):
        auth.login(viewer)
        assert client.get(f"/people/{history.person.id}/record").status_code == 403
        auth.logout()


def test_unknown_person_is_404_for_hr_and_403_for_others(client, auth, history):
    auth.login(history.hr)
    assert client.get("/people/999999/record").status_code == 404
    auth.logout()
    auth.login(history.person)
    assert client.get("/people/999999/record").status_code == 403


def test_record_needs_login(client, history):
    resp = client.get(f"/people/{history.person.id}/record")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_pdf_download(client, auth, history, tmp_path):
    auth.login(history.manager)
    resp = client.get(f"/people/{history.person.id}/record.pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    stamp = clock.now().strftime("%Y%m%d")
    disposition = resp.headers["Content-Disposition"]
    assert f'filename="training-record-ada.lovelace-{stamp}.pdf"' in disposition
    assert resp.data.startswith(b"%PDF")
    text = pdf_text(resp.data, tmp_path)
    record = employee_record(history.person.id)
    assert "Ada Lovelace" in text and "ada.lovelace@example.com" in text
    assert "Good Manufacturing Practice" in text and "GMP final quiz" in text
    assert history.revoked.number in text and history.active.number in text
    assert "Trained at previous employer" in text
    assert record.checksum in text
    assert "page 1 of " in text
    assert SIGNATURES_NONE in text


def test_pdf_of_a_long_history_continues_across_pages(client, auth, history, tmp_path):
    for i in range(60):
        completed(history.person, CourseFactory(title=f"Extra course {i:02d}"), 30 + i, 1, 70)
    auth.login(history.hr)
    text = pdf_text(client.get(f"/people/{history.person.id}/record.pdf").data, tmp_path)
    pages = text.split("\f")
    total = int(re.search(r"page 1 of (\d+)", text).group(1))
    assert total >= 2
    assert f"page {total} of {total}" in text
    # The header (person and checksum) repeats on every page; every enrollment is there.
    record = employee_record(history.person.id)
    assert all(record.checksum in p for p in pages if p.strip())
    assert all(f"Extra course {i:02d}" in text for i in range(60))


def test_csv_download(client, auth, history):
    auth.login(history.person)
    resp = client.get(f"/people/{history.person.id}/record.csv")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    stamp = clock.now().strftime("%Y%m%d")
    assert f"training-record-ada.lovelace-{stamp}.csv" in resp.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True))))
    by_section: dict[str, list[dict]] = {}
    for row in rows:
        by_section.setdefault(row["section"], []).append(row)
    assert set(by_section) == {
        "record",
        "person",
        "compliance",
        "enrollment",
        "result",
        "certificate",
        "waiver",
        "assignment",
        "signature",
    }
    meta = {r["field"]: r["value"] for r in by_section["record"]}
    assert meta["checksum_sha256"] == employee_record(history.person.id).checksum
    person = {r["field"]: r["value"] for r in by_section["person"]}
    assert person["email"] == "ada.lovelace@example.com" and person["team"] == "Filling Line 2"
    cycles = sorted(
        (r["cycle"], r["status"], r["score"])
        for r in by_section["enrollment"]
        if r["course_code"] == "GMP-101"
    )
    assert cycles == [("1", "completed", "81.0"), ("2", "completed", "95.0")]
    certs = {r["certificate_number"]: r for r in by_section["certificate"]}
    assert certs[history.revoked.number]["status"] == "revoked"
    assert certs[history.revoked.number]["reason"] == "Issued against the wrong SOP version"
    assert certs[history.active.number]["status"] == "active"
    (result,) = by_section["result"]
    assert (result["module"], result["score"], result["max_score"], result["passed"]) == (
        "GMP final quiz",
        "9.0",
        "10.0",
        "yes",
    )
    (waiver,) = by_section["waiver"]
    assert waiver["status"] == "approved" and waiver["decided_by"] == "Quentin QA"
    (assignment,) = by_section["assignment"]
    assert assignment["reason"] == "new requirement" and assignment["due_date"] == "2020-03-04"
    assert by_section["signature"][0]["value"] == SIGNATURES_NONE
    statuses = {r["requirement"].split()[0]: r["status"] for r in by_section["compliance"]}
    assert statuses == {"GMP-101": "compliant", "CLN-7": "waived"}


def test_csv_neutralises_formulas(client, auth, history):
    history.waiver.reason = '=HYPERLINK("http://evil")'
    db.session.commit()
    auth.login(history.hr)
    body = client.get(f"/people/{history.person.id}/record.csv").get_data(as_text=True)
    assert "'=HYPERLINK" in body
    assert ",=HYPERLINK" not in body


def test_checksum_follows_the_data_not_the_moment(history):
    first = employee_record(history.person.id)
    again = employee_record(history.person.id, now=first.generated_at + timedelta(minutes=5))
    assert again.checksum == first.checksum and len(first.checksum) == 64
    enrollment = db.session.get(Enrollment, history.cycle2.id)
    enrollment.score = 96
    db.session.commit()
    assert employee_record(history.person.id).checksum != first.checksum


def test_deactivated_person_keeps_their_history(client, auth, history):
    history.person.active = False
    history.person.deactivated_at = clock.now()
    db.session.commit()
    auth.login(history.hr)
    body = _page(client, history.person.id)
    assert "deactivated" in _section(body, "person")
    assert "no requirement applies any more" in _section(body, "compliance")
    assert history.active.number in _section(body, "certificates")


def test_page_queries_do_not_grow_with_the_history(client, auth, history, count_queries):
    auth.login(history.hr)
    pid = history.person.id
    _page(client, pid)  # warm up
    with count_queries() as small:
        _page(client, pid)
    for i in range(15):
        extra = completed(history.person, CourseFactory(), 40 + i, 1, 88)
        completed(history.person, extra.course, 10 + i, 2, 91)
    with count_queries() as large:
        body = _page(client, pid)
    assert body.count('id="enrollment-') == 32
    assert len(large) == len(small)
    assert len(large) <= 15
