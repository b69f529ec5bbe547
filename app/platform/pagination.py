"""One paginator for pages and API lists: a count query plus a LIMIT/OFFSET query."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select

from app.extensions import db
from app.platform.errors import Invalid
from app.platform.inputs import MAX_ID

MAX_PER_PAGE = 100
# The last page anyone may ask for: its offset, (page - 1) * per_page, must stay inside the
# database's 64-bit range (SQLite overflows, PostgreSQL refuses beyond it).
MAX_PAGE = MAX_ID


@dataclass
class Page:
    items: list[Any]
    total: int
    page: int
    per_page: int
    more: bool = False  # `total` is a lower bound: counting stopped there (paginate_capped)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def clamp(page: Any, per_page: Any, default_per_page: int = 20) -> tuple[int, int]:
    """Turn untrusted page/per_page values into sane integers: below 1 or not a number is the
    first page, a larger per_page is MAX_PER_PAGE. Raises Invalid for a page past MAX_PAGE."""
    try:
        page_i = max(1, int(page))
    except (TypeError, ValueError):
        page_i = 1
    if page_i > MAX_PAGE:
        raise Invalid("No such page.", {"page": [f"Must be between 1 and {MAX_PAGE}."]})
    try:
        per_page_i = min(MAX_PER_PAGE, max(1, int(per_page)))
    except (TypeError, ValueError):
        per_page_i = default_per_page
    return page_i, per_page_i


def paginate(query: Select, page: int, per_page: int, count_apart: bool = False) -> Page:
    """Run one page of `query` (a select of one entity) and its total in a single round trip.

    The total rides along as a window count; only a page past the end needs a second query.
    `count_apart` is for lists over big tables (hundreds of thousands of rows): the window
    would build, sort and number every matching row, every column, before taking the page
    (0.76 s against 0.07 s for the first page of 290,000 training records). There the page
    comes off the ordering index and a count(*) follows, unless the page is short and so
    the last one.
    """
    if count_apart:
        return _paginate_apart(query, page, per_page)
    windowed = (
        query.add_columns(func.count().over().label("_total"))
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    rows = db.session.execute(windowed).all()
    if rows:
        return Page(items=[r[0] for r in rows], total=rows[0][-1], page=page, per_page=per_page)
    total = 0
    if page > 1:
        count = select(func.count()).select_from(query.order_by(None).subquery())
        total = db.session.scalar(count) or 0
    return Page(items=[], total=total, page=page, per_page=per_page)


def _page_first(query: Select, page: int, per_page: int) -> tuple[list, Page | None]:
    """The page's rows, and the whole Page when the page is short, so the last one: its
    total needs no count."""
    offset = (page - 1) * per_page
    items = list(db.session.scalars(query.limit(per_page).offset(offset)).unique())
    if len(items) < per_page and (items or page == 1):
        return items, Page(items=items, total=offset + len(items), page=page, per_page=per_page)
    return items, None


def _paginate_apart(query: Select, page: int, per_page: int) -> Page:
    items, done = _page_first(query, page, per_page)
    if done:
        return done
    count = select(func.count()).select_from(query.order_by(None).subquery())
    return Page(items=items, total=db.session.scalar(count) or 0, page=page, per_page=per_page)


def paginate_capped(query: Select, page: int, per_page: int, cap: int) -> Page:
    """One page of `query` and a count that stops past `cap` rows (or past this page).

    For tables that grow without bound (the audit trail): even a count(*) reads every
    matching row, over a second at a million rows. The page comes off the ordering index;
    the count reads at most cap + 1 ids, and `more` says it stopped there.
    """
    items, done = _page_first(query, page, per_page)
    if done:
        return done
    limit = max(cap, page * per_page) + 1
    counted = select(func.count()).select_from(query.order_by(None).limit(limit).subquery())
    total = db.session.scalar(counted) or 0
    more = total >= limit
    return Page(items=items, total=min(total, limit - 1), page=page, per_page=per_page, more=more)
