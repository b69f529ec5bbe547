"""Uploads: check type (extension and magic bytes) and size, store bytes, record the file row."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from sqlalchemy import ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.utils import secure_filename

from app.extensions import db
from app.platform import clock
from app.platform.audit import read_back, record_audit, snapshot
from app.platform.db import UTCDateTime
from app.platform.errors import Invalid
from app.platform.storage import get_storage


class StoredFile(db.Model):
    """A file in object storage; the bytes live under `key`, the database keeps the facts."""

    __tablename__ = "stored_files"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(300), unique=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(Integer)
    checksum: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


MB = 1024 * 1024

# Per-kind size limits in bytes; tests monkeypatch smaller values.
SIZE_LIMITS: dict[str, int] = {
    "video": 500 * MB,
    "document": 50 * MB,
    "image": 5 * MB,
}


def _is_mp4(head: bytes) -> bool:
    return head[4:8] == b"ftyp"


def _is_webm(head: bytes) -> bool:
    return head.startswith(b"\x1a\x45\xdf\xa3")


def _is_pdf(head: bytes) -> bool:
    return head.startswith(b"%PDF-")


def _is_png(head: bytes) -> bool:
    return head.startswith(b"\x89PNG\r\n\x1a\n")


def _is_jpeg(head: bytes) -> bool:
    return head.startswith(b"\xff\xd8\xff")


def _is_webp(head: bytes) -> bool:
    return head[:4] == b"RIFF" and head[8:12] == b"WEBP"


# kind -> extension -> (content type, magic-byte check)
FILE_TYPES: dict[str, dict[str, tuple[str, Any]]] = {
    "video": {
        "mp4": ("video/mp4", _is_mp4),
        "m4v": ("video/mp4", _is_mp4),
        "webm": ("video/webm", _is_webm),
    },
    "document": {"pdf": ("application/pdf", _is_pdf)},
    "image": {
        "png": ("image/png", _is_png),
        "jpg": ("image/jpeg", _is_jpeg),
        "jpeg": ("image/jpeg", _is_jpeg),
        "webp": ("image/webp", _is_webp),
    },
}
KIND_LABELS = {"video": "video", "document": "document", "image": "image"}
FILE_FIELDS = ["key", "filename", "content_type", "size", "checksum", "uploaded_by_id"]


@dataclass
class CheckedUpload:
    """An upload that passed the type and size checks, held in memory until stored."""

    filename: str
    content_type: str
    data: bytes
    checksum: str

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def key(self) -> str:
        return f"files/{self.checksum[:2]}/{self.checksum}/{self.filename}"


def human_size(size: int | None) -> str:
    """Show a byte count as B / KB / MB / GB."""
    if size is None:
        return ""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def _fail(message: str) -> Invalid:
    return Invalid(message, {"file": [message]})


def _read_limited(stream: IO[bytes], limit: int) -> bytes:
    """Read at most limit + 1 bytes so an oversize upload is refused without reading it all."""
    chunks, total = [], 0
    while total <= limit:
        chunk = stream.read(min(1024 * 1024, limit + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def check_upload(file_storage, kind: str) -> CheckedUpload:
    """Read an upload and check its type and size for `kind`. Raises Invalid (key "file")."""
    if kind not in FILE_TYPES:
        raise ValueError(f"unknown upload kind {kind!r}")
    if file_storage is None or not getattr(file_storage, "filename", None):
        raise _fail("Choose a file to upload.")
    allowed = FILE_TYPES[kind]
    allowed_text = ", ".join(f".{ext}" for ext in allowed)
    original = file_storage.filename
    ext = original.rsplit(".", 1)[-1].lower() if "." in original else ""
    if ext not in allowed:
        raise _fail(f"A {KIND_LABELS[kind]} must be one of: {allowed_text}.")
    limit = SIZE_LIMITS[kind]
    data = _read_limited(file_storage.stream, limit)
    if not data:
        raise _fail("The file is empty.")
    if len(data) > limit:
        raise _fail(f"The file is larger than the {human_size(limit)} limit for a {kind}.")
    content_type, matches = allowed[ext]
    if not matches(data[:16]):
        raise _fail(f"The file's content is not a real .{ext} file.")
    safe = secure_filename(original) or f"upload.{ext}"
    if not safe.lower().endswith(f".{ext}"):
        safe = f"{safe}.{ext}"
    return CheckedUpload(
        filename=safe[-200:],
        content_type=content_type,
        data=data,
        checksum=hashlib.sha256(data).hexdigest(),
    )


def save_checked_upload(upload: CheckedUpload, actor=None) -> StoredFile:
    """Put checked bytes in storage and add the file row and its audit row (the caller commits).

    The key is derived from the content, so the same file uploaded twice reuses one row.
    """
    existing = db.session.scalar(select(StoredFile).where(StoredFile.key == upload.key))
    if existing is not None:
        return existing
    get_storage().put(upload.key, upload.data, upload.content_type)
    stored = StoredFile(
        key=upload.key,
        filename=upload.filename,
        content_type=upload.content_type,
        size=upload.size,
        checksum=upload.checksum,
        uploaded_by_id=actor.id if actor else None,
    )
    db.session.add(stored)
    db.session.flush()
    record_audit(
        "create", "file", stored.id, after=snapshot(read_back(stored), FILE_FIELDS), actor=actor
    )
    return stored


def store_upload(file_storage, kind: str, actor=None) -> StoredFile:
    """Check, store and record an upload of `kind` (video, document, image). Raises Invalid."""
    stored = save_checked_upload(check_upload(file_storage, kind), actor)
    db.session.commit()
    return stored


def download_url(stored_file: StoredFile) -> str:
    """Return a short-lived download link for a stored file."""
    return get_storage().url_for_download(stored_file.key, stored_file.filename)


def attach_checked_upload(obj, relation: str, checked, actor) -> int | None:
    """Store a checked upload and point obj.<relation> at it; return the file id if it changed."""
    if checked is None:
        return None
    stored = save_checked_upload(checked, actor)
    if stored.id == getattr(obj, f"{relation}_id"):
        return None
    setattr(obj, relation, stored)
    return stored.id
