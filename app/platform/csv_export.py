"""CSV and XLSX cells that spreadsheet programs cannot be tricked into executing."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

# What a spreadsheet may read as the start of a formula (OWASP's CSV injection list), with the
# full-width forms East Asian spreadsheet locales take as the same signs.
FORMULA_STARTERS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def neutralise(value) -> str:
    """Prefix a quote to cells that a spreadsheet would read as a formula (CSV injection)."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTERS):
        return "'" + text
    return text


def neutralise_text(value):
    """neutralise() for text cells of a typed sheet (XLSX): numbers and dates stay what they are."""
    return neutralise(value) if isinstance(value, str) else value


def to_csv(header: list[str], rows: Iterable[Iterable]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in header])
    for row in rows:
        writer.writerow([neutralise(v) for v in row])
    return buf.getvalue()
