"""Exporting the comments as a WordPress export file (WXR 1.2), so that a site is never locked in here.

WXR is what WordPress's importer, Disqus's and the importers of Isso and Remark42 read. A post becomes
an `<item>` whose slug (`wp:post_name`) and Disqus thread identifier are its post id here, and whose
link is the page its comments were written on when that is known; `wp:comment_status` says whether
the post still takes comments. A comment carries its author, email, website, address, UTC date,
sanitized HTML (what the site shows, never the raw submission), status and parent.
`comments import wordpress FILE --post-id slug` reads the file back.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import IO
from xml.sax.saxutils import escape

from sqlalchemy import Connection, RowMapping, func, select

from . import posts, status, store
from .schema import comments

APPROVED = {status.APPROVED: "1", status.PENDING: "0", status.HELD: "0", status.SPAM: "spam",
            status.TRASH: "trash"}
"""WordPress's comment_approved for each status; it has no "pending", so a comment not yet checked is held."""

NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
"""What XML 1.0 cannot carry at all, escaped or not."""

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<!-- Comments exported by the comments service as WordPress eXtended RSS (WXR) 1.2. -->
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
  xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dsq="http://www.disqus.com/"
  xmlns:wp="http://wordpress.org/export/1.2/">
<channel>
  <title>Comments</title>
  <wp:wxr_version>1.2</wp:wxr_version>
"""
TAIL = "</channel>\n</rss>\n"
COLUMNS = (comments.c.id, comments.c.post_id, comments.c.parent_id, comments.c.author, comments.c.email,
           comments.c.url, comments.c.ip, comments.c.content, comments.c.status, comments.c.created_at)


def text(value: object) -> str:
    return escape(NOT_XML.sub("", str(value)))


def wp_date(moment: datetime) -> str:
    return store.as_utc(moment).strftime("%Y-%m-%d %H:%M:%S")


def export(conn: Connection, out: IO[str], statuses: Iterable[str] = status.ALL,
           close_after_days: int = 0) -> Counter[str]:
    """Write every comment in `statuses`, post by post, oldest first; returns how many of each status.

    The posts first (each item's head needs its page, its first date and whether it is closed), then
    every comment in post order, streamed.
    """
    statuses = list(statuses)
    heads = {post_id: (page, first) for post_id, page, first in conn.execute(
        select(comments.c.post_id, func.max(comments.c.page), func.min(comments.c.created_at))
        .where(comments.c.status.in_(statuses)).group_by(comments.c.post_id))}
    numbers = post_numbers(sorted(heads))
    chosen = {post["post_id"]: post["comments_open"] for post in posts.choices(conn)}  # one query, not one a post
    closed = {post_id for post_id in heads if posts.closed_by(conn, post_id, chosen.get(post_id), close_after_days)}
    rows = conn.execute(select(*COLUMNS).where(comments.c.status.in_(statuses))
                        .order_by(comments.c.post_id, comments.c.id).execution_options(yield_per=1000))
    written: Counter[str] = Counter()
    out.write(HEAD)
    current = None
    for row in rows.mappings():
        if row["post_id"] != current:
            out.write("  </item>\n" if current is not None else "")
            current = row["post_id"]
            out.write(item_head(current, numbers[current], *heads[current], closed=current in closed))
        out.write(comment(row))
        written[row["status"]] += 1
    out.write(("  </item>\n" if current is not None else "") + TAIL)
    return written


def post_numbers(post_ids: list[str]) -> dict[str, int]:
    """WordPress numbers every post: a numeric post id keeps its number, any other gets one above them all."""
    taken = [int(post_id) for post_id in post_ids if post_id.isdigit() and len(post_id) < 19]
    numbers = {str(number): number for number in taken}
    following = max(taken, default=0)
    for post_id in post_ids:
        if post_id not in numbers:
            following += 1
            numbers[post_id] = following
    return numbers


def item_head(post_id: str, number: int, page: str | None, first: datetime, closed: bool) -> str:
    """A post's fields, every one present even when empty, as Disqus's importer requires."""
    return (f"  <item>\n    <title>{text(post_id)}</title>\n    <link>{text(page or '')}</link>\n"
            f"    <dsq:thread_identifier>{text(post_id)}</dsq:thread_identifier>\n"
            f"    <content:encoded></content:encoded>\n"
            f"    <wp:post_id>{number}</wp:post_id>\n    <wp:post_name>{text(post_id)}</wp:post_name>\n"
            f"    <wp:post_date_gmt>{wp_date(first)}</wp:post_date_gmt>\n"
            f"    <wp:post_type>post</wp:post_type>\n    <wp:status>publish</wp:status>\n"
            f"    <wp:comment_status>{'closed' if closed else 'open'}</wp:comment_status>\n")


def comment(row: RowMapping) -> str:
    fields = {
        "comment_id": row["id"], "comment_author": row["author"], "comment_author_email": row["email"] or "",
        "comment_author_url": row["url"] or "", "comment_author_IP": row["ip"] or "",
        "comment_date": wp_date(row["created_at"]), "comment_date_gmt": wp_date(row["created_at"]),
        "comment_content": row["content"], "comment_approved": APPROVED[str(row["status"])],
        "comment_type": "comment", "comment_parent": row["parent_id"] or 0, "comment_user_id": 0,
    }
    lines = "".join(f"      <wp:{name}>{text(value)}</wp:{name}>\n" for name, value in fields.items())
    return f"    <wp:comment>\n{lines}    </wp:comment>\n"

