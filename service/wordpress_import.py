"""Importing a WordPress site's comments from its export file (WXR), as Isso's `isso import` does.

A site that moves here keeps its discussion: every comment of every post with its author, email,
website, address, date, thread and status (approved, held, spam, trash), re-sanitized with the
configured engine. Pingbacks and trackbacks are not comments and stay behind. Importing a file
twice adds nothing: a comment already stored (same post and text, same author or email) is skipped.
"""

from __future__ import annotations

import ipaddress
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit
from xml.etree import ElementTree

from sqlalchemy import Connection, update

from . import limits, posts, sanitize, status, store
from .schema import comments
from .submission import CONTROL

ACTOR = "import:wordpress"
STATUSES = {"1": status.APPROVED, "0": status.HELD, "spam": status.SPAM, "trash": status.TRASH}
"""WordPress's comment_approved values and where each lands."""
POST_KEYS = ("id", "slug", "link")
"""What becomes the post id: WordPress's numeric id (what its comment form posts as comment_post_ID), the
post's slug, or its address."""


@dataclass
class WordPressComment:
    wp_id: str
    parent: str
    post_id: str
    page: str | None  # the post's address: the spam engine reads a link to it as a reader's
    author: str
    email: str
    url: str | None
    ip: str | None
    created_at: datetime
    text: str
    state: str | None
    kind: str
    post_closed: bool = False  # the post's "Allow comments" box was unticked


@dataclass
class Report:
    """What an import did, for the operator."""

    imported: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    posts: set[str] = field(default_factory=set)
    closed: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)


def _local(tag: str) -> str:
    """A tag without its namespace: WXR 1.0, 1.1 and 1.2 differ only in the namespace's version."""
    return tag.rsplit("}", 1)[-1]


def _clean(value: str | None, limit: int) -> str:
    return CONTROL.sub("", value or "").strip()[:limit]


def _date(fields: dict[str, str]) -> datetime:
    """comment_date_gmt, or comment_date where WordPress left the GMT one empty (read as UTC then)."""
    for name in ("comment_date_gmt", "comment_date"):
        value = fields.get(name, "")
        if value and not value.startswith("0000"):
            try:
                return datetime.strptime(value.strip(), "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
            except ValueError:
                continue
    return store.utcnow()


def _website(value: str) -> str | None:
    value = _clean(value, limits.URL)
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    return value if parts.scheme.lower() in ("http", "https") and parts.hostname else None


def _address(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def read(path: str | os.PathLike[str], post_key: str = "id") -> Iterator[WordPressComment]:
    """Every comment in a WXR file, post by post, without holding the whole file in memory."""
    for _, element in ElementTree.iterparse(path, events=("end",)):
        if _local(element.tag) != "item":
            continue
        post = {_local(child.tag): (child.text or "").strip() for child in element if len(child) == 0}
        post_id = _clean({"id": post.get("post_id"), "slug": post.get("post_name"),
                          "link": post.get("link")}[post_key], limits.POST_ID)
        link = _clean(post.get("link"), limits.REFERRER + 1)
        page = link if 0 < len(link) <= limits.REFERRER else None  # never a cut address
        post_closed = post.get("comment_status") == "closed"
        for node in element:
            if _local(node.tag) != "comment":
                continue
            fields = {_local(child.tag): child.text or "" for child in node}
            yield WordPressComment(
                wp_id=fields.get("comment_id", "").strip(), parent=fields.get("comment_parent", "0").strip(),
                post_id=post_id, page=page, author=_clean(fields.get("comment_author"), limits.AUTHOR) or "Anonymous",
                email=_clean(fields.get("comment_author_email"), limits.EMAIL),
                url=_website(fields.get("comment_author_url", "")), ip=_address(fields.get("comment_author_IP", "")),
                created_at=_date(fields), text=CONTROL.sub("", fields.get("comment_content", "")),
                state=STATUSES.get(fields.get("comment_approved", "").strip()),
                kind=fields.get("comment_type", "").strip() or "comment", post_closed=post_closed)
        element.clear()


def import_file(conn: Connection, path: str | os.PathLike[str], engine: str, post_key: str = "id") -> Report:
    """Store every comment of the file in one transaction (the caller's); threads are rebuilt at the end."""
    report = Report()
    new_ids: dict[str, int] = {}
    parents: list[tuple[int, str]] = []
    for found in read(path, post_key):
        if refusal := _refusal(found):
            why, detail = refusal
            report.skipped[why] += 1
            if detail:
                report.problems.append(f"WordPress comment {found.wp_id or '?'}: {detail}")
            continue
        assert found.state is not None
        same = {"content_hash": store.content_hash(found.text), "post_id": found.post_id, "author": found.author,
                "email": found.email}
        if existing := conn.execute(store.SAME_TEXT, same).scalar():
            new_ids[found.wp_id] = existing
            report.skipped["already stored"] += 1
            continue
        content = sanitize.sanitize(found.text, engine)
        if not content.strip():
            report.skipped["empty once sanitized"] += 1
            report.problems.append(f"WordPress comment {found.wp_id or '?'}: nothing is left once sanitized.")
            continue
        values: dict[str, Any] = {"post_id": found.post_id, "parent_id": None, "author": found.author,
                                  "email": found.email, "url": found.url, "content": content,
                                  "original": found.text, "ip": found.ip, "page": found.page,
                                  "created_at": found.created_at}
        comment_id = store.insert_comment(conn, values, found.state, f"imported from WordPress comment {found.wp_id}",
                                          actor=ACTOR)
        new_ids[found.wp_id] = comment_id
        if found.parent not in ("", "0"):
            parents.append((comment_id, found.parent))
        report.imported[found.state] += 1
        report.posts.add(found.post_id)
        if found.post_closed:
            report.closed.add(found.post_id)
    for comment_id, parent in parents:
        if parent in new_ids:
            conn.execute(update(comments).where(comments.c.id == comment_id).values(parent_id=new_ids[parent]))
    for post_id in sorted(report.closed):  # closed in WordPress: closed here, unless a moderator chose already
        if not posts.CHOICE.rows(conn, {"post_id": post_id}):
            posts.choose(conn, post_id, False, ACTOR)
    return report


def _refusal(found: WordPressComment) -> tuple[str, str | None] | None:
    """Why a comment of the file is not imported (a short category, and a sentence where it is a problem)."""
    if found.kind in ("pingback", "trackback"):
        return found.kind, None
    if found.state is None:
        return "unknown status", "its comment_approved is none of 1, 0, spam, trash."
    if not found.post_id:
        return "no post id", "its post has no id of the kind asked for (--post-id)."
    if not found.text.strip():
        return "empty text", None
    if problem := sanitize.complexity_error(found.text):
        return "too costly to sanitize", problem
    return None
