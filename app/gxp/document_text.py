"""Controlled-document files: the upload check, plain-text extraction and the line diff.

QA decides "editorial or significant" by reading what changed, so every version keeps the
plain text of its file (PDF via pypdf, text and markdown decoded) and the version page shows a
line diff against the previous effective version. The diff is computed here and rendered by
the template, whose autoescaping keeps document text from ever becoming markup.
"""

from __future__ import annotations

import difflib
import hashlib
import io
import logging
import re
from dataclasses import dataclass, field

from werkzeug.utils import secure_filename

from app.platform import files
from app.platform.errors import Invalid
from app.platform.files import SIZE_LIMITS, CheckedUpload, human_size

log = logging.getLogger("cadre.documents")

# extension -> stored content type; PDFs are checked by the module-upload rules in files.py.
DOCUMENT_TYPES = {
    "pdf": "application/pdf",
    "txt": "text/plain; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
}
ALLOWED_TEXT = ", ".join(f".{ext}" for ext in DOCUMENT_TYPES)
# Text kept per version: far more than any SOP, small enough for a diff in a request.
MAX_TEXT_CHARS = 500_000
DIFF_CONTEXT = 3


def _fail(message: str) -> Invalid:
    return Invalid(message, {"file": [message]})


def check_document_upload(file_storage) -> CheckedUpload:
    """Read an SOP upload (PDF, .txt or .md) and check its type and size. Raises Invalid."""
    if file_storage is None or not getattr(file_storage, "filename", None):
        raise _fail("Choose a file to upload.")
    original = file_storage.filename
    ext = original.rsplit(".", 1)[-1].lower() if "." in original else ""
    if ext not in DOCUMENT_TYPES:
        raise _fail(f"A controlled document must be one of: {ALLOWED_TEXT}.")
    if ext == "pdf":
        return files.check_upload(file_storage, "document")
    limit = SIZE_LIMITS["document"]
    data = files._read_limited(file_storage.stream, limit)
    if not data:
        raise _fail("The file is empty.")
    if len(data) > limit:
        raise _fail(f"The file is larger than the {human_size(limit)} limit for a document.")
    if b"\x00" in data[:8192] or _decode(data) is None:
        raise _fail(f"The file's content is not UTF-8 text, so it is not a real .{ext} file.")
    safe = secure_filename(original) or f"document.{ext}"
    if not safe.lower().endswith(f".{ext}"):
        safe = f"{safe}.{ext}"
    return CheckedUpload(
        filename=safe[-200:],
        content_type=DOCUMENT_TYPES[ext],
        data=data,
        checksum=hashlib.sha256(data).hexdigest(),
    )


def _decode(data: bytes) -> str | None:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


def normalise_text(text: str) -> str:
    """Unix line ends, no trailing blanks, at most one empty line in a row (a stable diff)."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    out = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")
    return out[:MAX_TEXT_CHARS]


def extract_text(data: bytes, content_type: str) -> str:
    """The plain text of a document file; '' when a PDF has no extractable text (a scan)."""
    if content_type.startswith("application/pdf"):
        try:
            from pypdf import PdfReader

            reader = PdfReader(io.BytesIO(data))
            text = "\n".join(page.extract_text() or "" for page in reader.pages)
        except Exception:  # a damaged PDF still stores; it just has no text to compare
            log.warning("text extraction failed for a PDF of %d bytes", len(data), exc_info=True)
            return ""
        return normalise_text(text)
    return normalise_text(_decode(data) or "")


@dataclass(frozen=True)
class DiffLine:
    """One line of the diff: kind is "same", "added", "removed" or "gap" (skipped lines)."""

    kind: str
    text: str
    old_no: int | None = None
    new_no: int | None = None


@dataclass
class TextDiff:
    lines: list[DiffLine] = field(default_factory=list)
    added: int = 0
    removed: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed)


def diff_text(old: str, new: str, context: int = DIFF_CONTEXT) -> TextDiff:
    """Line diff of two texts with `context` unchanged lines around each change."""
    a, b = old.split("\n") if old else [], new.split("\n") if new else []
    out = TextDiff()
    if a == b:
        return out
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for n, group in enumerate(matcher.get_grouped_opcodes(context)):
        first = group[0]
        if n or first[1] > 0 or first[3] > 0:
            out.lines.append(DiffLine("gap", f"@@ line {first[1] + 1} → line {first[3] + 1} @@"))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                out.lines += [DiffLine("same", a[i], i + 1, j1 + i - i1 + 1) for i in range(i1, i2)]
                continue
            if tag in ("delete", "replace"):
                out.lines += [DiffLine("removed", a[i], old_no=i + 1) for i in range(i1, i2)]
                out.removed += i2 - i1
            if tag in ("insert", "replace"):
                out.lines += [DiffLine("added", b[j], new_no=j + 1) for j in range(j1, j2)]
                out.added += j2 - j1
    return out
