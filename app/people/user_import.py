"""CSV import of people: a preview with per-row errors, then an all-or-nothing upsert by email."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.people.events import people_changed
from app.people.models import ROLES, Department, JobRole, Team, User
from app.people.users import (
    DEFAULT_ROLES,
    check_email,
    check_name,
    grant_role,
    normalise_email,
    parse_roles,
    revoke_role,
    user_snapshot,
)
from app.platform.audit import read_back, record_audit
from app.platform.errors import Conflict, Invalid

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000
COLUMNS = (
    "email",
    "name",
    "department",
    "team",
    "job_role",
    "manager_email",
    "hire_date",
    "roles",
)
REQUIRED_COLUMNS = ("email", "name")
REASON = "CSV import"
_CHUNK = 500


@dataclass
class ImportRow:
    """One data row: its spreadsheet row number, raw cells, parsed values and the outcome."""

    number: int
    values: dict[str, str]
    email: str = ""
    parsed: dict[str, Any] = field(default_factory=dict)
    action: str = ""  # create / update / unchanged; "" while the row has errors
    changes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class ImportPreview:
    columns: list[str]
    rows: list[ImportRow]
    text: str = ""  # the decoded CSV, for the confirm step to post back

    @property
    def counts(self) -> dict[str, int]:
        out = {"create": 0, "update": 0, "unchanged": 0, "errors": 0}
        for row in self.rows:
            out["errors" if row.errors else row.action] += 1
        return out

    @property
    def valid(self) -> bool:
        return bool(self.rows) and all(row.ok for row in self.rows)


@dataclass
class ImportResult:
    created: int
    updated: int
    unchanged: int


def decode_csv(data: bytes | str) -> str:
    """Turn an uploaded file into text: UTF-8 only, at most 2 MB, BOM removed. Raises Invalid."""
    if isinstance(data, str):
        size = len(data.encode("utf-8", errors="surrogatepass"))
        text = data
    else:
        size = len(data)
        text = None
    if size > MAX_BYTES:
        raise Invalid(
            "The file is too large.",
            {"file": [f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB; split it."]},
        )
    if text is None:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise Invalid(
                "The file is not UTF-8 text.",
                {"file": ["The file is not UTF-8 text: save it as 'CSV UTF-8' and try again."]},
            ) from None
    if "\x00" in text:
        raise Invalid("Not a CSV file.", {"file": ["This looks like a binary file, not a CSV."]})
    return text.removeprefix("\ufeff")


def _header_name(cell: str) -> str:
    return cell.strip().lower().replace(" ", "_").replace("-", "_")


def _parse(text: str) -> tuple[list[str], list[ImportRow]]:
    def fail(message: str):
        return Invalid(message, {"file": [message]})

    try:
        records = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise fail(f"The file is not valid CSV: {exc}.") from None
    if not records or not any(cell.strip() for cell in records[0]):
        raise fail("The file is empty: the first line must name the columns.")
    header = [_header_name(cell) for cell in records[0]]
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        raise fail(
            f"Unknown column(s): {', '.join(unknown)}. The columns are: {', '.join(COLUMNS)}."
        )
    duplicates = sorted({h for h in header if header.count(h) > 1})
    if duplicates:
        raise fail(f"Column(s) named twice: {', '.join(duplicates)}.")
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise fail(f"Missing required column(s): {', '.join(missing)}.")
    rows: list[ImportRow] = []
    for index, cells in enumerate(records[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(rows) >= MAX_ROWS:
            raise fail(f"The file has more than {MAX_ROWS} rows; split it.")
        values = {
            name: (cells[i].strip() if i < len(cells) else "") for i, name in enumerate(header)
        }
        row = ImportRow(number=index, values=values)
        if len(cells) > len(header):
            row.errors.append(f"The row has {len(cells)} cells but the header {len(header)}.")
        rows.append(row)
    if not rows:
        raise fail("The file has a header but no rows of people.")
    return header, rows


def _chunks(items: list[str]):
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _users_by_email(emails: set[str]) -> dict[str, User]:
    found: dict[str, User] = {}
    for chunk in _chunks(sorted(e for e in emails if e)):
        query = (
            select(User)
            .where(User.email.in_(chunk))
            .options(selectinload(User.manager), selectinload(User.role_grants))
        )
        for user in db.session.scalars(query):
            found[user.email] = user
    return found


class _Lookups:
    """Departments, teams and job roles by lower-case name (small tables, loaded once)."""

    def __init__(self) -> None:
        departments = list(db.session.scalars(select(Department)))
        self.departments = {d.name.lower(): d for d in departments}
        self.department_names = {d.id: d.name for d in departments}
        self.teams = {
            (t.department_id, t.name.lower()): t for t in db.session.scalars(select(Team))
        }
        self.team_departments = {t.id: t.department_id for t in self.teams.values()}
        self.team_names = {t.id: t.name for t in self.teams.values()}
        self.job_roles = {j.name.lower(): j for j in db.session.scalars(select(JobRole))}


def _validate_row(
    row: ImportRow,
    header: list[str],
    existing: User | None,
    lookups: _Lookups,
    file_emails: set[str],
    managers: dict[str, User],
) -> None:
    v, parsed, errors = row.values, row.parsed, row.errors
    parsed["name"] = v["name"]
    if msg := check_name(v["name"]):
        errors.append(f"name: {msg}")

    if "department" in header:
        parsed["department_id"] = None
        if v["department"]:
            department = lookups.departments.get(v["department"].lower())
            if department is None:
                errors.append(
                    f'Unknown department "{v["department"]}": create it on the Departments '
                    "page first."
                )
            else:
                parsed["department_id"] = department.id
    department_id = parsed.get(
        "department_id", existing.department_id if existing is not None else None
    )

    if "team" in header:
        parsed["team_id"] = None
        if v["team"]:
            if department_id is None and "department" in header and v["department"]:
                pass  # the unknown department is already reported
            elif department_id is None:
                errors.append(f'Team "{v["team"]}" needs a department: fill in the department.')
            else:
                team = lookups.teams.get((department_id, v["team"].lower()))
                if team is None:
                    errors.append(
                        f'Unknown team "{v["team"]}" in department '
                        f'"{lookups.department_names[department_id]}": create it on the Teams '
                        "page first."
                    )
                else:
                    parsed["team_id"] = team.id
    team_id = parsed.get("team_id", existing.team_id if existing is not None else None)
    if (
        team_id is not None
        and "team_id" not in parsed
        and lookups.team_departments.get(team_id) != department_id
    ):
        errors.append(
            f'The current team "{lookups.team_names.get(team_id)}" is not in the new department: '
            "add a team column."
        )

    if "job_role" in header:
        parsed["job_role_id"] = None
        if v["job_role"]:
            job_role = lookups.job_roles.get(v["job_role"].lower())
            if job_role is None:
                errors.append(
                    f'Unknown job role "{v["job_role"]}": create it on the Job roles page first.'
                )
            else:
                parsed["job_role_id"] = job_role.id

    if "manager_email" in header:
        manager_email = normalise_email(v["manager_email"])
        parsed["manager_email"] = manager_email or None
        if manager_email:
            if manager_email == row.email:
                errors.append("A person cannot be their own manager.")
            elif manager_email not in file_emails and manager_email not in managers:
                errors.append(
                    f"manager_email: nobody has the email {manager_email}, neither in Cadre "
                    "nor in this file."
                )

    if "hire_date" in header:
        parsed["hire_date"] = None
        if v["hire_date"]:
            try:
                parsed["hire_date"] = date.fromisoformat(v["hire_date"])
            except ValueError:
                errors.append(f'hire_date: "{v["hire_date"]}" is not a date like 2024-03-31.')

    if "roles" in header and v["roles"]:
        roles, unknown = parse_roles(v["roles"])
        if unknown:
            errors.append(
                f"Unknown role(s): {', '.join(unknown)}. Roles are: {', '.join(ROLES)} "
                "(separate them with ';' or '|')."
            )
        else:
            parsed["roles"] = set(roles)


def _current(user: User) -> dict[str, Any]:
    return {
        "name": user.name,
        "department_id": user.department_id,
        "team_id": user.team_id,
        "job_role_id": user.job_role_id,
        "manager_email": user.manager.email if user.manager is not None else None,
        "hire_date": user.hire_date,
        "roles": user.roles,
    }


_CHANGE_LABELS = {
    "name": "name",
    "department_id": "department",
    "team_id": "team",
    "job_role_id": "job_role",
    "manager_email": "manager_email",
    "hire_date": "hire_date",
    "roles": "roles",
}


def _manager_loops(rows: list[ImportRow]) -> None:
    """Flag rows whose manager chain (the file's view over the stored one) loops back."""
    wanted = {r.email: r.parsed["manager_email"] for r in rows if "manager_email" in r.parsed}
    if not any(wanted.values()):
        return
    stored: dict[str, str | None] = {}
    manager_of = db.session.execute(select(User.id, User.email, User.manager_id)).all()
    email_of = {uid: email for uid, email, _ in manager_of}
    for _uid, email, manager_id in manager_of:
        stored[email] = email_of.get(manager_id) if manager_id else None
    for row in rows:
        if not row.parsed.get("manager_email") or row.errors:
            continue
        seen = {row.email}
        current = row.parsed["manager_email"]
        while current:
            if current in seen:
                row.errors.append("The managers would form a loop back to this person.")
                break
            seen.add(current)
            current = wanted[current] if current in wanted else stored.get(current)


def preview_user_import(data: bytes | str, actor: User | None = None) -> ImportPreview:
    """Parse and check a users CSV and say what each row would do; writes nothing.

    Raises Invalid for problems with the whole file (size, encoding, columns, row count).
    """
    from app.people.permissions import can

    text = decode_csv(data)
    header, rows = _parse(text)
    lookups = _Lookups()

    first_row: dict[str, int] = {}
    for row in rows:
        row.email = normalise_email(row.values["email"])
        if msg := check_email(row.email):
            row.errors.append(f"email: {msg}")
        elif row.email in first_row:
            row.errors.append(f"email: {row.email} is also on row {first_row[row.email]}.")
        else:
            first_row[row.email] = row.number
    file_emails = set(first_row)
    manager_emails = {normalise_email(r.values.get("manager_email")) for r in rows}
    known = _users_by_email(file_emails | manager_emails)
    may_grant = actor is None or can(actor, "role.manage")

    for row in rows:
        existing = known.get(row.email) if row.email in file_emails else None
        _validate_row(row, header, existing, lookups, file_emails, known)
        if existing is None:
            row.action = "create"
            roles = row.parsed.get("roles", set(DEFAULT_ROLES))
            if not may_grant and roles != set(DEFAULT_ROLES):
                row.errors.append(
                    "Only an administrator can grant roles; leave the roles cell empty."
                )
            continue
        current = _current(existing)
        row.changes = [_CHANGE_LABELS[k] for k, value in row.parsed.items() if current[k] != value]
        row.action = "update" if row.changes else "unchanged"
        if row.changes and not may_grant:
            if "roles" in row.changes:
                row.errors.append("Only an administrator can change roles; leave the cell empty.")
            elif "admin" in existing.roles:
                row.errors.append("Only an administrator can change an administrator's account.")
    _manager_loops(rows)
    for row in rows:
        if row.errors:
            row.action = ""
    return ImportPreview(columns=header, rows=rows, text=text)


def _set_fields(user: User, parsed: dict[str, Any], users: dict[str, User]) -> None:
    for key in ("name", "department_id", "team_id", "job_role_id", "hire_date"):
        if key in parsed and getattr(user, key) != parsed[key]:
            setattr(user, key, parsed[key])
    if "manager_email" in parsed:
        manager = users.get(parsed["manager_email"]) if parsed["manager_email"] else None
        manager_id = manager.id if manager is not None else None
        if user.manager_id != manager_id:
            user.manager_id = manager_id


def apply_user_import(data: bytes | str, actor: User | None = None) -> ImportResult:
    """Create and update people from a CSV in one transaction, only if every row is valid.

    Raises Invalid (file or row errors; nothing written), Conflict (a concurrent change).
    """
    preview = preview_user_import(data, actor)
    if not preview.valid:
        bad = [r for r in preview.rows if r.errors]
        raise Invalid(
            f"{len(bad)} row(s) have errors; nothing was imported.",
            {f"row {r.number}": r.errors for r in bad},
        )
    counts = preview.counts
    if not counts["create"] and not counts["update"]:
        return ImportResult(created=0, updated=0, unchanged=counts["unchanged"])

    wanted = {r.email for r in preview.rows} | {
        r.parsed["manager_email"] for r in preview.rows if r.parsed.get("manager_email")
    }
    users = _users_by_email(wanted)
    try:
        updates = [r for r in preview.rows if r.action == "update"]
        before = {r.email: user_snapshot(users[r.email]) for r in updates}
        creates = [r for r in preview.rows if r.action == "create"]
        for row in creates:
            user = User(email=row.email, name=row.parsed["name"], active=True, password_hash=None)
            db.session.add(user)
            users[row.email] = user
        db.session.flush()
        for row in creates:
            user = users[row.email]
            _set_fields(user, row.parsed, users)
            for role in sorted(row.parsed.get("roles", DEFAULT_ROLES)):
                grant_role(user, role, actor)
        for row in updates:
            user = users[row.email]
            _set_fields(user, row.parsed, users)
            if "roles" in row.parsed:
                current = {g.role: g for g in user.role_grants}
                for role in sorted(set(current) - row.parsed["roles"]):
                    revoke_role(user, current[role], actor)
                for role in sorted(row.parsed["roles"] - set(current)):
                    grant_role(user, role, actor)
        db.session.flush()
        for row in creates:
            user = users[row.email]
            record_audit(
                "create",
                "user",
                user.id,
                after=user_snapshot(read_back(user)),
                reason=REASON,
                actor=actor,
            )
        for row in updates:
            user = users[row.email]
            record_audit(
                "update",
                "user",
                user.id,
                before=before[row.email],
                after=user_snapshot(read_back(user)),
                reason=REASON,
                actor=actor,
            )
        touched = sorted(users[r.email].id for r in creates + updates)
        people_changed.publish(cause="user import", user_ids=touched)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict("Someone changed these people at the same time; preview again.") from None
    except Exception:
        db.session.rollback()
        raise
    return ImportResult(created=len(creates), updated=len(updates), unchanged=counts["unchanged"])
