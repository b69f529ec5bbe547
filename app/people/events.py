"""Events of the people domain (see README, "Architecture": the event catalogue)."""

from __future__ import annotations

from app.platform.events import event

people_changed = event(
    "people.changed",
    "People were hired, reactivated, imported, or moved to another job role, department or"
    " team (anything the competency matrix keys on). After commit; `cause` says which"
    ' ("hire", "role change", "reactivation", "import"), `user_ids` whom.',
    ("cause", "user_ids"),
)

sign_in_throttled = event(
    "people.sign_in_throttled",
    "An account reached its failed-password threshold: from now on each try waits longer"
    " (app.people.auth). Once per episode, after commit; `user_id` the account, `failures` how"
    " many, `address` the client address of the latest, `episode` when the episode began.",
    ("user_id", "failures", "address", "episode"),
)
