"""Events of the notifications domain (see README, "Architecture": the event catalogue)."""

from __future__ import annotations

from app.platform.events import event

reminders_due = event(
    "notifications.reminders_due",
    "The daily sweep asks each domain for the day's reminders. In the sweep's transaction:"
    " a handler inserts its notifications for day `on` (and sessions from `now`) and answers"
    " the (kind, id, email_state) of each row it inserted; the sweep commits and sends them.",
    ("on", "now"),
    in_transaction=True,
)
