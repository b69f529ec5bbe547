"""API access: bearer token or browser session, role check, token scope, CSRF for cookie writes."""

from __future__ import annotations

from functools import wraps

from flask import g, request
from flask_login import current_user
from flask_wtf.csrf import validate_csrf
from wtforms import ValidationError

from app.api import idempotency
from app.extensions import db
from app.people.models import User
from app.people.permissions import LOGIN, PERMISSION_SCOPE, PERMISSIONS, PUBLIC, can
from app.people.tokens import authenticate_token, token_has_scope
from app.platform.web.errors import problem

REALM = 'Bearer realm="cadre"'
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _unauthorized(detail: str, error: str | None = None):
    resp = problem(401, "Unauthorized", detail)
    resp.headers["WWW-Authenticate"] = f'{REALM}, error="{error}"' if error else REALM
    return resp


def _bearer() -> str | None:
    """Return the bearer credential, '' for a malformed one, None when none was sent."""
    header = request.headers.get("Authorization", "")
    scheme, _, credential = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return credential.strip()


def current_actor() -> User | None:
    """The user acting in this API request (token owner or session user)."""
    return g.get("api_actor")


def current_token():
    """The API token of this request, or None for a session request."""
    return g.get("api_token")


def _token_for(credential: str):
    """The live token for a bearer credential, looked up once per request (the rate limiter
    keys on it before the view's access check uses it)."""
    cached = g.get("api_bearer")
    if cached is None or cached[0] != credential:
        g.api_bearer = cached = (credential, authenticate_token(credential))
    return cached[1]


def rate_limit_key() -> str:
    """Whose budget a request counts against: its API token, else the signed-in person, else
    the client's address (a bad token counts against the address it comes from)."""
    credential = _bearer()
    if credential:
        token = _token_for(credential)
        if token is not None:
            return f"token:{token.id}"
    elif current_user.is_authenticated:
        return f"user:{current_user.id}"
    return f"address:{request.remote_addr}"


ON_BEHALF_OF = "On-Behalf-Of"


def _on_behalf_of(actor: User):
    """Honour `On-Behalf-Of: <user id>`: a service account names the person in its own system
    who triggered the call, and the trail records it (g.cadre_on_behalf_of). A person acts for
    themself only (403); the person named must exist (422)."""
    raw = request.headers.get(ON_BEHALF_OF)
    if raw is None:
        return None
    if not actor.is_service_account:
        return problem(
            403,
            "Forbidden",
            f"Only a service account may send {ON_BEHALF_OF}: a person acts for themself.",
        )
    raw = raw.strip()
    person = None
    if raw.isascii() and raw.isdigit() and 0 < int(raw) < 2**31:
        person = db.session.get(User, int(raw))
    if person is None or person.is_service_account:
        return problem(
            422,
            "Validation failed",
            f"{ON_BEHALF_OF} must name a person by user id.",
            errors={ON_BEHALF_OF: ["No person has this user id."]},
        )
    g.cadre_on_behalf_of = person.id
    return None


def _authenticate():
    """Set g.api_actor / g.api_token; return an error response or None."""
    credential = _bearer()
    if credential is not None:
        token = _token_for(credential)
        if token is None:
            return _unauthorized("The API token is invalid, expired or revoked.", "invalid_token")
        g.api_token, g.api_actor = token, token.user
        return _on_behalf_of(token.user)
    if current_user.is_authenticated:
        if current_user.must_change_password:
            # As the pages do: an admin-chosen password is good for choosing one's own only.
            return problem(
                403,
                "Password change required",
                "Choose your own password first (/account/password); until then this session"
                " may not use the API.",
            )
        g.api_token, g.api_actor = None, current_user._get_current_object()
        refused = _on_behalf_of(g.api_actor)
        if refused is not None:
            return refused
        if request.method in WRITE_METHODS:
            try:
                validate_csrf(
                    request.headers.get("X-CSRFToken") or request.headers.get("X-CSRF-Token")
                )
            except ValidationError as exc:
                return problem(
                    400,
                    "CSRF check failed",
                    f"{exc.args[0] if exc.args else 'Missing CSRF token.'} "
                    "Browser-session writes need the X-CSRFToken header.",
                )
        return None
    if g.get("session_ended"):
        return _unauthorized(g.session_ended)
    return _unauthorized("Send 'Authorization: Bearer <token>' or sign in.")


def _authorize(rule: str):
    """Return a 403 response when the actor's roles or the token's scope fall short."""
    if rule == LOGIN:
        return None
    if not can(g.api_actor, rule):
        return problem(403, "Forbidden", "Your role does not allow this action.")
    token = g.api_token
    needed = PERMISSION_SCOPE[rule]
    if token is not None and not token_has_scope(token, needed):
        resp = problem(403, "Forbidden", f"This token lacks the '{needed}' scope.")
        resp.headers["WWW-Authenticate"] = f'{REALM}, error="insufficient_scope", scope="{needed}"'
        return resp
    return None


def api_access(rule: str):
    """Mark an API view with its access rule and enforce it.

    `public` lets anyone in; `login` needs any valid token or session; a permission name also
    needs a role granting it and, for tokens, the permission's scope. A POST with an
    `Idempotency-Key` then runs at most once per key and credential (app.api.idempotency).
    """
    if rule not in (PUBLIC, LOGIN) and rule not in PERMISSIONS:
        raise ValueError(f"unknown permission {rule!r}")

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if rule != PUBLIC:
                # A refusal, or the answer an idempotent retry gets instead of running again.
                answer = (
                    _authenticate()
                    or _authorize(rule)
                    or idempotency.begin(g.api_token, g.api_actor)
                )
                if answer is not None:
                    return answer
            return view(*args, **kwargs)

        wrapper.access_rule = rule
        return wrapper

    return decorate
