"""Render an employee training record as an A4 (landscape) PDF: a header on every page with the
person, the generation time and the content checksum, one table per section that continues
across pages (column headings repeated), and "page X of Y" in the footer."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table
from reportlab.platypus.tables import TableStyle

from app.gxp.employee_record import SIGNATURES_NONE, EmployeeRecord

INK = colors.HexColor("#1d2939")
MUTED = colors.HexColor("#667085")
ACCENT = colors.HexColor("#1f4e79")
RULE = colors.HexColor("#d0d5dd")
HEAD_BG = colors.HexColor("#eef2f7")

PAGE = landscape(A4)
MARGIN = 14 * mm
TOP = 25 * mm
BOTTOM = 16 * mm
WIDTH = PAGE[0] - 2 * MARGIN

CELL = ParagraphStyle("cell", fontName="Helvetica", fontSize=7.5, leading=9, textColor=INK)
HEAD = ParagraphStyle("head", parent=CELL, fontName="Helvetica-Bold", textColor=ACCENT)
H2 = ParagraphStyle(
    "h2", fontName="Helvetica-Bold", fontSize=11.5, leading=14, textColor=ACCENT, spaceBefore=8
)
NOTE = ParagraphStyle("note", parent=CELL, fontSize=8.5, leading=11, textColor=MUTED)
TABLE_STYLE = TableStyle(
    [
        ("BACKGROUND", (0, 0), (-1, 0), HEAD_BG),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, ACCENT),
        ("LINEBELOW", (0, 1), (-1, -1), 0.3, RULE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
)


# Building blocks shared by the PDFs in this style (the record, the inspection export's report,
# the validation report).


def safe_text(text: str) -> str:
    """The standard PDF fonts cover Latin-1 (WinAnsi); other characters would print as boxes."""
    return text.encode("cp1252", "replace").decode("cp1252")


def _fmt(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def para(value, style: ParagraphStyle = CELL) -> Paragraph:
    """A value as a paragraph: formatted, escaped, line breaks kept."""
    return Paragraph(escape(safe_text(_fmt(value))).replace("\n", "<br/>"), style)


def table(headings: list[str], widths: list[float], rows: list[list]) -> Table | Paragraph:
    """A section table: widths are shares of the page width; headings repeat on each page."""
    if not rows:
        return para("None recorded.", NOTE)
    total = sum(widths)
    data = [[para(h, HEAD) for h in headings]] + [[para(v) for v in row] for row in rows]
    out = Table(data, colWidths=[WIDTH * w / total for w in widths], repeatRows=1)
    out.setStyle(TABLE_STYLE)
    return out


def report_head(facts: list[tuple[str, Any]], notes: list[str]) -> list:
    """A report's opening: label / value rows across the page, then notes in small print."""
    table_ = Table(
        [[para(label, HEAD), para(value)] for label, value in facts],
        colWidths=[WIDTH * 0.15, WIDTH * 0.85],
    )
    table_.setStyle(TABLE_STYLE)
    return [table_, Spacer(0, 4), *(para(note, NOTE) for note in notes)]


def section(title: str, body) -> list:
    """A heading and its body; the heading is kept with the start of its table."""
    heading = Paragraph(escape(title), H2)
    if isinstance(body, Table):
        return [heading, body]
    return [KeepTogether([heading, body])]


def score_text(score, max_score=None) -> str:
    if score is None:
        return ""
    return f"{score:g} / {max_score:g}" if max_score else f"{score:g}%"


def _story(record: EmployeeRecord) -> list:
    p = record.person
    person = Table(
        [
            [
                para("Name", HEAD),
                para(p.name),
                para("Department", HEAD),
                para(p.department or "-"),
                para("Manager", HEAD),
                para(f"{p.manager_name} <{p.manager_email}>" if p.manager_name else "-"),
            ],
            [
                para("Email", HEAD),
                para(p.email),
                para("Team", HEAD),
                para(p.team or "-"),
                para("Hire date", HEAD),
                para(p.hire_date or "-"),
            ],
            [
                para("Job role", HEAD),
                para(f"{p.job_role} (risk {p.risk_level})" if p.job_role else "-"),
                para("Account", HEAD),
                para("active" if p.active else f"deactivated {_fmt(p.deactivated_at)}".strip()),
                para("Record as of", HEAD),
                para(record.as_of),
            ],
        ],
        colWidths=[WIDTH * w for w in (0.09, 0.24, 0.09, 0.2, 0.09, 0.29)],
    )
    person.setStyle(TABLE_STYLE)
    person.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, 0), colors.white)]))

    compliance = table(
        ["Requirement", "Applies via", "Risk", "Status", "Due", "Completed", "Valid until"],
        [3.2, 2, 0.8, 1.1, 1, 1, 1],
        [
            [
                f"{c.target_code} {c.target_title}"
                + (" (program)" if c.target_kind != "course" else ""),
                c.applies_via,
                c.risk_level,
                c.status.replace("_", " ") + (" (waiver)" if c.waiver_id else ""),
                c.due_date,
                c.completed_on,
                c.valid_until or ("does not expire" if c.completed_on else ""),
            ]
            for c in record.compliance
        ],
    )
    certs = record.certificates_by_id
    enrollments = table(
        [
            "Course",
            "Version",
            "Cycle",
            "Source",
            "Assigned by",
            "Due",
            "Status",
            "Started",
            "Completed",
            "Score",
            "Certificate",
        ],
        [3, 0.7, 0.6, 1, 1.4, 1, 1, 1.3, 1.3, 0.7, 1.5],
        [
            [
                f"{e.course_code} {e.course_title}",
                e.course_version,
                e.cycle,
                e.source,
                e.assigned_by,
                e.due_date,
                e.status.replace("_", " "),
                e.started_at,
                e.completed_at,
                score_text(e.score),
                certs[e.certificate_id].number if e.certificate_id in certs else "",
            ]
            for e in record.enrollments
        ],
    )
    results = table(
        [
            "Course",
            "Cycle",
            "Module",
            "Kind",
            "Attempt",
            "Score",
            "Passed",
            "Status",
            "Graded by",
            "Submitted",
            "Graded",
        ],
        [2.6, 0.6, 2, 0.9, 0.7, 0.9, 0.7, 0.9, 1.4, 1.3, 1.3],
        [
            [
                f"{r.course_code} {r.course_title}",
                r.cycle,
                r.module_title,
                r.kind,
                r.attempt_no,
                score_text(r.score, r.max_score),
                r.passed,
                r.status.replace("_", " "),
                r.graded_by or ("automatic" if r.status == "graded" else ""),
                r.submitted_at,
                r.graded_at,
            ]
            for r in record.results
        ],
    )
    certificates = table(
        ["Number", "Course", "Version", "Issued", "Expires", "Status", "Score", "Notes"],
        [1.6, 3, 0.7, 1.3, 1.3, 0.9, 0.7, 3.5],
        [
            [
                c.number,
                f"{c.course_code} {c.course_title}",
                c.course_version,
                c.issued_at,
                c.expires_at or "does not expire",
                c.status,
                score_text(c.score),
                _certificate_notes(c),
            ]
            for c in record.certificates
        ],
    )
    waivers = table(
        ["Requirement", "Reason", "Status", "Period", "Requested", "Decided", "Decision note"],
        [2.4, 2.6, 0.9, 1.7, 1.8, 1.8, 2.2],
        [
            [
                w.requirement,
                w.reason,
                w.status,
                f"{_fmt(w.starts_on)} to {_fmt(w.ends_on)}",
                f"{w.requested_by or 'system'}, {_fmt(w.requested_at)}",
                f"{w.decided_by}, {_fmt(w.decided_at)}" if w.decided_by else "",
                w.decision_note,
            ]
            for w in record.waivers
        ],
    )
    assignments = table(
        ["Requirement", "Cycle", "Due", "Reason", "Created"],
        [4, 0.7, 1.2, 2.5, 1.6],
        [[a.requirement, a.cycle, a.due_date, a.reason, a.created_at] for a in record.assignments],
    )
    signatures = (
        table(
            ["Signed by", "Meaning", "Record", "At", "Status"],
            [2, 3.5, 1.8, 2.2, 1.3],
            [
                [
                    s.get("name"),
                    f"{s.get('meaning')}: {s.get('statement')}",
                    s.get("record"),
                    s.get("at"),
                    s.get("status"),
                ]
                for s in record.signatures
            ],
        )
        if record.signatures
        else para(SIGNATURES_NONE, NOTE)
    )
    story = [
        person,
        Spacer(0, 3),
        para(
            "Times are UTC. The checksum is the SHA-256 of the record's canonical JSON "
            "(all of its content except the generation time): the same data as of the same day "
            "always gives the same checksum.",
            NOTE,
        ),
    ]
    for title, body in (
        ("Current compliance", compliance),
        ("Enrollments (every cycle)", enrollments),
        ("Results (quiz attempts, assignment grades)", results),
        ("Certificates", certificates),
        ("Waivers", waivers),
        ("Assignments", assignments),
        ("Electronic signatures", signatures),
    ):
        story += section(title, body)
    return story


def _certificate_notes(c) -> str:
    notes = []
    if c.revoked_at:
        notes.append(
            f"Revoked {_fmt(c.revoked_at)}" + (f" by {c.revoked_by}" if c.revoked_by else "")
        )
        if c.revocation_reason:
            notes.append(f"Reason: {c.revocation_reason}")
    if c.enrollment_id is None:
        notes.append("Issued by hand" + (f": {c.issue_reason}" if c.issue_reason else ""))
    return "\n".join(notes)


class _NumberedCanvas(Canvas):
    """Hold every page until the end so the footer can say "page X of Y"."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._pages: list[dict] = []

    def showPage(self):  # noqa: N802  (reportlab's name)
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self):
        total = len(self._pages)
        for number, state in enumerate(self._pages, start=1):
            self.__dict__.update(state)
            self.setFont("Helvetica", 7.5)
            self.setFillColor(MUTED)
            self.drawRightString(PAGE[0] - MARGIN, 8 * mm, f"page {number} of {total}")
            super().showPage()
        super().save()


def render_pdf(
    story: list,
    *,
    heading: str,
    footer: str,
    title: str,
    subject: str | None = None,
    details: Callable[[Canvas, float], None] | None = None,
) -> bytes:
    """A landscape A4 PDF of `story`: on every page `heading` over a rule (`details` draws the
    rest of the header, given the heading's baseline), `footer` and "page X of Y"."""

    def header(canvas: Canvas, doc) -> None:
        canvas.saveState()
        top = PAGE[1] - 12 * mm
        canvas.setFillColor(ACCENT)
        canvas.setFont("Helvetica-Bold", 13)
        canvas.drawString(MARGIN, top, heading)
        if details is not None:
            details(canvas, top)
        canvas.setStrokeColor(ACCENT)
        canvas.setLineWidth(0.8)
        canvas.line(MARGIN, top - 18, PAGE[0] - MARGIN, top - 18)
        canvas.setFillColor(MUTED)
        canvas.setFont("Helvetica", 7.5)
        canvas.drawString(MARGIN, 8 * mm, footer)
        canvas.restoreState()

    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=PAGE,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=TOP,
        bottomMargin=BOTTOM,
        title=title,
        author="Cadre",
        subject=subject,
    )
    doc.build(story, onFirstPage=header, onLaterPages=header, canvasmaker=_NumberedCanvas)
    return buf.getvalue()


def render_record_pdf(record: EmployeeRecord) -> bytes:
    """Return the PDF of an employee training record."""
    p = record.person

    def details(canvas: Canvas, top: float) -> None:
        canvas.setFillColor(INK)
        canvas.setFont("Helvetica-Bold", 10)
        canvas.drawRightString(PAGE[0] - MARGIN, top, safe_text(f"{p.name} <{p.email}>"))
        canvas.setFillColor(MUTED)
        canvas.setFont("Helvetica", 8)
        canvas.drawString(
            MARGIN, top - 12, f"Generated at {_fmt(record.generated_at)} UTC · as of {record.as_of}"
        )
        canvas.setFont("Courier", 7.5)
        canvas.drawRightString(PAGE[0] - MARGIN, top - 12, f"SHA-256 {record.checksum}")

    return render_pdf(
        _story(record),
        heading="Employee training record",
        footer="Cadre training records",
        title=safe_text(f"Training record - {p.name}"),
        subject=f"SHA-256 {record.checksum}",
        details=details,
    )
