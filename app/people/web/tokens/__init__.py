"""Admin page for API tokens: list, issue (plaintext shown once), revoke."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.people import tokens as token_service
from app.people.permissions import access
from app.people.web.tokens.forms import SCOPE_HELP, TokenForm
from app.platform.errors import Invalid
from app.platform.pagination import clamp
from app.platform.web.htmx import render

bp = Blueprint("tokens", __name__, url_prefix="/admin/tokens")

# Service error keys -> form fields.
_FIELDS = {
    "email": "owner_email",
    "name": "name",
    "scopes": "scopes",
    "expires_days": "expires_days",
}


def _index(form: TokenForm, status: int = 200):
    page, per_page = clamp(request.args.get("page", 1), request.args.get("per_page", 20))
    result = token_service.list_api_tokens(page, per_page)
    response = render(
        "tokens/index.html",
        "tokens/_list.html",
        form=form,
        result=result,
        state=token_service.token_state,
        scope_help=SCOPE_HELP,
    )
    response.status_code = status
    return response


@bp.get("/")
@access("token.manage")
def index():
    return _index(TokenForm())


@bp.post("/")
@access("token.manage")
def create():
    form = TokenForm()
    if form.validate_on_submit():
        try:
            token, plaintext = token_service.create_api_token_for_email(
                form.owner_email.data,
                form.name.data,
                form.scopes.data,
                current_user._get_current_object(),
                form.expires_days.data,
            )
        except Invalid as exc:
            for key, messages in exc.errors.items():
                getattr(form, _FIELDS.get(key, "name")).errors = list(messages)
        else:
            # Rendered, not redirected: the plaintext must never sit in a cookie or a flash.
            return render_template("tokens/created.html", token=token, plaintext=plaintext)
    return _index(form, 422)


@bp.post("/<int(max=2147483647):token_id>/revoke")
@access("token.manage")
def revoke(token_id: int):
    token = token_service.revoke_api_token(token_id, current_user._get_current_object())
    flash(f"Token “{token.name}” ({token.prefix}…) is revoked.", "success")
    page, _ = clamp(request.args.get("page", 1), 20)
    return redirect(url_for("tokens.index", page=page if page > 1 else None))
