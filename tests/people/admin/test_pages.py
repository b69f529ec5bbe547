"""The admin pages: access per role, forms, HTMX search, import flow, query counts."""

from __future__ import annotations

import html
import io

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.people.models import Department, JobRole, Team, User
from app.platform.audit import AuditLog
from tests.conftest import csrf
from tests.people.factories import DepartmentFactory, JobRoleFactory, TeamFactory, UserFactory

ROLES_ALLOWED = {
    "user.view": {"admin", "hr"},
    "user.manage": {"admin", "hr"},
    "org.manage": {"admin", "hr"},
    "role.manage": {"admin"},
}
ALL_ROLES = ("admin", "hr", "qa", "trainer", "manager", "employee", "seller")

# (method, path template, permission)
PAGES = [
    ("GET", "/admin/users", "user.view"),
    ("GET", "/admin/users/{uid}", "user.view"),
    ("GET", "/admin/roles", "user.view"),
    ("GET", "/admin/users/new", "user.manage"),
    ("GET", "/admin/users/{uid}/edit", "user.manage"),
    ("GET", "/admin/users/import", "user.manage"),
    ("POST", "/admin/users/{uid}/deactivate", "user.manage"),
    ("POST", "/admin/users/{uid}/reactivate", "user.manage"),
    ("POST", "/admin/users/import/apply", "user.manage"),
    ("POST", "/admin/users/{uid}/roles", "role.manage"),
    ("GET", "/admin/departments", "org.manage"),
    ("GET", "/admin/departments/{did}/edit", "org.manage"),
    ("POST", "/admin/departments/{did}/delete", "org.manage"),
    ("GET", "/admin/teams", "org.manage"),
    ("GET", "/admin/teams/{tid}/edit", "org.manage"),
    ("POST", "/admin/teams/{tid}/delete", "org.manage"),
    ("GET", "/admin/job-roles", "org.manage"),
    ("GET", "/admin/job-roles/{jid}/edit", "org.manage"),
    ("POST", "/admin/job-roles/{jid}/delete", "org.manage"),
]


@pytest.fixture
def targets(app):
    team = TeamFactory()
    return {
        "uid": UserFactory(name="Target Person").id,
        "did": DepartmentFactory().id,
        "tid": team.id,
        "jid": JobRoleFactory().id,
    }


def _request(client, method, path):
    if method == "GET":
        return client.get(path)
    return client.post(path, data={"csrf_token": csrf(client, "/home")})


@pytest.mark.parametrize("role", ALL_ROLES)
def test_role_matrix(client, auth, targets, role):
    """Each role reaches exactly the admin pages its permissions allow (403 elsewhere)."""
    auth.login(UserFactory(roles=[role]))
    wrong = []
    for method, path, permission in PAGES:
        resp = _request(client, method, path.format(**targets))
        allowed = role in ROLES_ALLOWED[permission]
        ok = (
            resp.status_code in (200, 302, 400, 422)
            and "/login" not in resp.headers.get("Location", "")
            if allowed
            else resp.status_code == 403
        )
        if not ok:
            wrong.append((method, path, permission, resp.status_code))
    assert wrong == []


def test_anonymous_is_sent_to_login(client, targets):
    wrong = []
    for method, path, _permission in PAGES:
        if method == "GET":
            resp = client.get(path.format(**targets))
        else:  # no session yet, so take a token from the login page
            resp = client.post(path.format(**targets), data={"csrf_token": csrf(client)})
        if resp.status_code != 302 or "/login" not in resp.headers["Location"]:
            wrong.append((method, path, resp.status_code))
    assert wrong == []


def test_users_list_shows_columns_and_filters(client, auth, admin, org_units):
    UserFactory(
        name="Quinn Quality",
        department=org_units["quality"],
        team=org_units["qc_lab"],
        job_role=org_units["analyst"],
        roles=["qa", "trainer"],
    )
    UserFactory(name="Olly Ops", department=org_units["ops"])
    UserFactory(name="Gone Gary", active=False)
    auth.login(admin)
    body = client.get("/admin/users").get_data(as_text=True)
    for text in ("Quinn Quality", "QC Lab", "QC Analyst", "trainer", "Olly Ops", "badge-active"):
        assert text in body
    assert "Gone Gary" not in body  # active people by default
    body = client.get(f"/admin/users?department={org_units['ops'].id}").get_data(as_text=True)
    assert "Olly Ops" in body and "Quinn Quality" not in body
    body = client.get("/admin/users?status=inactive").get_data(as_text=True)
    assert "Gone Gary" in body and "badge-inactive" in body


def test_users_search_htmx_returns_the_fragment(client, auth, admin):
    UserFactory(name="Findable Fiona")
    UserFactory(name="Hidden Harry")
    auth.login(admin)
    page = client.get("/admin/users").get_data(as_text=True)
    assert 'hx-trigger="input changed delay:300ms, search"' in page
    assert 'hx-target="#user-results"' in page and 'hx-push-url="true"' in page
    resp = client.get("/admin/users?q=fiona", headers={"HX-Request": "true"})
    body = resp.get_data(as_text=True)
    assert "Findable Fiona" in body and "Hidden Harry" not in body
    assert "<html" not in body and 'name="q"' not in body
    assert "HX-Request" in resp.headers["Vary"]
    # Without JavaScript the same URL is a full page.
    full = client.get("/admin/users?q=fiona").get_data(as_text=True)
    assert "<html" in full and "Findable Fiona" in full and "Hidden Harry" not in full


def test_users_list_query_count_is_constant(client, auth, admin, org_units, count_queries):
    def make(n):
        # Each person in their own department, team and job role, so a lazy load per row
        # would show up as extra queries.
        for i in range(n):
            team = TeamFactory()
            UserFactory(
                department=team.department,
                team=team,
                job_role=JobRoleFactory(),
                manager=admin,
                roles=["employee", "trainer"] if i % 3 else ["employee"],
            )

    htmx = {"HX-Request": "true"}  # the fragment alone loads no filter menus
    auth.login(admin)
    make(2)  # with the admin: 3 people
    with count_queries() as few:
        assert client.get("/admin/users").status_code == 200
    with count_queries() as few_htmx:
        assert client.get("/admin/users", headers=htmx).status_code == 200
    make(27)  # 30 people
    with count_queries() as many:
        body = client.get("/admin/users").get_data(as_text=True)
    with count_queries() as many_htmx:
        assert "30 people" in client.get("/admin/users", headers=htmx).get_data(as_text=True)
    assert "30 people" in body
    assert len(few) == len(many), many
    assert len(few_htmx) == len(many_htmx), many_htmx


def _form(client, path, **data):
    return client.post(path, data={"csrf_token": csrf(client, path), **data})


def test_create_user_through_the_form(client, auth, admin, org_units):
    auth.login(admin)
    resp = _form(
        client,
        "/admin/users/new",
        name="Nora New",
        email="Nora@Example.com",
        department_id=str(org_units["quality"].id),
        team_id=str(org_units["qc_lab"].id),
        job_role_id=str(org_units["analyst"].id),
        locale="en",
        timezone="Europe/Zurich",
        seller_tier="",
        roles=["employee", "qa"],
    )
    assert resp.status_code == 302
    db.session.expire_all()
    user = db.session.scalar(select(User).where(User.email == "nora@example.com"))
    assert user.roles == {"employee", "qa"} and user.team.name == "QC Lab"
    detail = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Nora New" in detail and "Recent changes" in detail and "create" in detail


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({"name": "", "email": "e@example.com"}, 400, "This field is required."),
        ({"name": "E", "email": "admin@example.com"}, 422, "Another person already uses"),
        ({"name": "E", "email": "e@example.com", "timezone": "Nowhere/City"}, 422, "time zone"),
        ({"name": "E", "email": "e@example.com", "hire_date": "yesterday"}, 422, "YYYY-MM-DD"),
        (
            {"name": "E", "email": "e@example.com", "manager_email": "ghost@example.com"},
            422,
            "No person has this email",
        ),
    ],
)
def test_bad_user_form_rerenders_with_errors(client, auth, admin, data, status, message):
    auth.login(admin)
    users = db.session.scalar(select(func.count()).select_from(User))
    payload = {"locale": "en", "timezone": "UTC", "seller_tier": "", **data}
    resp = _form(client, "/admin/users/new", **payload)
    assert resp.status_code == status
    assert message in resp.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(User)) == users


def test_team_of_another_department_is_refused_on_edit(client, auth, admin, org_units):
    user = UserFactory(name="Edith", department=org_units["quality"])
    auth.login(admin)
    path = f"/admin/users/{user.id}/edit"
    assert "Edith" in client.get(path).get_data(as_text=True)
    resp = _form(
        client,
        path,
        name="Edith",
        email=user.email,
        department_id=str(org_units["ops"].id),
        team_id=str(org_units["qc_lab"].id),
        locale="en",
        timezone="UTC",
        seller_tier="",
    )
    assert resp.status_code == 422
    assert "belongs to another department" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, user.id).department_id == org_units["quality"].id


def test_hr_sees_no_role_checkboxes_and_creates_employees(client, auth, hr):
    auth.login(hr)
    page = client.get("/admin/users/new").get_data(as_text=True)
    assert 'name="roles"' not in page
    resp = _form(
        client,
        "/admin/users/new",
        name="Hank",
        email="hank@example.com",
        locale="en",
        timezone="UTC",
        seller_tier="",
        roles=["admin"],  # ignored: HR has no role checkboxes
    )
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(User).where(User.email == "hank@example.com")).roles == {
        "employee"
    }
    detail = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Save roles" not in detail and "Only administrators grant roles" in detail


def test_roles_form_grants_and_shows_in_history(client, auth, admin):
    user = UserFactory(name="Rita Roles")
    auth.login(admin)
    resp = client.post(
        f"/admin/users/{user.id}/roles",
        data={"csrf_token": csrf(client, f"/admin/users/{user.id}"), "roles": ["trainer", "qa"]},
    )
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).roles == {"trainer", "qa"}
    body = client.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert "grant role qa" in body and "revoke role employee" in body


def test_roles_form_rejects_unknown_role(client, auth, admin):
    user = UserFactory()
    auth.login(admin)
    resp = _form(client, f"/admin/users/{user.id}/roles", roles=["overlord"])
    assert resp.status_code == 400
    assert "is not a valid choice" in resp.get_data(as_text=True)


def test_deactivation_ends_the_users_sessions(app, admin):
    victim = UserFactory(email="victim@example.com")
    from tests.conftest import Auth

    victim_client, admin_client = app.test_client(), app.test_client()
    Auth(victim_client).login(victim)
    assert victim_client.get("/home").status_code == 200
    Auth(admin_client).login(admin)
    path = f"/admin/users/{victim.id}"
    resp = admin_client.post(
        f"{path}/deactivate",
        data={"csrf_token": csrf(admin_client, path), "reason": "Left the company"},
    )
    assert resp.status_code == 302
    after = victim_client.get("/home")
    assert after.status_code == 302 and "/login" in after.headers["Location"]
    # and the account cannot sign in again
    resp = victim_client.post(
        "/login",
        data={
            "email": victim.email,
            "password": "password",
            "csrf_token": csrf(victim_client),
        },
    )
    assert resp.status_code == 401
    assert "Left the company" in admin_client.get(path).get_data(as_text=True)


def test_deactivate_without_reason_rerenders(client, auth, admin):
    user = UserFactory()
    auth.login(admin)
    resp = _form(client, f"/admin/users/{user.id}/deactivate", reason="")
    assert resp.status_code == 422
    assert "Say why" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, user.id).active is True


def test_cannot_deactivate_yourself(client, auth, admin):
    auth.login(admin)
    path = f"/admin/users/{admin.id}"
    resp = client.post(
        f"{path}/deactivate",
        data={"csrf_token": csrf(client, path), "reason": "test"},
        follow_redirects=True,
    )
    assert "cannot deactivate your own account" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, admin.id).active is True


def test_there_is_no_way_to_delete_a_person(app, client, auth, admin):
    user = UserFactory()
    auth.login(admin)
    token = csrf(client, "/admin/users")
    for path in (f"/admin/users/{user.id}/delete", f"/admin/users/{user.id}"):
        assert client.post(path, data={"csrf_token": token}).status_code in (404, 405)
    assert client.delete(f"/admin/users/{user.id}").status_code == 405
    db.session.expire_all()
    assert db.session.get(User, user.id) is not None


def test_roles_page_shows_the_permission_grid_and_counts(client, auth, admin):
    UserFactory(roles=["trainer"])
    UserFactory(roles=["trainer", "qa"])
    auth.login(admin)
    body = client.get("/admin/roles").get_data(as_text=True)
    assert "course.manage" in body and "role.manage" in body
    assert 'href="/admin/users?role=trainer">2</a>' in body


def test_org_pages_create_edit_and_delete(client, auth, hr, audit_count):
    auth.login(hr)
    assert _form(client, "/admin/departments", name="Quality", site="Basel").status_code == 302
    department = db.session.scalar(select(Department).where(Department.name == "Quality"))
    resp = _form(client, "/admin/teams", name="QC Lab", department_id=str(department.id))
    assert resp.status_code == 302
    resp = _form(client, "/admin/job-roles", name="QC Analyst", risk_level="high", description="")
    assert resp.status_code == 302
    assert "QC Analyst" in client.get("/admin/job-roles").get_data(as_text=True)
    job_role = db.session.scalar(select(JobRole).where(JobRole.name == "QC Analyst"))
    path = f"/admin/job-roles/{job_role.id}/edit"
    resp = _form(client, path, name="QC Analyst II", risk_level="medium", description="Lab")
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(JobRole, job_role.id).risk_level == "medium"
    job_role_id = job_role.id
    resp = _form(client, f"/admin/job-roles/{job_role_id}/delete")
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(JobRole, job_role_id) is None
    assert audit_count("job_role") == 3


def test_org_delete_in_use_shows_a_flash_error(client, auth, admin, org_units):
    UserFactory(team=org_units["qc_lab"], department=org_units["quality"])
    auth.login(admin)
    resp = client.post(
        f"/admin/teams/{org_units['qc_lab'].id}/delete",
        data={"csrf_token": csrf(client, "/admin/teams")},
        follow_redirects=True,
    )
    body = resp.get_data(as_text=True)
    assert "alert-error" in body and "still has 1 person" in body
    db.session.expire_all()
    assert db.session.get(Team, org_units["qc_lab"].id) is not None


@pytest.mark.parametrize(
    ("path", "data", "message"),
    [
        ("/admin/departments", {"name": ""}, "This field is required."),
        ("/admin/departments", {"name": "Quality"}, "exists"),
        ("/admin/teams", {"name": "T", "department_id": ""}, "Pick a department."),
        ("/admin/job-roles", {"name": "J", "risk_level": "extreme"}, "Not a valid choice"),
    ],
)
def test_bad_org_forms_rerender(client, auth, admin, org_units, audit_count, path, data, message):
    auth.login(admin)
    count = audit_count()
    resp = _form(client, path, **data)
    assert resp.status_code in (400, 422)
    assert message in resp.get_data(as_text=True)
    assert audit_count() == count


CSV = (
    "email,name,department,team,job_role,manager_email,hire_date,roles\n"
    "lead@example.com,Lena Lead,Quality,QC Lab,QC Analyst,,2021-05-01,manager\n"
    "tech@example.com,Tom Tech,Quality,QC Lab,QC Analyst,lead@example.com,2024-01-02,\n"
)


def _upload(client, content: bytes, filename: str = "people.csv"):
    return client.post(
        "/admin/users/import",
        data={
            "csrf_token": csrf(client, "/admin/users/import"),
            "file": (io.BytesIO(content), filename),
        },
        content_type="multipart/form-data",
    )


def test_import_preview_then_apply(client, auth, admin, org_units):
    auth.login(admin)
    resp = _upload(client, CSV.encode())
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "Import preview" in body and "Lena Lead" in body
    assert 'name="csv_text"' in body and "disabled" not in body.split("import-confirm")[1]
    assert db.session.scalar(select(User).where(User.email == "lead@example.com")) is None
    resp = client.post(
        "/admin/users/import/apply",
        data={"csrf_token": csrf(client, "/admin/users/import"), "csv_text": CSV},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/admin/users")
    flash = client.get("/admin/users").get_data(as_text=True)
    assert "2 created, 0 updated, 0 unchanged" in flash
    db.session.expire_all()
    tech = db.session.scalar(select(User).where(User.email == "tech@example.com"))
    assert tech.manager.email == "lead@example.com"


def test_import_preview_highlights_bad_rows_and_disables_confirm(client, auth, admin, org_units):
    auth.login(admin)
    bad = CSV + "x@example.com,Xavier,Quality,QC Lab,Astronaut,,,\n"
    body = html.unescape(_upload(client, bad.encode()).get_data(as_text=True))
    assert "row-error" in body and 'Unknown job role "Astronaut"' in body
    confirm = body.split("import-confirm")[1]
    assert "disabled" in confirm
    # A forced apply writes nothing and shows the preview again.
    users = db.session.scalar(select(func.count()).select_from(User))
    resp = client.post(
        "/admin/users/import/apply",
        data={"csrf_token": csrf(client, "/admin/users/import"), "csv_text": bad},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 422
    assert "nothing was imported" in resp.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(User)) == users
    assert db.session.scalar(select(func.count()).select_from(AuditLog)) == 0


@pytest.mark.parametrize(
    ("content", "filename", "message"),
    [
        (b"email,name\na@example.com,A\n", "people.xlsx", "Only .csv files."),
        ("email,name\nä@example.com,Ä\n".encode("latin-1"), "people.csv", "not UTF-8"),
        (b"name\nA\n", "people.csv", "Missing required column(s): email"),
    ],
)
def test_import_rejects_bad_files(client, auth, admin, content, filename, message):
    auth.login(admin)
    resp = _upload(client, content, filename)
    assert resp.status_code in (400, 422)
    assert message in resp.get_data(as_text=True)


def test_import_without_a_file_rerenders(client, auth, admin):
    auth.login(admin)
    resp = client.post(
        "/admin/users/import",
        data={"csrf_token": csrf(client, "/admin/users/import")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 400 and "Choose a .csv file." in resp.get_data(as_text=True)


def test_admin_tabs_link_every_admin_page(client, auth, admin):
    auth.login(admin)
    body = client.get("/admin/roles").get_data(as_text=True)
    for href in (
        "/admin/users",
        "/admin/users/import",
        "/admin/departments",
        "/admin/teams",
        "/admin/job-roles",
        "/admin/roles",
    ):
        assert f'href="{href}"' in body


def test_import_confirm_accepts_a_large_csv_field(client, auth, admin):
    """The confirm step posts the whole CSV back; more than Flask's 500 kB default must fit."""
    auth.login(admin)
    big = "email,name\nlong@example.com," + "N" * 700_000 + "\n"
    resp = client.post(
        "/admin/users/import/apply",
        data={"csrf_token": csrf(client, "/admin/users/import"), "csv_text": big},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 422  # the CSV reached the parser: no 413
    assert "field larger than field limit" in resp.get_data(as_text=True)
