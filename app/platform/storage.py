"""Object storage: one interface, a local-folder backend (default) and an S3 backend (minio SDK)."""

from __future__ import annotations

import io
import os
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Protocol
from urllib.parse import quote

from flask import Flask, current_app, url_for
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer


class Storage(Protocol):
    def put(self, key: str, data: bytes, content_type: str) -> None: ...
    def get(self, key: str) -> bytes: ...
    def url_for_download(self, key: str, filename: str, expires: int = 300) -> str: ...
    def delete(self, key: str) -> None: ...
    def exists(self, key: str) -> bool: ...
    def keys(self, prefix: str) -> list[str]: ...


class LocalStorage:
    """Files in a folder; downloads go through a signed, expiring app URL like a presigned one."""

    def __init__(self, root: str, secret: str):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._signer = URLSafeTimedSerializer(secret, salt="cadre-download")

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError("key escapes the storage folder")
        return path

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # A unique temp name: two writers of one key must not trample each other's part file.
        tmp = path.with_name(f"{path.name}.{uuid.uuid4().hex}.part")
        tmp.write_bytes(data)
        os.replace(tmp, path)  # atomic: readers never see half a file

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def path(self, key: str) -> Path:
        return self._path(key)

    def url_for_download(self, key: str, filename: str, expires: int = 300) -> str:
        token = self._signer.dumps({"k": key, "f": filename, "e": expires})
        return url_for("files.download", token=token)

    def resolve_token(self, token: str) -> tuple[str, str]:
        """Return (key, filename) for a valid, unexpired download token."""
        try:
            data = self._signer.loads(token, max_age=3600 * 24)
            self._signer.loads(token, max_age=data["e"])
        except (BadSignature, SignatureExpired, KeyError, TypeError) as exc:
            raise PermissionError("invalid or expired download link") from exc
        return data["k"], data["f"]

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def keys(self, prefix: str) -> list[str]:
        """Every stored key under `prefix` (a folder, ending in "/"), sorted."""
        folder = self._path(prefix)
        if not folder.is_dir():
            return []
        root = self.root.resolve()
        return sorted(
            str(p.relative_to(root))
            for p in folder.rglob("*")
            if p.is_file() and not p.name.endswith(".part")
        )


class S3Storage:
    """Any S3-compatible store (MinIO in production, SeaweedFS in CI) through the minio SDK."""

    def __init__(
        self,
        endpoint: str,
        access_key: str,
        secret_key: str,
        bucket: str,
        region: str,
        secure: bool,
    ):
        from minio import Minio

        endpoint = endpoint.split("://", 1)[-1].rstrip("/")
        self.bucket = bucket
        self.client = Minio(
            endpoint, access_key=access_key, secret_key=secret_key, secure=secure, region=region
        )
        self._bucket_ready = False

    def _ensure_bucket(self) -> None:
        if not self._bucket_ready:
            if not self.client.bucket_exists(self.bucket):
                try:
                    self.client.make_bucket(self.bucket)
                except Exception:  # another process may have created it meanwhile
                    if not self.client.bucket_exists(self.bucket):
                        raise
            self._bucket_ready = True

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self._ensure_bucket()
        self.client.put_object(
            self.bucket, key, io.BytesIO(data), len(data), content_type=content_type
        )

    def get(self, key: str) -> bytes:
        resp = self.client.get_object(self.bucket, key)
        try:
            return resp.read()
        finally:
            resp.close()
            resp.release_conn()

    def url_for_download(self, key: str, filename: str, expires: int = 300) -> str:
        self._ensure_bucket()
        disposition = f"inline; filename*=UTF-8''{quote(filename)}"
        return self.client.presigned_get_object(
            self.bucket,
            key,
            expires=timedelta(seconds=expires),
            response_headers={"response-content-disposition": disposition},
        )

    def delete(self, key: str) -> None:
        self._ensure_bucket()
        self.client.remove_object(self.bucket, key)

    def exists(self, key: str) -> bool:
        from minio.error import S3Error

        self._ensure_bucket()
        try:
            self.client.stat_object(self.bucket, key)
            return True
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject", "NotFound"):
                return False
            raise

    def keys(self, prefix: str) -> list[str]:
        """Every stored key under `prefix`, sorted."""
        self._ensure_bucket()
        return sorted(
            obj.object_name
            for obj in self.client.list_objects(self.bucket, prefix=prefix, recursive=True)
        )


def make_storage(config) -> Storage:
    if config.get("S3_ENDPOINT"):
        return S3Storage(
            config["S3_ENDPOINT"],
            config["S3_ACCESS_KEY"],
            config["S3_SECRET_KEY"],
            config["S3_BUCKET"],
            config["S3_REGION"],
            config["S3_SECURE"],
        )
    return LocalStorage(config["STORAGE_DIR"], config["SECRET_KEY"])


def init_app(app: Flask) -> None:
    app.extensions["cadre_storage"] = make_storage(app.config)


def get_storage() -> Storage:
    return current_app.extensions["cadre_storage"]
