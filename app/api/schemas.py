"""Typed request and response bodies: each declared once, as a pydantic model, which validates
the input (field errors in the usual 422 problem+json), shapes the output and is the OpenAPI
component schema (pydantic writes JSON Schema 2020-12, the dialect of OpenAPI 3.1).

A new endpoint: an `Input` model for its body and an `Output` model for its answer; the view
calls `parse(Model)` and returns `dump(Model, fields)`; `register_models(...)` puts the models
into the document, and the path's requestBody/responses `$ref` them by class name.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter, ValidationError
from pydantic_core import PydanticCustomError

from app.api import json_object, openapi
from app.platform.errors import Invalid
from app.platform.inputs import MAX_ID

REF_TEMPLATE = "#/components/schemas/{model}"
# Longest text any field takes unless it says less (a password, a note): far below what a
# request may carry, so an oversized field is a field error, not a database one.
MAX_TEXT = 10_000


class Input(BaseModel):
    """A request body: unknown fields are refused, and types are strict (no "7" for 7, no
    true for 1), so what the document says is what the endpoint takes."""

    model_config = ConfigDict(extra="forbid", strict=True, str_max_length=MAX_TEXT)


def _open_to_new_fields(schema: dict, _model: type) -> None:
    schema.pop("additionalProperties", None)


class Output(BaseModel):
    """A response body. Every field is always present (null when empty), so all are required;
    extra="forbid" makes a view that answers more than the model says fail its tests, while
    the document leaves answers open to fields added later."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_open_to_new_fields)


# --- field types -----------------------------------------------------------------------------

# An id taken from outside: a JSON integer (not a bool, not a string) within the database's
# integer range, so a larger one is a field error instead of a failed query.
Id = Annotated[int, Field(strict=True, ge=1, le=MAX_ID)]
Text = Annotated[str, Field(max_length=2000)]
# Instants and days in answers: already ISO 8601 text (app.platform.timefmt), typed for the
# document.
DateTimeText = Annotated[str, Field(json_schema_extra={"format": "date-time"})]
DateText = Annotated[str, Field(json_schema_extra={"format": "date"})]
UriText = Annotated[str, Field(json_schema_extra={"format": "uri"})]


def _iso_date(value: Any) -> date:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise PydanticCustomError("iso_date", "An ISO date such as 2030-01-31, or null.")


def _iso_moment(value: Any) -> datetime:
    """An ISO 8601 date (midnight UTC) or date-time (naive means UTC)."""
    if isinstance(value, str):
        try:
            if len(value) == 10:
                return datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
            moment = datetime.fromisoformat(value)
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        except ValueError:
            pass
    raise PydanticCustomError(
        "iso_moment", "An ISO 8601 date or date-time, e.g. 2024-05-01T09:00:00Z."
    )


IsoDate = Annotated[date, BeforeValidator(_iso_date)]
IsoMoment = Annotated[datetime, BeforeValidator(_iso_moment)]


class RequirementStatus(StrEnum):
    """A requirement's compliance status, as the compliance domain derives it (declared here,
    below the domains, so every API area that shows it uses this one declaration)."""

    compliant = "compliant"
    due_soon = "due_soon"
    overdue = "overdue"
    expired = "expired"
    not_started = "not_started"
    waived = "waived"


class Page(Output):
    """Where a page of a list stands; subclasses add `items`."""

    page: int
    per_page: int
    total: int
    pages: int


# --- parse and dump --------------------------------------------------------------------------

M = TypeVar("M", bound=Input)
_MESSAGES = {"missing": "Required.", "extra_forbidden": "Not a field of this request."}


def field_errors(exc: ValidationError) -> dict[str, list[str]]:
    """The problem+json `errors` shape: field name (dotted when nested) -> messages."""
    errors: dict[str, list[str]] = {}
    for error in exc.errors(include_url=False, include_input=False):
        name = ".".join(str(part) for part in error["loc"]) or "body"
        errors.setdefault(name, []).append(_MESSAGES.get(error["type"], error["msg"]))
    return errors


def parse(model: type[M]) -> M:
    """The request's JSON object body as `model`. Raises DomainError (400) for a body that is
    not a JSON object and Invalid (422) with field errors for one that does not fit. The input
    guard (app.platform.web.guard) has already refused unsafe strings and deep nesting."""
    data = json_object()
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise Invalid("Some fields are not valid.", field_errors(exc)) from None


def dump(model: type[Output], fields: Any) -> dict[str, Any]:
    """`fields` (a dict, or an object with those attributes) as `model` says, ready for JSON.
    Validated: an answer that drifts from its declaration fails loudly in the tests."""
    return model.model_validate(fields, from_attributes=not isinstance(fields, dict)).model_dump(
        mode="json"
    )


# --- OpenAPI ---------------------------------------------------------------------------------


def component_schemas(*models: type) -> dict[str, dict]:
    """The models (and enums) as OpenAPI component schemas, with the models they use hoisted
    beside them (`$defs` become components; references point there). Inputs are described as
    they are validated, outputs as they are serialised."""
    schemas: dict[str, dict] = {}
    for model in models:
        mode = "validation" if issubclass(model, Input) else "serialization"
        schema = TypeAdapter(model).json_schema(ref_template=REF_TEMPLATE, mode=mode)
        for name, definition in {**schema.pop("$defs", {}), model.__name__: schema}.items():
            if schemas.get(name, definition) != definition:
                raise ValueError(f"Two different schemas are named {name}.")
            schemas[name] = definition
    return schemas


def register_models(paths: dict, *models: type) -> None:
    """openapi.register with the models' schemas; a name already taken by another schema is a
    programming error (two areas must not both declare `Certification`)."""
    schemas = component_schemas(*models)
    taken = openapi.DOCUMENT["components"]["schemas"]
    clashes = [name for name, schema in schemas.items() if taken.get(name, schema) != schema]
    if clashes:
        raise ValueError(f"OpenAPI component schemas declared twice: {', '.join(clashes)}.")
    openapi.register(paths, schemas)


def body(model: type[Input]) -> dict:
    """The requestBody of an operation that takes `model`."""
    return {"required": True, "content": {"application/json": {"schema": ref(model)}}}


def ref(model: type) -> dict:
    """A reference to the component schema of `model` (a model or an enum)."""
    return {"$ref": REF_TEMPLATE.format(model=model.__name__)}
