"""Who may book a session: restrictions by site, department, job role and prerequisite course,
decided once (app.classroom.eligibility) for the pages, the API, the waitlist and the
"sessions I can book" filter; set by trainers on the session form; audited."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select

from app.classroom.booking import register
from app.classroom.eligibility import check_eligibility, eligible_clause, people_clause
from app.classroom.models import SessionRegistration, TrainingSession
from app.classroom.scheduling import update_session
from app.classroom.sessions import get_session
from app.extensions import db
from app.people.models import User
from app.platform.errors import Conflict, Invalid
from tests.classroom.sessions.conftest import schedule
from tests.conftest import csrf
from tests.helpers.api import ROLES, bearer, make_token
from tests.helpers.records import audit_rows, count
from tests.learning.factories import CourseFactory, EnrollmentFactory
from tests.people.factories import DepartmentFactory, JobRoleFactory, UserFactory

MANAGERS = {"admin", "trainer", "hr"}
URL = "/api/v1/training/sessions"


@pytest.fixture
def org(app):
    """Basel quality (clean-room operators) and London fulfilment, and a GMP prerequisite."""
    basel = DepartmentFactory(name="Quality & Manufacturing", site="Basel")
    london = DepartmentFactory(name="Fulfilment", site="London")
    operator = JobRoleFactory(name="Clean-room operator")
    associate = JobRoleFactory(name="Fulfilment associate")
    gmp = CourseFactory(code="GMP-101", title="GMP basics")
    return {"basel": basel, "london": london, "operator": operator,
            "associate": associate, "gmp": gmp}  # fmt: skip


def _person(org, dept, role, **extra):
    return UserFactory(department=org[dept], job_role=org[role], **extra)


def _reg(session, user):
    return db.session.scalar(
        select(SessionRegistration).where(
            SessionRegistration.session_id == session.id, SessionRegistration.user_id == user.id
        )
    )


# --- the decision and the booking it guards --------------------------------------------------


def test_a_london_associate_cannot_book_a_basel_clean_room_session(trainer, course, org):
    s = schedule(trainer, course, eligible_sites=["Basel"])
    london = _person(org, "london", "associate", name="Ryan Walsh")
    basel = _person(org, "basel", "operator")

    with pytest.raises(Conflict) as refused:
        register(s.id, london)
    assert refused.value.detail == "You cannot book this session: it is for the Basel site."
    assert _reg(s, london) is None
    assert register(s.id, basel).registration.status == "registered"

    # A trainer booking someone else gets the same refusal, naming the person.
    with pytest.raises(Conflict, match="Ryan Walsh cannot book this session"):
        register(s.id, trainer, {"user_id": london.id})


def test_every_kind_of_restriction_gives_its_reason(trainer, course, org):
    s = schedule(
        trainer,
        course,
        eligible_sites=["Basel"],
        eligible_department_ids=[org["basel"].id],
        eligible_job_role_ids=[org["operator"].id],
        prerequisite_course_ids=[org["gmp"].id],
    )
    london = _person(org, "london", "associate")
    assert check_eligibility(s, london).reasons == [
        "it is for the Basel site",
        "it is for the Quality & Manufacturing department",
        "it is for job role Clean-room operator",
        "it requires GMP-101 completed first",
    ]
    operator = _person(org, "basel", "operator")
    assert check_eligibility(s, operator).reasons == ["it requires GMP-101 completed first"]
    started = EnrollmentFactory(user=operator, course=org["gmp"], status="in_progress")
    assert not check_eligibility(s, operator).ok  # started is not completed
    started.status = "completed"
    db.session.commit()
    assert check_eligibility(s, operator).ok
    assert register(s.id, operator).registration.status == "registered"


def test_a_full_session_refuses_the_ineligible_a_waitlist_place_too(trainer, course, org):
    s = schedule(trainer, course, capacity=1, eligible_job_role_ids=[org["operator"].id])
    register(s.id, _person(org, "basel", "operator"))
    with pytest.raises(Conflict, match="job role Clean-room operator"):
        register(s.id, _person(org, "basel", "associate"))
    assert register(s.id, _person(org, "london", "operator")).registration.status == "waitlisted"


def test_the_sessions_i_can_book_filter_agrees_with_the_decision(trainer, course, org):
    """The SQL filter and the per-person decision are the same rule, over every combination."""
    gmp = org["gmp"]
    kinds = {
        "eligible_sites": [[], ["Basel"], ["Basel", "London"]],
        "eligible_department_ids": [[], [org["london"].id]],
        "eligible_job_role_ids": [[], [org["operator"].id]],
        "prerequisite_course_ids": [[], [gmp.id]],
    }
    sessions = []
    for n, combo in enumerate(itertools.product(*kinds.values())):
        sessions.append(
            schedule(trainer, course, days=7 + n, **dict(zip(kinds, combo, strict=True)))
        )
    people = [
        _person(org, dept, role)
        for dept, role in itertools.product(("basel", "london"), ("operator", "associate"))
    ]
    people.append(UserFactory())  # no department, no job role
    EnrollmentFactory(user=people[1], course=gmp, status="completed")
    EnrollmentFactory(user=people[2], course=gmp, status="expired")
    for person in people:
        found = set(
            db.session.scalars(
                select(TrainingSession.id).where(
                    TrainingSession.id.in_([s.id for s in sessions]), eligible_clause(person)
                )
            )
        )
        expected = {s.id for s in sessions if check_eligibility(get_session(s.id), person).ok}
        assert found == expected, person.name
    assert 0 < len(expected) < len(sessions)
    # The same rule from the session's side: the people the "Book someone" list offers.
    ids = [p.id for p in people]
    for s in sessions:
        s = get_session(s.id)
        clause = people_clause(s)
        stmt = select(User.id).where(User.id.in_(ids))
        offered = set(db.session.scalars(stmt.where(clause) if clause is not None else stmt))
        assert offered == {p.id for p in people if check_eligibility(s, p).ok}, s.id


# --- setting restrictions: validation and the audit trail ------------------------------------


def test_restrictions_are_validated_audited_and_kept_on_a_partial_update(trainer, course, org):
    with pytest.raises(Invalid) as bad:
        schedule(
            trainer,
            course,
            eligible_sites=["Atlantis"],
            eligible_job_role_ids=[99999],
            prerequisite_course_ids=[course.id],
        )
    assert bad.value.errors["eligible_sites"] == ["No department is at the site Atlantis."]
    assert bad.value.errors["eligible_job_role_ids"] == ["No such job role: 99999."]
    assert bad.value.errors["prerequisite_course_ids"] == [
        "A course cannot be its own prerequisite."
    ]
    assert count(TrainingSession) == 0

    s = schedule(trainer, course, eligible_sites=["Basel"])
    [created] = audit_rows("training_session", s.id, "create")
    assert created.after["eligible_sites"] == ["Basel"]
    update_session(s.id, {"notes": "Bring shoes"}, trainer)  # restrictions untouched
    assert [r.value for r in get_session(s.id).restrictions] == ["Basel"]
    update_session(
        s.id, {"eligible_sites": [], "prerequisite_course_ids": [org["gmp"].id]}, trainer
    )
    [_, changed] = audit_rows("training_session", s.id, "update")
    assert changed.before["eligible_sites"] == ["Basel"] and changed.after["eligible_sites"] == []
    assert changed.after["prerequisite_course_ids"] == [org["gmp"].id]


# --- pages -----------------------------------------------------------------------------------


def test_the_session_page_says_why_instead_of_a_book_button(client, auth, trainer, course, org):
    s = schedule(trainer, course, eligible_sites=["Basel"], prerequisite_course_ids=[org["gmp"].id])
    london = _person(org, "london", "associate")
    auth.login(london)
    body = client.get(f"/sessions/{s.id}").get_data(as_text=True)
    assert (
        "You cannot book this session: it is for the Basel site; it requires GMP-101 completed"
        " first." in body
    )
    assert "Book a seat" not in body and "Join the waitlist" not in body
    assert "Only the Basel site; people who completed GMP-101" in body  # who may book

    # Posting anyway (an old tab, no JavaScript) is refused with the same words.
    token = csrf(client, f"/sessions/{s.id}")
    resp = client.post(f"/sessions/{s.id}/register", data={"csrf_token": token})
    assert resp.status_code == 302
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "You cannot book this session: it is for the Basel site" in page
    assert _reg(s, london) is None
    auth.logout()

    operator = _person(org, "basel", "operator", email="olga@example.com")
    EnrollmentFactory(user=operator, course=org["gmp"], status="completed")
    auth.login(operator)
    body = client.get(f"/sessions/{s.id}").get_data(as_text=True)
    assert "Book a seat" in body and "You cannot book" not in body
    auth.logout()

    # A trainer's "Book someone" list offers only the people who may book it.
    auth.login(trainer)
    body = client.get(f"/sessions/{s.id}").get_data(as_text=True)
    people = body.split('<datalist id="bookable-people">')[1].split("</datalist>")[0]
    assert "olga@example.com" in people and london.email not in people


def test_sessions_list_filters_to_sessions_i_can_book(client, auth, trainer, course, org):
    schedule(trainer, course, title="Basel only", eligible_sites=["Basel"])
    schedule(trainer, course, title="Open to all", days=8)
    auth.login(_person(org, "london", "associate"))
    every = client.get("/sessions").get_data(as_text=True)
    assert "Basel only" in every and "Open to all" in every
    mine = client.get("/sessions?bookable=1").get_data(as_text=True)
    assert "Basel only" not in mine and "Open to all" in mine
    assert 'name="bookable" value="1" checked' in mine


def test_session_form_restriction_fields_role_matrix(client, auth, trainer, course, org):
    fields = (
        "eligible_sites",
        "eligible_department_ids",
        "eligible_job_role_ids",
        "prerequisite_course_ids",
    )
    s = schedule(trainer, course)
    for role in ROLES:
        auth.login(UserFactory(roles=[role]))
        page = client.get(f"/sessions/{s.id}/edit")
        if role in MANAGERS:
            body = page.get_data(as_text=True)
            assert page.status_code == 200 and all(f'name="{f}"' in body for f in fields), role
            assert '<option value="Basel">Basel</option>' in body
        else:
            assert page.status_code == 403, role
            token = csrf(client, "/sessions")
            posted = client.post(
                f"/sessions/{s.id}/edit", data={"csrf_token": token, "eligible_sites": "Basel"}
            )
            assert posted.status_code == 403, role
        auth.logout()
    assert get_session(s.id).restrictions == []


def test_a_trainer_sets_restrictions_on_the_form(client, auth, trainer, course, org):
    s = schedule(trainer, course)
    auth.login(trainer)
    token = csrf(client, f"/sessions/{s.id}/edit")
    form = {
        "csrf_token": token,
        "course_id": str(course.id),
        "instructor_ids": [str(trainer.id)],
        "timezone": "Europe/Zurich",
        "starts_at": "2030-07-01T09:00",
        "ends_at": "2030-07-01T11:00",
        "location": "Basel B2",
        "capacity": "8",
        "eligible_sites": ["Basel"],
        "eligible_job_role_ids": [str(org["operator"].id)],
        "prerequisite_course_ids": [str(org["gmp"].id)],
    }
    resp = client.post(f"/sessions/{s.id}/edit", data=form)
    assert resp.status_code == 302, resp.get_data(as_text=True)
    kept = {(r.kind, r.value) for r in get_session(s.id).restrictions}
    assert kept == {
        ("site", "Basel"),
        ("job_role", str(org["operator"].id)),
        ("course", str(org["gmp"].id)),
    }
    edit = client.get(f"/sessions/{s.id}/edit").get_data(as_text=True)
    assert '<option selected value="Basel">' in edit or '<option value="Basel" selected>' in edit

    bad = client.post(f"/sessions/{s.id}/edit", data={**form, "eligible_sites": ["Nowhere"]})
    assert bad.status_code == 422
    assert "No department is at the site Nowhere." in bad.get_data(as_text=True)


# --- the API ---------------------------------------------------------------------------------


def _h(user):
    return bearer(make_token(user, ("read", "write")))


def test_api_sets_and_shows_restrictions_and_refuses_the_ineligible(client, trainer, course, org):
    from tests.classroom.sessions.test_api import _body

    for role in ROLES:
        user = UserFactory(roles=[role])
        body = _body(course, instructor_ids=[trainer.id], eligible_sites=["Basel"])
        created = client.post(URL, json=body, headers=_h(user))
        if role in MANAGERS:
            assert created.status_code == 201, (role, created.json)
            assert created.json["eligible_sites"] == ["Basel"]
        else:
            assert created.status_code == 403, role
            assert created.mimetype == "application/problem+json"
    session_id = client.post(
        URL, json=_body(course, eligible_sites=["Basel"]), headers=_h(trainer)
    ).json["id"]

    bad = client.post(URL, json=_body(course, eligible_sites="Basel"), headers=_h(trainer))
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"
    assert "eligible_sites" in bad.json["errors"]
    bad_ids = client.put(
        f"{URL}/{session_id}", json={"eligible_job_role_ids": ["x"]}, headers=_h(trainer)
    )
    assert bad_ids.status_code == 422 and "eligible_job_role_ids" in bad_ids.json["errors"]

    london = _person(org, "london", "associate")
    refused = client.post(f"{URL}/{session_id}/registrations", headers=_h(london))
    assert refused.status_code == 409 and refused.mimetype == "application/problem+json"
    assert refused.json["detail"] == "You cannot book this session: it is for the Basel site."
    listed = client.get(f"{URL}?bookable=1", headers=_h(london)).json
    assert session_id not in [item["id"] for item in listed["items"]]
    basel = _person(org, "basel", "operator")
    assert client.post(f"{URL}/{session_id}/registrations", headers=_h(basel)).status_code == 201
