"""Outgoing email: build multipart messages and hand them to SMTP, or to the log without one.

The mail backend is chosen by config like every other backend: SMTP_HOST set means smtplib
(STARTTLS and login when configured, implicit TLS on port 465); no SMTP_HOST means each message
is written to the "cadre.mail" logger and counts as sent, so development and the embedded
default need no mail server.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid, parseaddr

from flask import current_app

log = logging.getLogger("cadre.mail")


class MailError(Exception):
    """Sending failed (connection refused, timeout, rejected recipient ...)."""


def build_message(
    to_name: str,
    to_email: str,
    subject: str,
    text: str,
    html: str,
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    """A multipart/alternative message (plain text first, HTML second) from MAIL_FROM."""
    sender = current_app.config["MAIL_FROM"]
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = formataddr((to_name, to_email))
    msg["Subject"] = " ".join(subject.split())  # no folded or injected header lines
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    msg["Message-ID"] = make_msgid(domain=domain)
    # Tell auto-responders (out-of-office) not to answer a machine.
    msg["Auto-Submitted"] = "auto-generated"
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    return msg


class _Connection:
    """One SMTP connection reused for a batch of messages; reopened after an error."""

    def __init__(self, config) -> None:
        self.config = config
        self.smtp: smtplib.SMTP | None = None

    def _open(self) -> smtplib.SMTP:
        cfg = self.config
        host, port, timeout = cfg["SMTP_HOST"], cfg["SMTP_PORT"], cfg["SMTP_TIMEOUT"]
        if port == 465:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                host, port, timeout=timeout, context=ssl.create_default_context()
            )
        else:
            smtp = smtplib.SMTP(host, port, timeout=timeout)
            if cfg["SMTP_STARTTLS"]:
                smtp.starttls(context=ssl.create_default_context())
        if cfg["SMTP_USER"]:
            smtp.login(cfg["SMTP_USER"], cfg["SMTP_PASSWORD"] or "")
        return smtp

    def send(self, msg: EmailMessage) -> None:
        if not self.config["SMTP_HOST"]:
            _log_message(msg)
            return
        try:
            if self.smtp is None:
                self.smtp = self._open()
            self.smtp.send_message(msg)
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise MailError(f"{type(exc).__name__}: {exc}") from exc

    def close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (OSError, smtplib.SMTPException):
                self.smtp.close()
            self.smtp = None


@contextmanager
def connection() -> Iterator[_Connection]:
    """An open mail connection for sending several messages; closed at the end.

    Raises MailError from send() when a message cannot be handed over.
    """
    conn = _Connection(current_app.config)
    try:
        yield conn
    finally:
        conn.close()


def send(msg: EmailMessage) -> None:
    """Send one message; raises MailError."""
    with connection() as conn:
        conn.send(msg)


def _log_message(msg: EmailMessage) -> None:
    body = msg.get_body(preferencelist=("plain",))
    text = body.get_content() if body is not None else ""
    log.info(
        "email (no SMTP_HOST) to=%s subject=%r\n%s",
        msg["To"],
        msg["Subject"],
        text.strip(),
    )
