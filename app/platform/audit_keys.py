"""The audit trail's key ring: HMAC keys kept outside the database.

Every audit row is authenticated when written (a MAC under the current key) and chained under
that key when sealed, so whoever owns the database but not these keys cannot add, edit or
re-chain rows unseen. The ring comes from AUDIT_KEYS ("k2:<secret>,k1:<old secret>", first =
current), else from a key file (AUDIT_KEY_FILE, one `id:secret` a line, first = current), else
from `audit_keys` in the instance folder, generated on first use. Old keys stay in the ring so
rows they sealed still verify; `flask audit rotate-key` puts a new current key in front.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask, current_app

DEFAULT_FILE = "audit_keys"


class KeyRingError(RuntimeError):
    """The key ring is missing, empty or malformed."""


@dataclass
class KeyRing:
    keys: dict[str, bytes]  # in ring order: the first is current
    source: Path | None = None  # the key file it was read from (None: AUDIT_KEYS)
    mtime: int | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def current_id(self) -> str:
        return next(iter(self.keys))

    @property
    def current(self) -> bytes:
        return self.keys[self.current_id]

    def get(self, key_id: str | None) -> bytes | None:
        """The secret of `key_id`, re-reading the key file once for an id it does not know
        (another process may have rotated the key)."""
        if key_id is None:
            return None
        secret = self.keys.get(key_id)
        if secret is None and self.source is not None:
            self.refresh(force=True)
            secret = self.keys.get(key_id)
        return secret

    def refresh(self, force: bool = False) -> None:
        """Re-read the key file if it changed since it was read (a rotation elsewhere)."""
        if self.source is None:
            return
        try:
            mtime = self.source.stat().st_mtime_ns
        except OSError:
            return
        if force or mtime != self.mtime:
            with self._lock:
                self.keys = _parse(self.source.read_text(), str(self.source))
                self.mtime = mtime


def _parse(spec: str, where: str) -> dict[str, bytes]:
    keys: dict[str, bytes] = {}
    for item in spec.replace("\n", ",").split(","):
        item = item.strip()
        if not item or item.startswith("#"):
            continue
        key_id, sep, secret = item.partition(":")
        key_id, secret = key_id.strip(), secret.strip()
        if not sep or not key_id or len(key_id) > 16 or len(secret) < 16:
            raise KeyRingError(
                f"{where}: each audit key is `id:secret` (id up to 16 characters, secret at"
                " least 16)"
            )
        if key_id in keys:
            raise KeyRingError(f"{where}: audit key id {key_id!r} appears twice")
        keys[key_id] = secret.encode()
    if not keys:
        raise KeyRingError(f"{where}: no audit key")
    return keys


def _new_key() -> str:
    # A random id: two instance folders that each generated a key never share an id, so a
    # row sealed under the other's key reads "unknown key", not "bad MAC".
    return f"{secrets.token_hex(4)}:{secrets.token_hex(32)}"


def _write_new_file(path: Path, text: str) -> None:
    """Create `path` holding `text` unless it exists (atomic: a racing process reads a whole
    file, never an empty one)."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}")
    tmp.write_text(text)
    tmp.chmod(0o600)
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()


def key_file(config) -> Path | None:
    """The key file the ring lives in (None when AUDIT_KEYS gives it)."""
    if config.get("AUDIT_KEYS"):
        return None
    if config.get("AUDIT_KEY_FILE"):
        return Path(config["AUDIT_KEY_FILE"])
    return Path(config["INSTANCE_DIR"]) / DEFAULT_FILE


def load(config) -> KeyRing:
    """Build the ring from the config; with nothing configured, generate the instance's key."""
    if config.get("AUDIT_KEYS"):
        return KeyRing(_parse(config["AUDIT_KEYS"], "AUDIT_KEYS"))
    path = key_file(config)
    if not path.exists():
        if config.get("AUDIT_KEY_FILE"):
            raise KeyRingError(f"AUDIT_KEY_FILE {path} does not exist")
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_new_file(path, _new_key() + "\n")
    ring = KeyRing({}, source=path)
    ring.refresh(force=True)
    return ring


def rotate(config) -> str:
    """Put a new current key in front of the key file's ring; return its id. With AUDIT_KEYS
    the environment holds the ring, so this raises (set AUDIT_KEYS to the new ring instead)."""
    path = key_file(config)
    if path is None:
        raise KeyRingError(
            "AUDIT_KEYS holds the ring: prepend a new `id:secret` to it and restart every process"
        )
    ring = load(config)
    line = _new_key()
    while line.split(":", 1)[0] in ring.keys:  # pragma: no cover - 32 random bits
        line = _new_key()
    old = path.read_text()
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}")
    tmp.write_text(f"{line}\n{old}")
    tmp.chmod(0o600)
    os.replace(tmp, path)
    return line.split(":", 1)[0]


def init_app(app: Flask) -> None:
    app.extensions["cadre_audit_keys"] = load(app.config)


def ring() -> KeyRing:
    """The app's key ring, brought up to date with its key file."""
    keys: KeyRing = current_app.extensions["cadre_audit_keys"]
    keys.refresh()
    return keys


def sign(secret: bytes, message: str) -> str:
    return hmac.new(secret, message.encode(), hashlib.sha256).hexdigest()


def derived(secret: bytes, purpose: str) -> bytes:
    """A key for one purpose (checkpoint signatures) derived from a ring key, so a MAC made
    for one purpose can never pass for another."""
    return hmac.new(secret, f"cadre-audit:{purpose}".encode(), hashlib.sha256).digest()


def same(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and hmac.compare_digest(a, b)
