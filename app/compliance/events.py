"""Events of the compliance domain (see README, "Architecture": the event catalogue)."""

from __future__ import annotations

from app.platform.events import event

engine_ran = event(
    "compliance.engine_ran",
    "The requirement engine has run and committed, for `user_ids` (None: everyone) and"
    " `requirement_ids` (None: every requirement; people changed or the nightly run). Sent by"
    " the engine job after its commit; each handler answers a dict of counts it adds to the"
    " job's result (the gxp domain assigns current document versions).",
    ("user_ids", "requirement_ids"),
)
