"""`Idempotency-Key` on API POSTs: a retried request gets the first answer, not a second write.

A POST carrying the header claims the key for its credential (token or session user) in a
transaction of its own, committed before the use case starts, so every process sees the claim:
a second request with the key while the first is being served gets 409, one with another
method, path, query or body 422, one after it the stored answer (status, body, Location and the
other headers that describe it) with `Idempotent-Replayed: true`. Answers are kept 24 hours on
the business clock; the hourly `api.purge_idempotency_keys` job deletes older ones. A 5xx, a
409 or a 429 is not kept (the key is released, so the client may retry with it); any other
answer, 4xx included, is (as Stripe does): the same request would be refused the same way.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta

from flask import current_app, g, request
from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from app.api.models import IdempotencyKey
from app.extensions import db
from app.platform import clock
from app.platform.web.errors import problem

log = logging.getLogger("cadre.api.idempotency")

HEADER = "Idempotency-Key"
KEEP = timedelta(hours=24)
# A claim whose request has not finished in this long was abandoned (its process died): the
# key may be claimed again.
ABANDONED_AFTER = timedelta(minutes=10)
MAX_LENGTH = 255
# The headers that belong to the answer (not to the connection or this one response).
KEPT_HEADERS = (
    "Content-Type",
    "Location",
    "Link",
    "Content-Disposition",
    "Content-Location",
    "ETag",
    "Last-Modified",
)
NOT_KEPT = frozenset({409, 429})
_table = IdempotencyKey.__table__


def credential_of(token, actor) -> str:
    """The scope of a key: the API token, else the signed-in person."""
    return f"token:{token.id}" if token is not None else f"user:{actor.id}"


def _valid(key: str) -> bool:
    return 0 < len(key) <= MAX_LENGTH and all(" " <= ch <= "~" for ch in key)


def fingerprint() -> str:
    """SHA-256 of what makes this request this request: method, path, query and body bytes."""
    digest = hashlib.sha256()
    for part in (
        request.method.encode(),
        request.path.encode("utf-8", "replace"),
        request.query_string,
        request.get_data(cache=True),
    ):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def _insert(conn, credential: str, key: str, print_: str, now) -> int | None:
    """Claim the key; None when the credential holds it already."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = (
        dialect.insert(_table)
        .values(credential=credential, key=key, fingerprint=print_, created_at=now)
        .on_conflict_do_nothing(index_elements=["credential", "key"])
        .returning(_table.c.id)
    )
    return conn.execute(stmt).scalar()


def _take_over(conn, row, print_: str, now) -> int | None:
    """Claim an expired or abandoned key afresh; None when another request got there first."""
    done = conn.execute(
        update(_table)
        .where(_table.c.id == row.id, _table.c.created_at == row.created_at)
        .values(fingerprint=print_, created_at=now, status=None, headers=None, body=None)
    )
    return row.id if done.rowcount == 1 else None


def _in_flight():
    resp = problem(
        409,
        "Request in progress",
        f"A request with this {HEADER} is still being served; retry once it has been answered.",
    )
    resp.headers["Retry-After"] = "1"
    return resp


def _replay(row):
    resp = current_app.response_class(row.body or b"", status=row.status)
    resp.headers.pop("Content-Type", None)
    for name, value in row.headers or []:
        resp.headers[name] = value
    resp.headers["Idempotent-Replayed"] = "true"
    return resp


def begin(token, actor):
    """Before a POST's use case: claim its key, or return the answer it gets instead (the
    stored one, 409 while the first is in flight, 422 for another request, 400 for a bad key).
    None: go on (no key, or the key is now claimed for this request)."""
    key = request.headers.get(HEADER)
    if key is None or request.method != "POST":
        return None
    if not _valid(key):
        return problem(
            400,
            f"Bad {HEADER}",
            f"An {HEADER} is 1 to {MAX_LENGTH} printable ASCII characters (a UUID, say).",
        )
    credential, print_, now = credential_of(token, actor), fingerprint(), clock.now()
    with db.engine.begin() as conn:
        claimed = _insert(conn, credential, key, print_, now)
        row = None
        if claimed is None:
            row = conn.execute(
                select(_table).where(_table.c.credential == credential, _table.c.key == key)
            ).first()
            if row is None:  # purged a moment ago
                claimed = _insert(conn, credential, key, print_, now)
            elif row.created_at <= now - KEEP or (
                row.status is None and row.created_at <= now - ABANDONED_AFTER
            ):
                claimed = _take_over(conn, row, print_, now)
                if claimed is None:
                    return _in_flight()
    if claimed is not None:
        g.idempotency_claim = claimed
        return None
    if row.fingerprint != print_:
        return problem(
            422,
            f"{HEADER} reused",
            f"This {HEADER} was sent with another request (method, path or body) in the last "
            "24 hours; use a new key for a new request.",
        )
    if row.status is None:
        return _in_flight()
    return _replay(row)


def finish(response):
    """After the POST's answer is made: keep it under the claimed key, or release the key for a
    retry when the answer is one a retry may change (5xx, 409, 429)."""
    claim = g.pop("idempotency_claim", None)
    if claim is None:
        return response
    status = response.status_code
    if status >= 500 or status in NOT_KEPT or response.is_streamed:
        _release(claim)
        return response
    if status >= 400:
        # The refused use case wrote nothing (nothing half-written); free SQLite's writer lock
        # for the claim's own transaction.
        db.session.rollback()
    headers = [[name, response.headers[name]] for name in KEPT_HEADERS if name in response.headers]
    with db.engine.begin() as conn:
        conn.execute(
            update(_table)
            .where(_table.c.id == claim)
            .values(status=status, headers=headers, body=response.get_data())
        )
    return response


def _release(claim: int) -> None:
    db.session.rollback()
    with db.engine.begin() as conn:
        conn.execute(delete(_table).where(_table.c.id == claim))


def release_unfinished(exc=None) -> None:
    """End of request: a claim that no answer was stored under (the request failed before it
    had one) is released, so a retry can run."""
    claim = g.pop("idempotency_claim", None)
    if claim is None:
        return
    try:
        _release(claim)
    except Exception:  # noqa: BLE001 - the claim is taken over once abandoned anyway
        log.exception("could not release idempotency key %s", claim)


def purge_expired() -> int:
    """Delete the keys older than 24 hours; return how many."""
    result = db.session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.created_at <= clock.now() - KEEP)
    )
    db.session.commit()
    return result.rowcount
