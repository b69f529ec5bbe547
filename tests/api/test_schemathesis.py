"""schemathesis against the API's own OpenAPI document, in process: every documented operation
gets valid and invalid requests (bounded, derandomized: the same requests every run), with an
admin's token and with a read-only token, and never answers 5xx; every method a path does not
document answers 405. The operations whose bodies are declared as models (app.api.schemas)
must also answer as documented: a documented status code, its content type, a body that
matches its schema.

Examples per operation are few so the module stays within a few minutes on a loaded machine;
CADRE_SCHEMATHESIS_EXAMPLES raises them for a longer hunt.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.helpers.api import bearer, make_token
from tests.people.factories import UserFactory

BASE_URL = "http://cadre.test"  # the test app's SERVER_NAME
EXAMPLES = int(os.environ.get("CADRE_SCHEMATHESIS_EXAMPLES") or 12)
METHODS = ("get", "put", "post", "delete", "patch")
CONFORMANCE = [status_code_conformance, content_type_conformance, response_schema_conformance]
# Operations converted to typed bodies; every new one joins this list.
CONFORMING = {
    "createCertification",
    "getCertification",
    "listPendingCertifications",
    "approveCertification",
    "rejectCertification",
    "getUserTraining",
    "enrollUser",
    "recordProgress",
    "listUserResults",
}


@dataclass
class Run:
    """What a run saw: the 5xx answers (with a curl line to replay them) and every status."""

    server_errors: list[str] = field(default_factory=list)
    nonconforming: list[str] = field(default_factory=list)
    checked: set[str] = field(default_factory=set)
    statuses: dict[str, set[int]] = field(default_factory=dict)


def _schema(client):
    doc = client.get("/api/openapi.json").get_json()
    return schemathesis.openapi.from_dict(doc)


def _fuzz(app, client, operation, headers: dict, mode: GenerationMode, run: Run) -> None:
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: we report, not minimise
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def one(case):
        response = case.call(session=client, app=app, base_url=BASE_URL, headers=headers)
        run.statuses.setdefault(operation.label, set()).add(response.status_code)
        if response.status_code >= 500:
            curl = case.as_curl_command(headers=headers, base_url=BASE_URL)
            run.server_errors.append(f"{operation.label} ({mode}): {response.status_code}\n{curl}")
        elif operation.definition.raw.get("operationId") in CONFORMING:
            run.checked.add(operation.definition.raw["operationId"])
            try:
                case.validate_response(response, checks=CONFORMANCE, headers=headers)
            except Exception as exc:  # schemathesis's failure group: report, go on
                curl = case.as_curl_command(headers=headers, base_url=BASE_URL)
                run.nonconforming.append(f"{operation.label} ({mode}): {exc}\n{curl}"[:1500])

    try:
        one()
    except Unsatisfiable:  # nothing to make invalid (an operation without parameters or body)
        assert mode == GenerationMode.NEGATIVE


def _hunt(app, client, headers: dict) -> Run:
    run = Run()
    for result in _schema(client).get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz(app, client, operation, headers, mode, run)
    return run


@pytest.fixture
def admin_token(app):
    return make_token(UserFactory(roles=["admin"]), ("read", "write", "admin"))


@pytest.fixture
def reader_token(app):
    return make_token(UserFactory(roles=["employee"]), ("read",))


def test_no_server_error_with_an_admin_token(app, client, admin_token):
    run = _hunt(app, client, bearer(admin_token))
    assert not run.server_errors, "\n\n".join(run.server_errors)
    assert not run.nonconforming, "\n\n".join(run.nonconforming)
    assert run.checked == CONFORMING
    # The hunt reached the operations' own logic, not only the guards in front of them.
    reached = [label for label, codes in run.statuses.items() if any(c < 300 for c in codes)]
    assert len(reached) >= 15, sorted(run.statuses.items())


def test_no_server_error_with_a_read_only_token(app, client, reader_token):
    run = _hunt(app, client, bearer(reader_token))
    assert not run.server_errors, "\n\n".join(run.server_errors)
    assert not run.nonconforming, "\n\n".join(run.nonconforming)
    assert any(403 in codes for codes in run.statuses.values())


def test_undocumented_methods_answer_405(client, admin_token):
    doc = client.get("/api/openapi.json").get_json()
    wrong = []
    for path, item in doc["paths"].items():
        concrete = "/".join("1" if part.startswith("{") else part for part in path.split("/"))
        for method in METHODS:
            if method in item:
                continue
            resp = client.open(concrete, method=method.upper(), headers=bearer(admin_token))
            if resp.status_code != 405 or resp.mimetype != "application/problem+json":
                wrong.append(f"{method.upper()} {path}: {resp.status_code} {resp.mimetype}")
            elif not {m.upper() for m in item if m in METHODS} <= set(
                resp.headers["Allow"].split(", ")
            ):
                wrong.append(f"{method.upper()} {path}: Allow {resp.headers['Allow']}")
    assert not wrong, "\n".join(wrong)
