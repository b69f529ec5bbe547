"""Serve local-storage files through signed, expiring links (with Range support)."""

from flask import Blueprint, abort, send_file

from app.platform.security import policy
from app.platform.storage import LocalStorage, get_storage
from app.platform.web.access import public

bp = Blueprint("files", __name__)


@bp.route("/files/<token>")
@public  # the signed token is the permission, like an S3 presigned URL
def download(token: str):
    storage = get_storage()
    if not isinstance(storage, LocalStorage):
        abort(404)
    try:
        key, filename = storage.resolve_token(token)
    except PermissionError:
        abort(403)
    path = storage.path(key)
    if not path.is_file():
        abort(404)
    response = send_file(path, download_name=filename, conditional=True, max_age=0)
    # The player shows PDFs in an iframe of our own pages; nobody else may frame them.
    response.headers["Content-Security-Policy"] = policy(frame_ancestors="'self'")
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response
