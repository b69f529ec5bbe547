"""Render a certificate as an A4 landscape PDF with a QR code of its public verification link."""

from __future__ import annotations

import io
from datetime import datetime

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from app.learning.models import Certification

INK = HexColor("#1d2939")
MUTED = HexColor("#667085")
ACCENT = HexColor("#1f4e79")
GOLD = HexColor("#b08d3c")


def _date(value: datetime | None) -> str:
    return f"{value.day} {value:%B %Y}" if value else ""


def _fit(text: str, font: str, size: float, width: float, smallest: float = 10) -> float:
    """Shrink the font size until `text` fits `width`."""
    while size > smallest and stringWidth(text, font, size) > width:
        size -= 0.5
    return size


def _safe(text: str) -> str:
    # The standard PDF fonts cover Latin-1 (WinAnsi); other characters would print as boxes.
    return text.encode("cp1252", "replace").decode("cp1252")


def _qr(canvas: Canvas, value: str, x: float, y: float, size: float) -> None:
    widget = QrCodeWidget(value, barLevel="M")
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(widget)
    renderPDF.draw(drawing, canvas, x, y)


def render_certificate_pdf(cert: Certification, url: str, compress: bool = True) -> bytes:
    """Return the certificate PDF, its QR code and link pointing at `url` (where the public
    verifies it); the same certificate always renders the same bytes."""
    width, height = landscape(A4)
    cx = width / 2
    buf = io.BytesIO()
    # invariant=1 fixes the creation date and document id, so concurrent renders are identical.
    c = Canvas(buf, pagesize=(width, height), invariant=1, pageCompression=1 if compress else 0)
    c.setTitle(f"Certificate {cert.number}")
    c.setAuthor("Cadre")
    c.setSubject(f"{cert.course.title} - {cert.user.name}")

    # Frame: a heavy outer rule and a thin gold inner rule.
    c.setStrokeColor(ACCENT)
    c.setLineWidth(4)
    c.rect(22, 22, width - 44, height - 44)
    c.setStrokeColor(GOLD)
    c.setLineWidth(0.8)
    c.rect(32, 32, width - 64, height - 64)

    c.setFillColor(ACCENT)
    c.setFont("Helvetica-Bold", 11)
    c.drawCentredString(cx, height - 78, "C A D R E")
    c.setFillColor(INK)
    c.setFont("Times-Bold", 40)
    c.drawCentredString(cx, height - 132, "Certificate of Completion")
    c.setStrokeColor(GOLD)
    c.setLineWidth(1.2)
    c.line(cx - 90, height - 148, cx + 90, height - 148)

    c.setFillColor(MUTED)
    c.setFont("Helvetica", 13)
    c.drawCentredString(cx, height - 190, "This certifies that")
    name = _safe(cert.user.name)
    size = _fit(name, "Times-BoldItalic", 34, width - 200)
    c.setFillColor(INK)
    c.setFont("Times-BoldItalic", size)
    c.drawCentredString(cx, height - 235, name)
    c.setStrokeColor(HexColor("#d0d5dd"))
    c.setLineWidth(0.6)
    c.line(cx - 220, height - 247, cx + 220, height - 247)

    c.setFillColor(MUTED)
    c.setFont("Helvetica", 13)
    c.drawCentredString(cx, height - 275, "has successfully completed the course")
    title = _safe(cert.course.title)
    size = _fit(title, "Helvetica-Bold", 22, width - 160)
    c.setFillColor(ACCENT)
    c.setFont("Helvetica-Bold", size)
    c.drawCentredString(cx, height - 308, title)
    c.setFillColor(MUTED)
    c.setFont("Helvetica", 11)
    c.drawCentredString(
        cx, height - 328, f"{_safe(cert.course.code)}  ·  Version {cert.course_version}"
    )

    # Facts: three columns.
    facts = [
        ("COMPLETED ON", _date(cert.issued_at)),
        ("VALID UNTIL", _date(cert.expires_at) if cert.expires_at else "Does not expire"),
        ("CERTIFICATE NO.", cert.number),
    ]
    column = (width - 200) / 3
    for i, (label, value) in enumerate(facts):
        x = 100 + column * i + column / 2
        c.setFillColor(MUTED)
        c.setFont("Helvetica", 9)
        c.drawCentredString(x, 184, label)
        c.setFillColor(INK)
        c.setFont("Helvetica-Bold", 14)
        c.drawCentredString(x, 166, value)
    c.setStrokeColor(HexColor("#e4e7ec"))
    c.setLineWidth(0.6)
    c.line(100, 208, width - 100, 208)

    # Verification: QR code bottom right, the link beside it.
    qr_size = 92
    qr_x, qr_y = width - 56 - qr_size, 50
    _qr(c, url, qr_x, qr_y, qr_size)
    c.setFillColor(INK)
    c.setFont("Helvetica-Bold", 9)
    c.drawRightString(qr_x - 10, qr_y + 52, "Verify this certificate")
    c.setFillColor(MUTED)
    c.setFont("Helvetica", 8)
    c.drawRightString(qr_x - 10, qr_y + 40, url)
    c.drawString(56, qr_y + 40, "Issued by Cadre training records")
    c.showPage()
    c.save()
    return buf.getvalue()
