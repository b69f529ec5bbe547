"""Typed bodies (app.api.schemas): one declaration validates the input with the usual 422
field errors, shapes the answer, and is the schema the OpenAPI document shows."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.api.schemas import Id, Input, Output, component_schemas, dump, field_errors
from app.learning.models import Enrollment
from tests.helpers.api import bearer, make_token
from tests.helpers.records import count
from tests.learning.factories import CourseFactory
from tests.people.factories import UserFactory


class Thing(Input):
    thing_id: Id
    name: str


class Inner(Output):
    id: int


class Outer(Output):
    inner: Inner
    note: str | None


def _errors(data) -> dict:
    with pytest.raises(ValidationError) as caught:
        Thing.model_validate(data)
    return field_errors(caught.value)


@pytest.mark.parametrize(
    "data,field",
    [
        ({"name": "x"}, "thing_id"),
        ({"thing_id": True, "name": "x"}, "thing_id"),  # a bool is not an id
        ({"thing_id": "7", "name": "x"}, "thing_id"),  # nor is text
        ({"thing_id": 0, "name": "x"}, "thing_id"),
        ({"thing_id": 2**31, "name": "x"}, "thing_id"),  # past the database's integer range
        ({"thing_id": 1, "name": 5}, "name"),
        ({"thing_id": 1, "name": "x" * 10_001}, "name"),
        ({"thing_id": 1, "name": "x", "extra": 1}, "extra"),
    ],
)
def test_input_errors_name_their_field(data, field):
    errors = _errors(data)
    assert list(errors) == [field]
    assert all(isinstance(m, str) and m for m in errors[field])


def test_a_missing_field_says_required():
    assert _errors({"thing_id": 1}) == {"name": ["Required."]}


def test_the_largest_id_is_taken():
    assert Thing.model_validate({"thing_id": 2**31 - 1, "name": "x"}).thing_id == 2**31 - 1


def test_dump_refuses_an_answer_that_drifts_from_its_model():
    assert dump(Outer, {"inner": {"id": 1}, "note": None}) == {"inner": {"id": 1}, "note": None}
    with pytest.raises(ValidationError):
        dump(Outer, {"inner": {"id": 1}, "note": None, "secret": "x"})
    with pytest.raises(ValidationError):
        dump(Outer, {"inner": {"id": 1}})


def test_components_hoist_nested_models_and_refuse_two_schemas_of_one_name():
    schemas = component_schemas(Outer, Thing)
    assert schemas["Outer"]["properties"]["inner"] == {"$ref": "#/components/schemas/Inner"}
    assert "$defs" not in schemas["Outer"] and "Inner" in schemas
    assert schemas["Thing"]["additionalProperties"] is False
    assert "additionalProperties" not in schemas["Outer"]  # answers may grow

    class Inner(Output):  # another model under a taken name
        name: str

    class Other(Output):
        inner: Inner

    with pytest.raises(ValueError, match="Inner"):
        component_schemas(Outer, Other)


def test_the_document_shows_the_declared_models(client):
    doc = client.get("/api/openapi.json").get_json()
    schemas = doc["components"]["schemas"]
    cert_input = schemas["CertificationInput"]
    assert "signature_password" in cert_input["required"]
    assert cert_input["properties"]["user_id"]["maximum"] == 2**31 - 1
    issuance = schemas["Certification"]["properties"]["issuance"]
    assert issuance == {"$ref": "#/components/schemas/CertificationIssuance"}
    # requirement_status is declared once, and both areas point at it.
    status_ref = {"$ref": "#/components/schemas/RequirementStatus"}
    assert status_ref in schemas["TrainingEnrollment"]["properties"]["requirement_status"]["anyOf"]
    assert status_ref in schemas["TrainingRecord"]["properties"]["requirement_status"]["anyOf"]
    assert schemas["RequirementStatus"]["enum"][0] == "compliant"


def test_a_body_field_error_is_the_usual_422_problem_and_writes_nothing(client):
    person, course = UserFactory(), CourseFactory()
    headers = bearer(make_token(UserFactory(roles=["admin"]), ("read", "write")))
    url = f"/api/training/users/{person.id}/enroll"
    resp = client.post(url, json={"course_id": course.id, "color": "red"}, headers=headers)
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json"
    body = resp.get_json()
    assert body["title"] == "Validation failed" and body["status"] == 422
    assert body["errors"] == {"color": ["Not a field of this request."]}
    resp = client.post(url, json={"course_id": True}, headers=headers)
    assert list(resp.get_json()["errors"]) == ["course_id"]
    assert count(Enrollment) == 0
    resp = client.post(url, json={"course_id": course.id}, headers=headers)
    assert resp.status_code == 201 and resp.get_json()["course"]["id"] == course.id
