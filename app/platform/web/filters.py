"""Jinja filters shared by every template."""

from __future__ import annotations

from datetime import date, datetime

import markdown as md
import nh3
from flask import Flask, current_app
from flask_login import current_user
from markupsafe import Markup

from app.platform.timefmt import iso_utc, wall, wall_range, zone

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


def viewer_zone() -> str:
    """The zone every page shows times in: the signed-in person's, else the organisation's."""
    if current_user and current_user.is_authenticated and current_user.timezone:
        return zone(current_user.timezone).key
    return zone(current_app.config.get("DEFAULT_TIMEZONE")).key


def local_dt(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A moment in the viewer's zone, the zone named when a time of day is shown
    ("2026-12-14 09:30 CET"); a date-only format shows the viewer's date."""
    return wall(value, viewer_zone(), fmt)


def local_range(
    start: datetime | None, end: datetime | None, fmt: str = "%a %d %b %Y %H:%M"
) -> str:
    """Start–end in the viewer's zone, the zone named once ("Mon 14 Dec 2026 09:30–11:30 CET")."""
    if start is None or end is None:
        return local_dt(start or end, fmt)
    return wall_range(start, end, viewer_zone(), fmt)


def time_tag(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> Markup:
    """<time datetime="...Z">local, zone named</time>: machines read UTC, people their zone."""
    if value is None:
        return Markup("")
    return Markup('<time datetime="{}">{}</time>').format(iso_utc(value), local_dt(value, fmt))


def fmt_date(value: date | None) -> str:
    return value.isoformat() if value else ""


def init_app(app: Flask) -> None:
    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.filters["local_dt"] = local_dt
    app.jinja_env.filters["local_range"] = local_range
    app.jinja_env.filters["time_tag"] = time_tag
    app.jinja_env.globals["viewer_zone"] = viewer_zone
    app.jinja_env.filters["date"] = fmt_date
