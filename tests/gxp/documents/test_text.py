"""Text extraction from the files and the line diff."""

from __future__ import annotations

import io

import pytest
from reportlab.pdfgen import canvas
from werkzeug.datastructures import FileStorage

from app.gxp.document_text import check_document_upload, diff_text, extract_text
from app.platform.errors import Invalid


def _pdf(*lines: str) -> bytes:
    out = io.BytesIO()
    page = canvas.Canvas(out)
    for n, line in enumerate(lines):
        page.drawString(72, 720 - 16 * n, line)
    page.save()
    return out.getvalue()


def _file(data: bytes, name: str) -> FileStorage:
    return FileStorage(stream=io.BytesIO(data), filename=name)


def test_pdf_text_is_extracted_and_fake_files_are_refused(app):
    checked = check_document_upload(_file(_pdf("Clean the line.", "Sign the log."), "SOP 1.pdf"))
    assert checked.content_type == "application/pdf" and checked.filename == "SOP_1.pdf"
    assert extract_text(checked.data, checked.content_type) == "Clean the line.\nSign the log."
    for data, name in ((b"not a pdf", "x.pdf"), (b"\xff\xfe\x00bin", "x.txt"), (b"", "x.md")):
        with pytest.raises(Invalid) as exc:
            check_document_upload(_file(data, name))
        assert "file" in exc.value.errors
    assert extract_text("Å\r\n\r\n\r\n\r\nB  \n".encode(), "text/plain") == "Å\n\nB"


def test_diff_marks_added_and_removed_lines_with_context():
    old = "\n".join(f"line {n}" for n in range(1, 21))
    new = old.replace("line 10", "line ten").replace("line 20", "line 20\nline 21")
    diff = diff_text(old, new)
    assert (diff.added, diff.removed) == (2, 1)
    kinds = [(d.kind, d.text) for d in diff.lines if d.kind != "same"]
    assert kinds[:3] == [
        ("gap", "@@ line 7 → line 7 @@"),
        ("removed", "line 10"),
        ("added", "line ten"),
    ]
    assert ("added", "line 21") in kinds
    assert not diff_text(old, old).changed and diff_text("", "").lines == []
