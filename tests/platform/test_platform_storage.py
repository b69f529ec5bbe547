"""Storage round trip on the local folder (always) and on S3 (when S3_ENDPOINT is set)."""

from __future__ import annotations

import hashlib
import os
import time
import urllib.error
import urllib.request

import pytest

from app.platform.storage import LocalStorage, S3Storage, get_storage, make_storage

PAYLOAD = bytes(range(256)) * 40  # 10 KiB with every byte value, so nothing is "textified"


@pytest.fixture
def local(app, tmp_path, monkeypatch):
    """Serve files from a local-folder store, whatever backend the run is configured for."""
    store = LocalStorage(str(tmp_path / "files"), app.config["SECRET_KEY"])
    monkeypatch.setitem(app.extensions, "cadre_storage", store)
    return store


def test_local_round_trip(local):
    key = "courses/1/handbook.pdf"
    assert not local.exists(key)
    local.put(key, PAYLOAD, "application/pdf")
    assert local.exists(key)
    assert local.get(key) == PAYLOAD
    assert get_storage() is local
    local.delete(key)
    assert not local.exists(key)
    local.delete(key)  # deleting twice is harmless


def test_local_keys_cannot_escape_the_folder(local):
    with pytest.raises(ValueError):
        local.put("../outside.txt", b"x", "text/plain")


def test_local_signed_download_serves_bytes_and_ranges(local, client):
    local.put("videos/intro.mp4", PAYLOAD, "video/mp4")
    url = local.url_for_download("videos/intro.mp4", "intro.mp4")

    resp = client.get(url)
    assert resp.status_code == 200
    assert resp.data == PAYLOAD
    assert "intro.mp4" in resp.headers["Content-Disposition"]

    part = client.get(url, headers={"Range": "bytes=100-299"})
    assert part.status_code == 206
    assert part.data == PAYLOAD[100:300]
    assert part.headers["Content-Range"] == f"bytes 100-299/{len(PAYLOAD)}"


def test_local_tampered_or_expired_link_is_refused(local, client):
    local.put("docs/sop.pdf", PAYLOAD, "application/pdf")
    url = local.url_for_download("docs/sop.pdf", "sop.pdf")
    head, tail = url[:-3], url[-3:]
    tampered = head + ("AAA" if tail != "AAA" else "BBB")
    assert client.get(tampered).status_code == 403
    # Something that was never a token at all.
    assert client.get("/files/not-a-token").status_code == 403

    short = local.url_for_download("docs/sop.pdf", "sop.pdf", expires=1)
    assert client.get(short).status_code == 200
    time.sleep(2.1)
    assert client.get(short).status_code == 403


def test_local_link_for_deleted_file_is_not_found(local, client):
    local.put("docs/old.pdf", b"old", "application/pdf")
    url = local.url_for_download("docs/old.pdf", "old.pdf")
    local.delete("docs/old.pdf")
    assert client.get(url).status_code == 404


needs_s3 = pytest.mark.skipif(not os.environ.get("S3_ENDPOINT"), reason="S3_ENDPOINT not set")


@needs_s3
def test_s3_round_trip_and_presigned_url(app):
    store = make_storage(app.config)
    assert isinstance(store, S3Storage)
    key = f"tests/{hashlib.sha1(os.urandom(8)).hexdigest()}/manual.pdf"  # noqa: S324
    assert not store.exists(key)
    store.put(key, PAYLOAD, "application/pdf")
    try:
        assert store.exists(key)
        assert store.get(key) == PAYLOAD

        url = store.url_for_download(key, "manual.pdf", expires=60)
        with urllib.request.urlopen(url, timeout=10) as resp:  # noqa: S310 (our own endpoint)
            assert resp.status == 200
            assert resp.read() == PAYLOAD
            assert "manual.pdf" in resp.headers["Content-Disposition"]

        # Flip one character of the signature: the store must refuse it.
        sig_at = url.index("X-Amz-Signature=") + len("X-Amz-Signature=")
        flipped = "0" if url[sig_at] != "0" else "1"
        tampered = url[:sig_at] + flipped + url[sig_at + 1 :]
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(tampered, timeout=10)  # noqa: S310
        assert err.value.code == 403
    finally:
        store.delete(key)
    assert not store.exists(key)


@needs_s3
def test_app_uses_s3_when_configured(app):
    assert isinstance(get_storage(), S3Storage)
