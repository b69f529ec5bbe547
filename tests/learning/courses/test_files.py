"""Uploads: type by extension and magic bytes, size limits, storage round trip, audit."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from app.extensions import db
from app.platform import files
from app.platform.audit import AuditLog
from app.platform.errors import Invalid
from app.platform.files import StoredFile
from app.platform.storage import LocalStorage, get_storage
from tests.learning.courses.conftest import (
    EXE,
    JPEG,
    MP4,
    PDF,
    PNG,
    WEBM,
    audit_count,
    count,
    upload,
)


def test_pdf_is_stored_under_its_checksum_and_round_trips(app, trainer):
    stored = files.store_upload(upload(PDF, "GMP Basics v2.pdf"), "document", trainer)

    digest = hashlib.sha256(PDF).hexdigest()
    assert stored.key == f"files/{digest[:2]}/{digest}/GMP_Basics_v2.pdf"
    assert stored.filename == "GMP_Basics_v2.pdf"
    assert (stored.content_type, stored.size, stored.checksum) == (
        "application/pdf",
        len(PDF),
        digest,
    )
    assert stored.uploaded_by_id == trainer.id
    assert get_storage().get(stored.key) == PDF


def test_upload_writes_an_audit_row(app, trainer):
    stored = files.store_upload(upload(PNG, "cover.png"), "image", trainer)

    row = db.session.scalars(select(AuditLog).where(AuditLog.entity == "file")).one()
    assert (row.action, row.entity_id, row.actor_id) == ("create", str(stored.id), trainer.id)
    assert row.after["checksum"] == stored.checksum
    assert row.after["size"] == len(PNG)


@pytest.mark.parametrize(
    "data, name, kind, content_type",
    [
        (MP4, "intro.mp4", "video", "video/mp4"),
        (WEBM, "intro.webm", "video", "video/webm"),
        (PNG, "c.png", "image", "image/png"),
        (JPEG, "c.JPG", "image", "image/jpeg"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 " + bytes(20), "c.webp", "image", "image/webp"),
    ],
)
def test_accepted_types_get_the_detected_content_type(app, trainer, data, name, kind, content_type):
    assert files.store_upload(upload(data, name), kind, trainer).content_type == content_type


@pytest.mark.parametrize(
    "data, name, kind, message",
    [
        (PNG, "report.pdf", "document", "not a real .pdf"),  # a PNG wearing a .pdf name
        (EXE, "setup.exe", "document", "must be one of: .pdf"),
        (EXE, "movie.mp4", "video", "not a real .mp4"),
        (PDF, "slides.pdf", "video", "must be one of: .mp4"),
        (PDF, "noextension", "document", "must be one of"),
        (b"", "empty.pdf", "document", "empty"),
    ],
)
def test_wrong_or_disguised_files_are_refused_and_nothing_is_written(
    app, trainer, data, name, kind, message
):
    with pytest.raises(Invalid) as exc:
        files.store_upload(upload(data, name), kind, trainer)

    assert message in exc.value.errors["file"][0]
    assert count(StoredFile) == 0
    assert audit_count("file") == 0


def test_missing_file_is_refused(app, trainer):
    with pytest.raises(Invalid) as exc:
        files.store_upload(None, "document", trainer)
    assert exc.value.errors == {"file": ["Choose a file to upload."]}


def test_size_limit_per_kind(app, trainer, monkeypatch):
    monkeypatch.setitem(files.SIZE_LIMITS, "document", 1024)
    big = PDF + b"0" * 1024

    with pytest.raises(Invalid) as exc:
        files.store_upload(upload(big, "big.pdf"), "document", trainer)

    assert "larger than the 1.0 KB limit" in exc.value.errors["file"][0]
    assert count(StoredFile) == 0
    # The same size is fine for a kind with a larger limit.
    monkeypatch.setitem(files.SIZE_LIMITS, "video", 1 << 20)
    assert files.store_upload(upload(MP4 + b"0" * 1024, "v.mp4"), "video", trainer).id


def test_same_file_twice_reuses_one_row(app, trainer):
    first = files.store_upload(upload(PDF, "a.pdf"), "document", trainer)
    second = files.store_upload(upload(PDF, "a.pdf"), "document", trainer)
    assert first.id == second.id
    assert count(StoredFile) == 1


def test_download_url_serves_the_bytes(app, client, trainer):
    stored = files.store_upload(upload(PDF, "manual.pdf"), "document", trainer)
    url = files.download_url(stored)
    if not isinstance(get_storage(), LocalStorage):
        assert stored.key.split("/")[-1] in url  # presigned S3 URL for the object
        return
    resp = client.get(url)
    assert resp.status_code == 200
    assert resp.data == PDF
