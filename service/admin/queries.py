"""The review queue's reads: filtered pages of comments, counts per status, comments per day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, RowMapping, false, func, select

from .. import status, store
from ..schema import comments, status_changes

PER_PAGE = 20
MAX_PER_PAGE = 200
MAX_PAGE = 10**6
TEXT_FILTERS = ("post_id", "author", "email", "ip", "q")
ADMIN_FIELDS = ("id", "post_id", "parent_id", "author", "email", "url", "ip", "user_agent", "referrer", "page",
                "content", "original", "status", "spam_score", "reasons", "notify_replies", "created_at", "updated_at")


@dataclass(frozen=True)
class Filters:
    """What a moderator narrowed the queue to; empty strings mean no filter."""

    status: str = status.HELD
    post_id: str = ""
    author: str = ""
    email: str = ""
    ip: str = ""
    q: str = ""
    order: str = "newest"
    page: int = 1
    per_page: int = PER_PAGE


def whole_number(raw: str | None, default: int | None, top: int) -> int | None:
    """A page number from a query argument (`default` when absent or empty); None unless it is plain ASCII
    digits from 1 to `top`. The public thread's pages use it too."""
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit() and len(raw) <= len(str(top))):
        return None  # '²' is a digit to str.isdigit() but not to int(); huge strings are refused before int()
    number = int(raw)
    return number if 1 <= number <= top else None


def parse_filters(args: Any) -> tuple[Filters, dict[str, str]]:
    """Filters from query arguments, with one error sentence per bad one (and its default in its place)."""
    errors: dict[str, str] = {}
    state = args.get("status") or status.HELD
    if state not in status.ALL:
        errors["status"], state = f"Status must be one of {', '.join(status.ALL)}.", status.HELD
    order = args.get("order") or "newest"
    if order not in ("newest", "oldest"):
        errors["order"], order = "Order must be newest or oldest.", "newest"
    page = whole_number(args.get("page"), 1, MAX_PAGE)
    if page is None:
        errors["page"], page = f"Page must be a whole number from 1 to {MAX_PAGE}.", 1
    per_page = whole_number(args.get("per_page"), PER_PAGE, MAX_PER_PAGE)
    if per_page is None:
        errors["per_page"], per_page = f"Per page must be a whole number from 1 to {MAX_PER_PAGE}.", PER_PAGE
    text = {name: (args.get(name) or "").strip()[:200] for name in TEXT_FILTERS}
    return Filters(status=state, order=order, page=page, per_page=per_page, **text), errors


def _conditions(filters: Filters) -> list[Any]:
    conditions = [comments.c.status == filters.status]
    if any("\x00" in getattr(filters, name) for name in TEXT_FILTERS):
        # No stored text holds a NUL (the intake refuses it), and PostgreSQL refuses one even in a query.
        return [*conditions, false()]
    for name in ("post_id", "ip"):
        if value := getattr(filters, name):
            conditions.append(comments.c[name] == value)
    if filters.email:
        conditions.append(func.lower(comments.c.email) == filters.email.lower())
    if filters.author:
        conditions.append(func.lower(comments.c.author).contains(filters.author.lower(), autoescape=True))
    if filters.q:
        conditions.append(func.lower(comments.c.original).contains(filters.q.lower(), autoescape=True))
    return conditions


def page_of_comments(conn: Connection, filters: Filters) -> tuple[list[dict[str, Any]], int]:
    """One page in the chosen order, and how many match in all (uses the (status, created_at) index)."""
    conditions = _conditions(filters)
    order = comments.c.created_at.desc() if filters.order == "newest" else comments.c.created_at.asc()
    ids = comments.c.id.desc() if filters.order == "newest" else comments.c.id.asc()
    query = (select(*(comments.c[name] for name in ADMIN_FIELDS)).where(*conditions).order_by(order, ids)
             .limit(filters.per_page).offset((filters.page - 1) * filters.per_page))
    rows = [admin_view(row) for row in conn.execute(query).mappings()]
    total = int(conn.execute(select(func.count()).select_from(comments).where(*conditions)).scalar_one())
    return rows, total


def admin_view(row: RowMapping | dict[str, Any]) -> dict[str, Any]:
    """Everything a moderator may see, JSON-ready."""
    view = {name: row[name] for name in ADMIN_FIELDS}
    for name in ("created_at", "updated_at"):
        view[name] = store.as_utc(row[name]).isoformat()
    return view


def one_comment(conn: Connection, comment_id: int) -> dict[str, Any] | None:
    """A comment with its history of status changes."""
    row = store.get_comment(conn, comment_id)
    if row is None:
        return None
    view = admin_view(row)
    view["history"] = [
        {"from": change["from_status"], "to": change["to_status"], "by": change["actor"], "why": change["reason"],
         "at": store.as_utc(change["created_at"]).isoformat()}
        for change in store.changes_for(conn, comment_id)
    ]
    return view


def counts(conn: Connection) -> dict[str, int]:
    """Comments per status, in one GROUP BY (the tabs show them on every page)."""
    query = select(comments.c.status, func.count()).group_by(comments.c.status)
    found: dict[str, int] = {state: int(count) for state, count in conn.execute(query)}
    return {state: found.get(state, 0) for state in status.ALL}


def per_day(conn: Connection, days: int = 30) -> list[dict[str, Any]]:
    """New comments and verdicts per day for the last `days` days, oldest first."""
    since = store.utcnow() - timedelta(days=days)
    received_day = func.date(comments.c.created_at)
    received = select(received_day, func.count()).where(comments.c.created_at >= since).group_by(received_day)
    decided_day = func.date(status_changes.c.created_at)
    decided = (select(decided_day, status_changes.c.to_status, func.count())
               .where(status_changes.c.created_at >= since, status_changes.c.from_status.is_not(None))
               .group_by(decided_day, status_changes.c.to_status))
    table: dict[str, dict[str, Any]] = {}
    for day, count in conn.execute(received):
        table.setdefault(str(day), {"day": str(day), "received": 0})["received"] = int(count)
    for day, to_status, count in conn.execute(decided):
        table.setdefault(str(day), {"day": str(day), "received": 0})[to_status] = int(count)
    return [table[day] for day in sorted(table)]
