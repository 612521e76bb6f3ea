"""Atom feeds of approved comments, one post's or the whole site's, as WordPress, Isso and Remark42 offer.

Only what the thread shows goes in: author, website, the sanitized content and the time. An entry
links the page it was posted from when that page is on one of the site's own origins.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, Response, current_app, jsonify, render_template, request
from flask.typing import ResponseReturnValue

from . import store
from .cors import cors
from .db import get_engine
from .public import counts_error, link_on_site

FEED_SIZE = 50
"""Entries per feed, newest first, as WordPress's default of its comment feeds (posts_per_rss is 10; Isso 100)."""

# XML 1.0 has no place for C0 controls but tab and newlines, nor for U+FFFE and U+FFFF; a comment may
# hold the last two (they are valid UTF-8), and one such character would break the whole feed.
_NOT_XML = dict.fromkeys([*range(0, 9), 11, 12, *range(14, 32), 0xFFFE, 0xFFFF])

bp = Blueprint("feeds", __name__)
bp.after_request(cors)


@bp.get("/feed")
def feed() -> ResponseReturnValue:
    """The newest approved comments of one post (?post_id=) or of the whole site."""
    post_ids = request.args.getlist("post_id")
    if len(post_ids) > 1:
        problem: str | None = "Give one post id, or none for the whole site."
    else:
        problem = counts_error(post_ids) if post_ids else None
    if problem:
        return jsonify(errors={"post_id": problem}), 422
    post_id = post_ids[0] if post_ids else None
    with get_engine().connect() as conn:
        rows = store.newest_approved(conn, post_id, FEED_SIZE)
    base = current_app.config["BASE_URL"]
    entries = [entry(row, base) for row in rows]
    body = render_template(
        "feeds/comments.xml",
        title=f"Comments on {post_id}" if post_id else "Recent comments",
        self_url=f"{base}/feed" + (f"?{urlencode({'post_id': post_id})}" if post_id else ""),
        feed_id=tag(base, "feed" if post_id is None else f"feed:{post_id}"),
        updated=entries[0]["updated"] if entries else store.utcnow().isoformat(),
        entries=entries,
    ).translate(_NOT_XML)
    response = Response(body, mimetype="application/atom+xml")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Content-Security-Policy"] = "default-src 'none'"  # a browser showing it runs nothing
    response.add_etag()
    return response.make_conditional(request)


def entry(row: Any, base: str) -> dict[str, Any]:
    created = store.as_utc(row["created_at"]).isoformat()
    return {
        "id": tag(base, f"comment-{row['id']}"),
        "title": f"{row['author']} on {row['post_id']}",
        "author": row["author"],
        "uri": row["url"],
        "link": link_on_site([row["page"], row["referrer"]], row["id"], current_app.config["ALLOWED_ORIGINS"]),
        "updated": created,
        "content": row["content"],
    }


def tag(base: str, name: str) -> str:
    """A permanent Atom id (RFC 4151 tag URI) under this service's host."""
    return f"tag:{urlsplit(base).hostname or 'localhost'},2026:{name}"
