"""CSV exports that spreadsheet programs cannot be tricked into executing."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value) -> str:
    """Prefix a quote to cells that a spreadsheet would read as a formula (CSV injection)."""
    text = "" if value is None else str(value)
    if text.startswith(_DANGEROUS):
        return "'" + text
    return text


def to_csv(header: list[str], rows: Iterable[Iterable]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in header])
    for row in rows:
        writer.writerow([neutralise(v) for v in row])
    return buf.getvalue()
