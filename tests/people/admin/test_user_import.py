"""CSV import of people: preview, all-or-nothing apply, idempotent re-import."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.people.models import User
from app.people.user_import import apply_user_import, preview_user_import
from app.platform.errors import Invalid
from tests.people.factories import UserFactory

HEADER = "email,name,department,team,job_role,manager_email,hire_date,roles\n"
GOOD = (
    HEADER
    + "boss@example.com,Bea Boss,Quality,QC Lab,QC Analyst,,2020-01-15,manager|employee\n"
    + "Worker@Example.com,Wim Worker,Quality,QC Lab,QC Analyst,boss@example.com,2024-03-01,\n"
    + "picker@example.com,Pia Picker,Operations,Picking,Fulfillment Associate,"
    + "admin@example.com,2023-07-01,employee;seller\n"
)


def _users() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def _by_email(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def test_valid_file_creates_people(admin, org_units, audit_count):
    preview = preview_user_import(GOOD, actor=admin)
    assert preview.valid, [r.errors for r in preview.rows]
    assert preview.counts == {"create": 3, "update": 0, "unchanged": 0, "errors": 0}
    assert [r.number for r in preview.rows] == [2, 3, 4]

    result = apply_user_import(GOOD, actor=admin)
    assert (result.created, result.updated, result.unchanged) == (3, 0, 0)
    db.session.expire_all()
    worker = _by_email("worker@example.com")
    assert worker.name == "Wim Worker"
    assert worker.manager.email == "boss@example.com"  # a manager from the same file
    assert worker.team.name == "QC Lab" and worker.job_role.name == "QC Analyst"
    assert worker.hire_date.isoformat() == "2024-03-01"
    assert worker.roles == {"employee"}
    assert worker.password_hash is None
    assert _by_email("boss@example.com").roles == {"manager", "employee"}
    assert _by_email("picker@example.com").manager_id == admin.id
    assert audit_count("user") == 3


def test_reimport_changes_nothing(admin, org_units, audit_count):
    apply_user_import(GOOD, actor=admin)
    count = audit_count()
    preview = preview_user_import(GOOD, actor=admin)
    assert [r.action for r in preview.rows] == ["unchanged"] * 3
    result = apply_user_import(GOOD, actor=admin)
    assert (result.created, result.updated, result.unchanged) == (0, 0, 3)
    assert audit_count() == count


def test_changed_row_is_an_update_listing_the_fields(admin, org_units):
    apply_user_import(GOOD, actor=admin)
    changed = GOOD.replace("Wim Worker", "Wim Werker").replace("2024-03-01", "2024-04-01")
    preview = preview_user_import(changed, actor=admin)
    row = preview.rows[1]
    assert row.action == "update" and row.changes == ["name", "hire_date"]
    apply_user_import(changed, actor=admin)
    db.session.expire_all()
    assert _by_email("worker@example.com").name == "Wim Werker"


def test_one_bad_row_means_nothing_is_written(admin, org_units, audit_count):
    bad = GOOD + "ghost@example.com,Gus Ghost,Research,,,,,\n"
    users, audits = _users(), audit_count()
    preview = preview_user_import(bad, actor=admin)
    assert not preview.valid
    row = preview.rows[-1]
    assert row.number == 5
    assert 'Unknown department "Research"' in row.errors[0]
    assert "create it on the Departments page first" in row.errors[0]
    with pytest.raises(Invalid) as exc:
        apply_user_import(bad, actor=admin)
    assert "row 5" in exc.value.errors
    db.session.rollback()
    assert _users() == users and audit_count() == audits


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("bad-email,Nope,,,,,,", "email: Not a valid email"),
        ("x@example.com,,,,,,,", "name: Required"),
        ("x@example.com,X,Quality,Nowhere,,,,", 'Unknown team "Nowhere"'),
        ("x@example.com,X,,,Astronaut,,,", 'Unknown job role "Astronaut"'),
        ("x@example.com,X,,,,missing@example.com,,", "nobody has the email"),
        ("x@example.com,X,,,,x@example.com,,", "own manager"),
        ("x@example.com,X,,,,,31/12/2024,", "not a date"),
        ("x@example.com,X,,,,,,wizard", "Unknown role(s): wizard"),
        ("boss@example.com,Again,,,,,,", "also on row 2"),
        ("x@example.com,X,,QC Lab,,,,", "needs a department"),
    ],
)
def test_row_errors(admin, org_units, line, expected):
    text = HEADER + "boss@example.com,Bea Boss,,,,,,\n" + line + "\n"
    preview = preview_user_import(text, actor=admin)
    assert expected in " ".join(preview.rows[1].errors)
    assert preview.rows[1].action == ""


def test_manager_loop_within_the_file_is_an_error(admin):
    text = HEADER + "a@example.com,A,,,,b@example.com,,\nb@example.com,B,,,,a@example.com,,\n"
    preview = preview_user_import(text, actor=admin)
    assert all("loop" in " ".join(r.errors) for r in preview.rows)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("name,department\nA,Quality\n", "Missing required column(s): email"),
        ("email,name,colour\na@example.com,A,red\n", "Unknown column(s): colour"),
        ("email,name\n", "no rows"),
        ("", "empty"),
        ("email,name\nä@example.com,Ä\n".encode("latin-1"), "not UTF-8"),
        (b"email,name\n" + b"x" * (2 * 1024 * 1024), "larger than 2 MB"),
        (
            "email,name\n" + "".join(f"u{i}@example.com,U\n" for i in range(5001)),
            "more than 5000 rows",
        ),
    ],
)
def test_file_level_problems_are_rejected(admin, data, message):
    with pytest.raises(Invalid) as exc:
        preview_user_import(data, actor=admin)
    assert message in exc.value.errors["file"][0]


def test_bom_and_header_spelling_are_tolerated(admin, org_units):
    text = "\ufeffEmail, Name ,Job Role\nnew@example.com,New,QC Analyst\n"
    preview = preview_user_import(text.encode("utf-8"), actor=admin)
    assert preview.valid and preview.rows[0].parsed["job_role_id"] == org_units["analyst"].id


def test_absent_column_is_left_alone_but_empty_cell_clears(admin, org_units):
    user = UserFactory(email="keep@example.com", name="Keep", job_role=org_units["analyst"])
    preview = preview_user_import("email,name\nkeep@example.com,Keep\n", actor=admin)
    assert preview.rows[0].action == "unchanged"
    apply_user_import("email,name,job_role\nkeep@example.com,Keep,\n", actor=admin)
    db.session.expire_all()
    assert db.session.get(User, user.id).job_role_id is None


def test_hr_may_import_but_not_grant_roles(hr, org_units):
    preview = preview_user_import(HEADER + "n@example.com,N,,,,,,admin\n", actor=hr)
    assert "Only an administrator" in preview.rows[0].errors[0]
    assert preview_user_import(HEADER + "n@example.com,N,,,,,,employee\n", actor=hr).valid
