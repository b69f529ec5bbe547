"""The access rule every route carries (a meta-test walks the URL map for it).

The people domain enforces permissions (app.people.permissions); the platform's own routes are
public and say so here.
"""

from __future__ import annotations

PUBLIC = "public"
LOGIN = "login"


def public(view):
    """Mark a view open to anyone (its own token or nothing at all is the permission)."""
    view.access_rule = PUBLIC
    return view
