"""API token pages: My API tokens (every person mints and revokes their own) and the admin page
(service accounts, their tokens, and revoking anyone's token). Plaintext is shown once."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.people import service_accounts
from app.people import tokens as token_service
from app.people.permissions import access
from app.people.web.tokens.forms import SCOPE_HELP, OwnTokenForm, ServiceAccountForm, TokenForm
from app.platform.errors import DomainError
from app.platform.pagination import clamp
from app.platform.web.htmx import render

bp = Blueprint("tokens", __name__)


def _errors_to(form, exc: DomainError, fields: dict[str, str]) -> None:
    """Put a service's field errors on the form (unknown keys on `name`)."""
    for key, messages in (exc.errors or {"name": [exc.detail]}).items():
        getattr(form, fields.get(key, "name")).errors = list(messages)


def _page() -> tuple[int, int]:
    return clamp(request.args.get("page", 1), request.args.get("per_page", 20))


# --- My API tokens ---------------------------------------------------------------------------


def _mine(form: OwnTokenForm, status: int = 200):
    page, per_page = _page()
    result = token_service.list_api_tokens(page, per_page, owner_id=current_user.id)
    response = render(
        "tokens/mine.html",
        "tokens/_list.html",
        form=form,
        result=result,
        state=token_service.token_state,
        scope_help=SCOPE_HELP,
        list_endpoint="tokens.mine",
        revoke_endpoint="tokens.revoke_mine",
        show_owner=False,
    )
    response.status_code = status
    return response


@bp.get("/account/tokens/")
@access("token.own")
def mine():
    return _mine(OwnTokenForm())


@bp.post("/account/tokens/")
@access("token.own")
def create_mine():
    form = OwnTokenForm()
    if form.validate_on_submit():
        me = current_user._get_current_object()
        try:
            token, plaintext = token_service.create_api_token(
                me.id, form.name.data, form.scopes.data, me, form.expires_days.data
            )
        except DomainError as exc:
            _errors_to(form, exc, {"scopes": "scopes", "expires_days": "expires_days"})
        else:
            # Rendered, not redirected: the plaintext must never sit in a cookie or a flash.
            return render_template(
                "tokens/created.html", token=token, plaintext=plaintext, done="tokens.mine"
            )
    return _mine(form, 422)


@bp.post("/account/tokens/<int(max=2147483647):token_id>/revoke")
@access("token.own")
def revoke_mine(token_id: int):
    me = current_user._get_current_object()
    token = token_service.revoke_api_token(token_id, me, owner_id=me.id)
    flash(f"Token “{token.name}” ({token.prefix}…) is revoked.", "success")
    page, _ = clamp(request.args.get("page", 1), 20)
    return redirect(url_for("tokens.mine", page=page if page > 1 else None))


# --- admin: service accounts and every token ---------------------------------------------------


def _index(form: TokenForm | None = None, account_form=None, status: int = 200):
    form = form or TokenForm()
    form.owner_id.choices = service_accounts.service_account_choices()
    page, per_page = _page()
    result = token_service.list_api_tokens(page, per_page)
    response = render(
        "tokens/index.html",
        "tokens/_list.html",
        form=form,
        account_form=account_form or ServiceAccountForm(),
        accounts=service_accounts.list_service_accounts(),
        result=result,
        state=token_service.token_state,
        scope_help=SCOPE_HELP,
        list_endpoint="tokens.index",
        revoke_endpoint="tokens.revoke",
        show_owner=True,
    )
    response.status_code = status
    return response


@bp.get("/admin/tokens/")
@access("token.manage")
def index():
    return _index()


@bp.post("/admin/tokens/")
@access("token.manage")
def create():
    form = TokenForm()
    form.owner_id.choices = service_accounts.service_account_choices()
    if form.validate_on_submit():
        try:
            token, plaintext = token_service.create_api_token(
                form.owner_id.data,
                form.name.data,
                form.scopes.data,
                current_user._get_current_object(),
                form.expires_days.data,
            )
        except DomainError as exc:
            fields = {"user_id": "owner_id", "scopes": "scopes", "expires_days": "expires_days"}
            _errors_to(form, exc, fields)
            return _index(form, status=exc.status)
        # Rendered, not redirected: the plaintext must never sit in a cookie or a flash.
        return render_template(
            "tokens/created.html", token=token, plaintext=plaintext, done="tokens.index"
        )
    return _index(form, status=422)


@bp.post("/admin/tokens/service-accounts")
@access("token.manage")
def create_service_account():
    account_form = ServiceAccountForm()
    if account_form.validate_on_submit():
        try:
            account = service_accounts.create_service_account(
                account_form.name.data,
                account_form.roles.data,
                current_user._get_current_object(),
            )
        except DomainError as exc:
            _errors_to(account_form, exc, {"roles": "roles"})
        else:
            flash(f"{account.name} is created: mint its tokens below.", "success")
            return redirect(url_for("tokens.index"))
    return _index(account_form=account_form, status=422)


@bp.post("/admin/tokens/<int(max=2147483647):token_id>/revoke")
@access("token.manage")
def revoke(token_id: int):
    token = token_service.revoke_api_token(token_id, current_user._get_current_object())
    flash(f"Token “{token.name}” ({token.prefix}…) is revoked.", "success")
    page, _ = clamp(request.args.get("page", 1), 20)
    return redirect(url_for("tokens.index", page=page if page > 1 else None))
