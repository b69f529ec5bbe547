"""Jinja filters shared by every template."""

from __future__ import annotations

from datetime import date, datetime

import markdown as md
import nh3
from flask import Flask
from flask_login import current_user
from markupsafe import Markup

from app.platform.timefmt import zone

ALLOWED_TAGS = {
    "p",
    "br",
    "hr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "strong",
    "em",
    "b",
    "i",
    "u",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "img",
}


def render_markdown(text: str | None) -> Markup:
    """Render user markdown to HTML with scripts, event handlers and unsafe links removed."""
    html = md.markdown(text or "", extensions=["tables", "fenced_code"])
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes={"a": {"href", "title"}, "img": {"src", "alt", "title"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return Markup(clean)


def local_dt(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """Show a UTC datetime in the viewer's timezone."""
    if value is None:
        return ""
    tz = current_user.timezone if current_user and current_user.is_authenticated else None
    return value.astimezone(zone(tz)).strftime(fmt)


def fmt_date(value: date | None) -> str:
    return value.isoformat() if value else ""


def init_app(app: Flask) -> None:
    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.filters["local_dt"] = local_dt
    app.jinja_env.filters["date"] = fmt_date
