"""Read every environment variable in one place, with the embedded defaults."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _instance_dir() -> Path:
    path = Path(os.environ.get("CADRE_INSTANCE", ROOT / "instance"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def _database_url(instance: Path) -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        return f"sqlite:///{instance / 'cadre.db'}"
    return _sqlalchemy_url(url)


def _sqlalchemy_url(url: str) -> str:
    # Heroku-style URLs and plain postgresql:// both mean psycopg 3 here.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def _secret_key(instance: Path, production: bool) -> str:
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    if production:
        raise RuntimeError("SECRET_KEY must be set when CADRE_ENV=production")
    key_file = instance / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def load_config() -> dict:
    """Build the Flask config mapping from the environment."""
    instance = _instance_dir()
    production = os.environ.get("CADRE_ENV", "development") == "production"
    database_url = _database_url(instance)
    return {
        "CADRE_ENV": "production" if production else "development",
        "INSTANCE_DIR": str(instance),
        # The organisation's time zone: pages without a signed-in person show times in it.
        "DEFAULT_TIMEZONE": os.environ.get("CADRE_TIMEZONE", "UTC"),
        "SECRET_KEY": _secret_key(instance, production),
        "SQLALCHEMY_DATABASE_URI": database_url,
        # The role that owns the schema: `flask db ...` and `flask audit grant-app-role` connect
        # with it; the app itself never does (app.platform.db.owner_engine). Unset: DATABASE_URL.
        "DATABASE_OWNER_URL": _sqlalchemy_url(os.environ["DATABASE_OWNER_URL"])
        if os.environ.get("DATABASE_OWNER_URL")
        else None,
        # The audit trail's HMAC keys, kept outside the database (app/platform/audit_keys.py):
        # "id:secret,id:old secret" (first = current), else a key file, else one generated
        # into the instance folder.
        "AUDIT_KEYS": os.environ.get("AUDIT_KEYS") or None,
        "AUDIT_KEY_FILE": os.environ.get("AUDIT_KEY_FILE") or None,
        # When the audit trail's signed checkpoint of its head goes to object storage (UTC).
        "AUDIT_CHECKPOINT_CRON": os.environ.get("AUDIT_CHECKPOINT_CRON", "0 * * * *"),
        # Pooled PostgreSQL connections idle this long are pinged before use (app/dbpool.py).
        "DB_PING_AFTER_IDLE_SECONDS": float(os.environ.get("DB_PING_AFTER_IDLE_SECONDS", 5)),
        "REDIS_URL": os.environ.get("REDIS_URL") or None,
        # With Redis, how often each process re-checks the courses table for writes that
        # bypassed the app (the Redis counter carries the app's own at once).
        "CATALOG_FINGERPRINT_SECONDS": float(os.environ.get("CATALOG_FINGERPRINT_SECONDS", 5)),
        "RQ_QUEUE_PREFIX": os.environ.get("RQ_QUEUE_PREFIX", ""),
        # When `clock.py` enqueues the nightly compliance run (cron syntax, UTC).
        "NIGHTLY_CRON": os.environ.get("NIGHTLY_CRON", "30 2 * * *"),
        # The requirement engine's run over a requirement or everyone goes in chunks of this
        # many people, each committed with the run's progress (app/compliance/engine.py).
        "ENGINE_CHUNK_PEOPLE": max(1, _int("ENGINE_CHUNK_PEOPLE", 1000)),
        # How long a compliance read (dashboard, matrix, reports) may be reused while the audit
        # trail has not moved; 0 turns the memo off.
        "COMPLIANCE_CACHE_SECONDS": _int("COMPLIANCE_CACHE_SECONDS", 600),
        # Read organisation-wide statuses from compliance_statuses when it is current (0: never).
        "COMPLIANCE_STATUS_STORE": bool(_int("COMPLIANCE_STATUS_STORE", 1)),
        # A certificate issued by hand dated further back than this many days waits for QA's
        # e-signed approval before it is valid.
        "CERTIFICATE_BACKDATE_DAYS": max(0, _int("CERTIFICATE_BACKDATE_DAYS", 30)),
        "S3_ENDPOINT": os.environ.get("S3_ENDPOINT") or None,
        "S3_ACCESS_KEY": os.environ.get("S3_ACCESS_KEY", ""),
        "S3_SECRET_KEY": os.environ.get("S3_SECRET_KEY", ""),
        "S3_BUCKET": os.environ.get("S3_BUCKET", "cadre"),
        "S3_REGION": os.environ.get("S3_REGION", "us-east-1"),
        "S3_SECURE": os.environ.get("S3_SECURE", "false").lower() == "true",
        "STORAGE_DIR": os.environ.get("STORAGE_DIR", str(instance / "files")),
        "PORT": _int("PORT", 5000),
        # Where people reach Cadre; jobs (no request) build links such as certificate QR codes.
        # Unset: the request's own host, else http://127.0.0.1:PORT (app/platform/web/urls.py).
        "PUBLIC_BASE_URL": (os.environ.get("PUBLIC_BASE_URL") or "").rstrip("/") or None,
        # Uploads: the hard request cap; per-kind limits live in app/platform/files.py.
        "MAX_CONTENT_LENGTH": _int("MAX_UPLOAD_MB", 512) * 1024 * 1024,
        # Non-file form fields: the user import posts its CSV (up to 2 MB) back for confirmation.
        "MAX_FORM_MEMORY_SIZE": 6 * 1024 * 1024,
        # How many reverse proxies in front of Cadre set X-Forwarded-For/-Proto/-Host/-Port/
        # -Prefix (app/platform/proxies.py); 0: the headers are ignored.
        "TRUSTED_PROXIES": _int("TRUSTED_PROXIES", 0),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "SESSION_COOKIE_NAME": "cadre_session",
        "PERMANENT_SESSION_LIFETIME": timedelta(minutes=_int("IDLE_TIMEOUT_MINUTES", 15)),
        "SESSION_REFRESH_EACH_REQUEST": True,
        "REMEMBER_COOKIE_DURATION": timedelta(seconds=0),
        "WTF_CSRF_TIME_LIMIT": None,
        # Sessions end this long after sign-in whatever the activity (real time, like the idle
        # timeout above).
        "SESSION_ABSOLUTE_LIFETIME": timedelta(hours=_int("SESSION_ABSOLUTE_HOURS", 12)),
        # Sign-in throttling (app.people.auth): after this many failed passwords for an
        # account (or from an address) each further try waits FIRST_DELAY * 2^(n - threshold)
        # seconds, never more than MAX_DELAY; a quiet FORGET_HOURS ends the episode.
        "LOGIN_MAX_FAILURES_PER_ACCOUNT": _int("LOGIN_MAX_FAILURES_PER_ACCOUNT", 5),
        "LOGIN_MAX_FAILURES_PER_ADDRESS": _int("LOGIN_MAX_FAILURES_PER_ADDRESS", 20),
        "LOGIN_THROTTLE_FIRST_DELAY_SECONDS": _int("LOGIN_THROTTLE_FIRST_DELAY_SECONDS", 1),
        "LOGIN_THROTTLE_MAX_DELAY_SECONDS": _int("LOGIN_THROTTLE_MAX_DELAY_SECONDS", 900),
        "LOGIN_THROTTLE_FORGET_HOURS": _int("LOGIN_THROTTLE_FORGET_HOURS", 24),
        "PASSWORD_MIN_LENGTH": _int("PASSWORD_MIN_LENGTH", 12),
        # argon2 cost; tests lower it through CADRE_ARGON2_FAST so the suite stays quick.
        "ARGON2_FAST": os.environ.get("CADRE_ARGON2_FAST") == "1",
        "PREFERRED_URL_SCHEME": "https" if production else "http",
        # Email over SMTP; with no SMTP_HOST, emails are written to the log instead.
        "SMTP_HOST": os.environ.get("SMTP_HOST") or None,
        "SMTP_PORT": _int("SMTP_PORT", 25),
        "SMTP_USER": os.environ.get("SMTP_USER") or None,
        "SMTP_PASSWORD": os.environ.get("SMTP_PASSWORD") or None,
        "SMTP_STARTTLS": os.environ.get("SMTP_STARTTLS", "false").lower() == "true",
        "SMTP_TIMEOUT": _int("SMTP_TIMEOUT", 10),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "Cadre <cadre@localhost>"),
        # Without REDIS_URL the served app runs the nightly run and the sweep itself, on their
        # crons and once at start (app/platform/scheduler.py); 0 turns that off.
        "EMBEDDED_SCHEDULER": bool(_int("EMBEDDED_SCHEDULER", 1)),
        # When `clock.py` enqueues the daily reminder sweep (cron syntax, UTC).
        "SWEEP_CRON": os.environ.get("SWEEP_CRON", "0 6 * * *"),
        # When `clock.py` (or the embedded scheduler) deletes API idempotency keys older than
        # 24 hours (cron syntax, UTC).
        "IDEMPOTENCY_PURGE_CRON": os.environ.get("IDEMPOTENCY_PURGE_CRON", "20 * * * *"),
        # Requests per API token (else per signed-in person, else per address) across the JSON
        # API, and writes (POST/PUT/PATCH/DELETE) among them; flask-limiter syntax such as
        # "600/minute" or "20/second;600/minute"; empty: no limit. On Redis when REDIS_URL is set.
        "API_RATE_LIMIT": os.environ.get("API_RATE_LIMIT", "600/minute"),
        "API_WRITE_RATE_LIMIT": os.environ.get("API_WRITE_RATE_LIMIT", "120/minute"),
        # Prepended to the rate limiter's Redis keys (several instances on one Redis).
        "RATELIMIT_KEY_PREFIX": os.environ.get("RATELIMIT_KEY_PREFIX", ""),
        # pytest's JUnit XML that `flask validation-report` reads (relative paths: the repo root).
        "VALIDATION_JUNIT_PATH": os.environ.get(
            "VALIDATION_JUNIT_PATH", "instance/test-results.xml"
        ),
        # The build the validation report names; unset: `git rev-parse HEAD` of the checkout.
        "CADRE_COMMIT": os.environ.get("CADRE_COMMIT", "").strip(),
        # Tests only: a grading job holds its claimed, uncommitted grade this many seconds, so
        # a worker can be killed mid-grading. 0 everywhere else.
        "GRADING_HOLD_SECONDS": float(os.environ.get("CADRE_TEST_GRADING_DELAY") or 0),
    }
