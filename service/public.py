"""The public side: POST /comments from a site's form, the approved thread, the allowed tags."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

import redis
from flask import Blueprint, Response, current_app, jsonify, redirect, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy import Connection

from . import flood, limits, own_comments, posts, queue, sanitize, status, store, submission
from .admin.queries import whole_number
from .client_ip import client_ip
from .cors import cors
from .db import get_engine
from .errors import wants_json
from .form_token import TOKEN_FIELD, token_signals

logger = logging.getLogger(__name__)

bp = Blueprint("public", __name__)

DUPLICATE = "Duplicate comment: it looks as though you have already said that."


@bp.post("/comments")
def create_comment() -> Any:
    config = current_app.config
    raw = submission.read_body(request.mimetype, request.content_type or "", request.get_data(cache=False))
    sub = submission.validate(raw, config["HONEYPOT_FIELD"], TOKEN_FIELD)
    content = submission.sanitized(sub.comment, config["SANITIZER"], sub.errors)
    # One connection for the checks and the insert; SQLite takes its write lock only at the insert.
    with get_engine().connect() as conn:
        check_parent(conn, sub)
        if sub.errors:
            return answer_errors(sub.errors, 422, sub.redirect_to)
        text = store.same_text(sub.post_id, sub.author, sub.email, sub.comment)
        duplicate, choice = store.duplicate_and_choice(conn, text)
        if posts.closed_by(conn, sub.post_id, choice, config["CLOSE_AFTER_DAYS"]):
            return answer_errors({"post_id": posts.CLOSED}, 403, sub.redirect_to)
        if duplicate:
            return answer_errors({"comment": DUPLICATE}, 409, sub.redirect_to)
        address = client_ip(request.remote_addr, request.headers.get("X-Forwarded-For"), config["TRUSTED_PROXIES"])
        if wait := flood_wait(address):
            response = answer_errors({"comment": f"You are posting too quickly. Wait {wait} s."}, 429,
                                     sub.redirect_to)
            response.headers["Retry-After"] = str(wait)
            return response
        values = comment_values(sub, content, address)
        state, reason = (status.SPAM, "honeypot field filled") if sub.honeypot_filled else (status.PENDING, None)
        comment_id = store.insert_comment(conn, values, state, reason)
        if store.duplicated_meanwhile(conn, comment_id, text):
            conn.rollback()
            return answer_errors({"comment": DUPLICATE}, 409, sub.redirect_to)
        conn.commit()
    logger.info("comment %s stored as %s for post %s", comment_id, state, sub.post_id)
    return answer_accepted(comment_id, values, sub.redirect_to)


def check_parent(conn: Connection, sub: submission.Submission) -> None:
    """A reply must answer an approved comment of the same post."""
    if sub.parent_id is not None and "post_id" not in sub.errors and sub.post_id:
        if not store.is_approved_in_post(conn, sub.parent_id, sub.post_id):
            sub.errors["parent_id"] = f"Parent id {sub.parent_id} is not an approved comment of this post."


def flood_wait(address: str | None) -> int:
    """Seconds this address must wait; Redis being down lets the comment through (it is kept either way)."""
    try:
        return flood.seconds_to_wait(queue.get_redis(), address, current_app.config["FLOOD_SECONDS"])
    except redis.RedisError as error:
        logger.warning("flood check skipped: Redis unavailable (%s)", error)
        return 0


def comment_values(sub: submission.Submission, content: str, address: str | None) -> dict[str, Any]:
    return {
        "post_id": sub.post_id,
        "parent_id": sub.parent_id,
        "author": sub.author,
        "email": sub.email,
        "url": sub.url,
        "content": content,
        "original": sub.comment,
        "ip": address,
        "user_agent": (request.user_agent.string or "")[:255] or None,
        "referrer": (request.referrer or "")[:255] or None,
        "page": site_page([sub.redirect_to, request.referrer], current_app.config["ALLOWED_ORIGINS"]),
        "signals": token_signals(sub.token, current_app.config),
        "notify_replies": sub.notify_replies,
        "created_at": store.utcnow(),
    }


def answer_errors(errors: dict[str, str], code: int, redirect_to: str | None = None) -> Response:
    """JSON `{"errors": {field: sentence}}`, or for a form post a plain page listing them."""
    if wants_json():
        response = jsonify(errors=errors)
    else:
        back = allowed_redirect(redirect_to) or allowed_redirect(request.referrer)
        response = Response(render_template("public/errors.html", errors=errors, back=back))
    response.status_code = code
    return response


def answer_accepted(comment_id: int, values: dict[str, Any], redirect_to: str | None) -> Any:
    """202 with the public comment as JSON; a form post goes back to the site, or to a small page."""
    comment = store.public_view({**values, "id": comment_id, "status": status.PENDING})
    if wants_json():
        answer: dict[str, Any] = {"id": comment_id, "status": status.PENDING, "comment": comment}
        if current_app.config["EDIT_SECONDS"]:
            answer["author_token"] = own_comments.issue(comment_id, values["created_at"])
            answer["editable_until"] = own_comments.editable_until(values["created_at"]).isoformat()
        return jsonify(answer), 202
    target = allowed_redirect(redirect_to)
    if target:
        return redirect(comment_url(target, comment_id), code=303)
    return render_template("public/received.html", comment=comment), 202


def origin_of(url: str) -> str:
    """scheme://host:port of a URL, or "" for one that does not parse."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    return f"{parts.scheme}://{parts.netloc}".lower()


def comment_url(page: str, comment_id: int) -> str:
    """The page with the comment's anchor: a site's thread marks each comment #comment-<id>."""
    return f"{page.split('#')[0]}#comment-{comment_id}"


def link_on_site(pages: Iterable[str | None], comment_id: int, origins: Sequence[str]) -> str | None:
    """comment_url() of the first page on one of the site's own origins; None rather than a stranger's page."""
    page = site_page(pages, origins)
    return comment_url(page, comment_id) if page else None


def site_page(addresses: Iterable[str | None], origins: Sequence[str]) -> str | None:
    """The first address on one of the site's own origins that fits its column: the page a form was on.

    The spam engine reads a link to this page as a reader's, not an advert; a stranger's address is never
    kept as the page.
    """
    return next((a for a in addresses if a and len(a) <= limits.REFERRER and origin_of(a) in origins), None)


def allowed_redirect(url: str | None) -> str | None:
    """The URL if its origin (scheme, host and port, compared exactly) is an allowed one or this service's."""
    if url and origin_of(url) in (*current_app.config["ALLOWED_ORIGINS"], origin_of(request.host_url)):
        return url
    return None


ORDERS = ("oldest", "newest")
"""Top-level comments oldest or newest first (WordPress's "comments should be displayed with the older or
newer comments at the top"); replies always follow what they answer, oldest first."""
MAX_PER_PAGE = 200
MAX_PAGE = 10**9


@bp.get("/posts/<path:post_id>/comments")
def thread(post_id: str) -> ResponseReturnValue:
    """The approved comments of a post in thread order, public fields only; ETag answers 304.

    With `per_page`, one page of that many top-level comments and all their replies (`page`, from 1), and
    how many pages there are: a long thread need not come in one answer. `order=newest` puts the newest
    top-level comments first, on the first page too.
    """
    paging = page_request(request.args)
    order = request.args.get("order", "oldest")
    errors = (paging if isinstance(paging, dict) else {}) | (
        {} if order in ORDERS else {"order": "Either oldest (the default) or newest."})
    if errors or isinstance(paging, dict):  # the second test only tells mypy what paging is below
        return jsonify(errors=errors), 422
    with get_engine().connect() as conn:
        comments = store.approved_thread(conn, post_id)
        accepting = not posts.closed(conn, post_id, current_app.config["CLOSE_AFTER_DAYS"])
    if order == "newest":
        comments = store.newest_first(comments)
    if paging is None:
        response = jsonify(post_id=post_id, open=accepting, comments=comments)
    else:
        per_page, page = paging
        pages = store.thread_pages(comments, per_page)
        response = jsonify(post_id=post_id, open=accepting, comments=pages[page - 1] if page <= len(pages) else [],
                           page=page, pages=len(pages))
    response.headers["Cache-Control"] = "no-cache"
    response.add_etag()
    return response.make_conditional(request)


def page_request(args: Any) -> tuple[int, int] | dict[str, str] | None:
    """(per_page, page) from the query, None for the whole thread, or the errors by parameter."""
    if "per_page" not in args:
        return {"per_page": "Give per_page with page."} if "page" in args else None
    # An empty value is an error here, not the default: the absent page is "1", an empty one "".
    per_page = whole_number(args.get("per_page"), None, MAX_PER_PAGE)
    page = whole_number(args.get("page", "1"), None, MAX_PAGE)
    if per_page is not None and page is not None:
        return per_page, page
    errors = {"per_page": f"A whole number from 1 to {MAX_PER_PAGE}."} if per_page is None else {}
    return errors | ({"page": "A whole number from 1."} if page is None else {})


MAX_COUNTED_POSTS = 100


@bp.get("/comment-counts")
def comment_counts() -> ResponseReturnValue:
    """Approved comments per post, for a site's index page ("3 comments"), as Isso's and Remark42's counts."""
    post_ids = list(dict.fromkeys(request.args.getlist("post_id")))
    if problem := counts_error(post_ids):
        return jsonify(errors={"post_id": problem}), 422
    with get_engine().connect() as conn:
        counts = store.approved_counts(conn, post_ids)
    response = jsonify(counts=counts)
    response.headers["Cache-Control"] = "no-cache"
    response.add_etag()
    return response.make_conditional(request)


def counts_error(post_ids: list[str]) -> str | None:
    if not post_ids:
        return "Give at least one post_id."
    if len(post_ids) > MAX_COUNTED_POSTS:
        return f"Give at most {MAX_COUNTED_POSTS} post ids at once."
    return next(filter(None, map(posts.post_id_error, post_ids)), None)


@bp.get("/allowed-tags")
def allowed_tags() -> Response:
    return jsonify(sanitize.allowed_tags_payload())


bp.after_request(cors)
