"""Controlled-document forms: they only shape the input; app.gxp.documents and app.gxp.versions
validate."""

from __future__ import annotations

from typing import Any

from flask_wtf.file import FileField
from wtforms import (
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)

from app.gxp.models import DEFAULT_DOCUMENT_TYPE, DOCUMENT_TYPES, SEPARATIONS
from app.gxp.segregation import SEPARATION_LABELS
from app.platform.web.forms import ServiceForm


class DocumentForm(ServiceForm):
    number = StringField("Document number", render_kw={"placeholder": "SOP-QA-001"})
    title = StringField("Title")
    document_type = SelectField(
        "Type",
        choices=list(DOCUMENT_TYPES.items()),
        default=DEFAULT_DOCUMENT_TYPE,
        validate_choice=False,
    )
    description = TextAreaField("Description", render_kw={"rows": 3})
    training_due_days = StringField(
        "Training due within (days)", default="14", render_kw={"type": "number", "min": 1}
    )
    job_role_ids = SelectMultipleField("Affected job roles", choices=[], validate_choice=False)
    department_ids = SelectMultipleField("Affected departments", choices=[], validate_choice=False)
    owner_email = StringField("Owner (email)")

    FIELDS = (
        "number",
        "title",
        "document_type",
        "description",
        "training_due_days",
        "job_role_ids",
        "department_ids",
        "owner_email",
    )

    def fill(self, job_roles, departments) -> DocumentForm:
        self.job_role_ids.choices = [(str(r.id), r.name) for r in job_roles]
        self.department_ids.choices = [(str(d.id), d.name) for d in departments]
        return self

    def to_data(self) -> dict[str, Any]:
        return {name: getattr(self, name).data for name in self.FIELDS if name in self}


class EditDocumentForm(DocumentForm):
    """The number names signed records, so it never changes."""

    number = None

    @classmethod
    def for_document(cls, doc) -> EditDocumentForm:
        data = {
            "title": doc.title,
            "document_type": doc.document_type,
            "description": doc.description,
            "training_due_days": str(doc.training_due_days),
            "owner_email": doc.owner.email if doc.owner else "",
            "job_role_ids": [str(a.job_role_id) for a in doc.audiences if a.job_role_id],
            "department_ids": [str(a.department_id) for a in doc.audiences if a.department_id],
        }
        return cls(data=data)


class VersionForm(ServiceForm):
    version = StringField("Version")
    file = FileField("File (PDF, .txt or .md, at most 50 MB)")


class ClassifyForm(ServiceForm):
    change_class = RadioField(
        "Change",
        choices=[
            ("editorial", "Editorial — wording, layout, typos: nobody retrains"),
            ("significant", "Significant — changes what people do: everyone affected retrains"),
        ],
        validate_choice=False,
    )
    change_reason = TextAreaField(
        "Reason (required for an editorial change)", render_kw={"rows": 2}
    )
    change_note = TextAreaField(
        "What changed (significant only; shown first to learners)", render_kw={"rows": 3}
    )

    def to_data(self) -> dict[str, Any]:
        return {
            "change_class": self.change_class.data,
            "change_reason": self.change_reason.data,
            "change_note": self.change_note.data,
        }


class EffectiveForm(ServiceForm):
    effective_date = StringField("Effective date", render_kw={"type": "date"})

    def to_data(self) -> dict[str, Any]:
        return {"effective_date": self.effective_date.data}


class TypeRuleForm(ServiceForm):
    """One document type's segregation of duties: the steps that need different people."""

    separations = SelectMultipleField(
        "Steps done by different people",
        choices=[(s, SEPARATION_LABELS[s]) for s in SEPARATIONS],
        validate_choice=False,
    )
