"""Every query on comments, and the status transitions with their audit trail."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import (
    BigInteger,
    Connection,
    RowMapping,
    and_,
    bindparam,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    true,
    update,
)

from . import status
from .prepared import Prepared
from .schema import comment_domains, comments, posts, reply_notices, spam_marks, status_changes

PUBLIC_FIELDS = ("id", "post_id", "parent_id", "author", "url", "content", "created_at", "status")
"""What the site may show: never email, IP, user agent or the original text."""

HREF = re.compile(r'href="([^"]+)"')

INTAKE = "intake"
SPAM_CHECK = "spam-check"
AUTHOR = "author"
MODERATOR = "moderator:"
"""Actors: the intake, the worker's check, the comment's author, and `moderator:<name>`."""

# The statements of every submission run as `Prepared`, compiled once per dialect: building a
# statement per request was once the largest cost of POST /comments, and SQLAlchemy's work per
# execution was the next.
INSERT_COMMENT = Prepared(insert(comments).returning(comments.c.id))
INSERT_CHANGE = Prepared(insert(status_changes))
INSERT_DOMAIN = Prepared(insert(comment_domains))
SAME_TEXT = (
    select(comments.c.id)
    .where(
        comments.c.content_hash == bindparam("content_hash"),
        comments.c.post_id == bindparam("post_id"),
        or_(comments.c.author == bindparam("author"), comments.c.email == bindparam("email")),
    )
    .limit(1)
)
"""The same text from the same author or email on the same post: the import's test of "already stored"."""
DUPLICATE_AND_CHOICE = Prepared(select(
    exists(SAME_TEXT.where(comments.c.status != status.TRASH)),
    select(posts.c.comments_open).where(posts.c.post_id == bindparam("post_id")).scalar_subquery(),
))
"""Whether the text is stored already, and the post's open or closed choice if a moderator made one: one
statement for the two questions every submission asks (a second statement cost more than its lookup)."""
GET_COMMENT = select(comments).where(comments.c.id == bindparam("id"))
SET_VERDICT = (
    update(comments)
    .where(comments.c.id == bindparam("comment_id"), comments.c.status == status.PENDING)
    .values(status=bindparam("verdict"), spam_score=bindparam("score", type_=comments.c.spam_score.type),
            reasons=bindparam("reasons", type_=comments.c.reasons.type),
            updated_at=bindparam("now", type_=comments.c.updated_at.type))
)
SET_CHECKED_VERDICT = SET_VERDICT.where(comments.c.content_hash == bindparam("checked_hash"))
"""The worker's statements, built once for the same reason; the second refuses a verdict on text that an
edit has replaced since the check read it."""
APPROVED_IN_POST = Prepared(select(comments.c.id).where(
    comments.c.id == bindparam("id"), comments.c.post_id == bindparam("post_id"),
    comments.c.status == status.APPROVED,
))


def utcnow() -> datetime:
    return datetime.now(UTC)


def content_hash(text: str) -> str:
    """Fingerprint of the submitted text, so duplicates are found through an index."""
    return hashlib.sha256(text.strip().encode("utf-8")).hexdigest()


def record_change(
    conn: Connection, comment_id: int, from_status: str | None, to_status: str, actor: str, reason: str | None
) -> None:
    """Append one entry to the audit trail."""
    INSERT_CHANGE.rows(conn, {"comment_id": comment_id, "from_status": from_status, "to_status": to_status,
                                 "actor": actor, "reason": reason, "created_at": utcnow()})


def insert_comment(conn: Connection, values: dict[str, Any], state: str, reason: str | None = None,
                   actor: str = INTAKE) -> int:
    """Store a new comment in `state` and record how it arrived; returns its id.

    `values` may carry its own `created_at` (an imported comment keeps its date).
    """
    now = utcnow()
    row = {
        "reasons": [],
        "signals": {},
        "notify_replies": False,
        "created_at": now,
        **values,
        "status": state,
        "content_hash": content_hash(values["original"]),
        "updated_at": now,
    }
    [(comment_id,)] = INSERT_COMMENT.rows(conn, row)
    record_change(conn, comment_id, None, state, actor, reason)
    write_domains(conn, comment_id, row["content"], row.get("url"))
    return comment_id


def write_domains(conn: Connection, comment_id: int, content: str, url: str | None) -> None:
    if domains := link_domains(content, url):
        INSERT_DOMAIN.many(conn, [{"comment_id": comment_id, "domain": d} for d in sorted(domains)])


def domain_of(url: str) -> str | None:
    """The host of a URL, lower-cased and without `www.`, so one site counts as one domain."""
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    if not host:
        return None
    return host[4:] if host.startswith("www.") else host


def link_domains(content: str, url: str | None) -> set[str]:
    """Domains linked from the sanitized content and the author's website (reputation checks use them)."""
    found = {domain_of(href) for href in HREF.findall(content)}
    if url:
        found.add(domain_of(url))
    return {domain[:253] for domain in found if domain}


def get_comment(conn: Connection, comment_id: int) -> RowMapping | None:
    return conn.execute(GET_COMMENT, {"id": comment_id}).mappings().first()


TEXT_LOCK = Prepared(select(func.pg_advisory_xact_lock(bindparam("key", type_=BigInteger))))
ANOTHER_WITH_TEXT = Prepared(SAME_TEXT.where(comments.c.status != status.TRASH, comments.c.id != bindparam("id")))


def same_text(post_id: str, author: str, email: str, original: str) -> dict[str, str]:
    """What the duplicate rule compares: this text (by its hash) from this author or email on this post."""
    return {"content_hash": content_hash(original), "post_id": post_id, "author": author, "email": email}


def duplicate_and_choice(conn: Connection, text: dict[str, str]) -> tuple[bool, bool | None]:
    """Whether `same_text` is stored already, trash aside (as WordPress checks); and, asked in the same
    statement, a moderator's choice for the post (`posts.comments_open`, None when there is none).

    On PostgreSQL, a submission of the same text to the same post then waits until this transaction
    ends (an advisory lock on the post and the text), so two clicks on Submit at once cannot both find
    nothing and both insert. SQLite has no such lock short of its write lock: see `duplicated_meanwhile`.
    """
    if conn.dialect.name != "sqlite":
        key = hashlib.sha256(f"{text['post_id']}\0{text['content_hash']}".encode()).digest()[:8]
        TEXT_LOCK.rows(conn, {"key": int.from_bytes(key, "big", signed=True)})
    [(duplicate, choice)] = DUPLICATE_AND_CHOICE.rows(conn, text)
    return bool(duplicate), None if choice is None else bool(choice)


def duplicated_meanwhile(conn: Connection, comment_id: int, text: dict[str, str]) -> bool:
    """On SQLite, after the insert: whether another submission stored the same text since the duplicate check.

    SQLite's writers take turns from their first write to their commit, so a check after the insert sees
    every earlier commit. Taking the write lock before `duplicate_and_choice` instead (BEGIN IMMEDIATE)
    widened the turns enough to cost 7 % of the intake's throughput. PostgreSQL's lock makes this moot.
    """
    return conn.dialect.name == "sqlite" and bool(ANOTHER_WITH_TEXT.rows(conn, {**text, "id": comment_id}))


def is_approved_in_post(conn: Connection, comment_id: int, post_id: str) -> bool:
    return bool(APPROVED_IN_POST.rows(conn, {"id": comment_id, "post_id": post_id}))


def has_approved_comment(conn: Connection, email: str) -> bool:
    """Whether this email has been approved before: `first-time` moderation trusts such authors."""
    query = select(comments.c.id).where(
        func.lower(comments.c.email) == email.lower(), comments.c.status == status.APPROVED
    )
    return conn.execute(query.limit(1)).first() is not None


def set_verdict(
    conn: Connection, comment_id: int, verdict: str, score: float, reasons: list[dict[str, Any]], actor: str,
    checked_hash: str | None = None,
) -> bool:
    """Move a pending comment to its verdict; False (and no change) if it already has one.

    The `WHERE status = 'pending'` makes this atomic: of two workers racing on one
    comment, or one job delivered twice, exactly one writes a verdict and an audit entry.
    With `checked_hash` (the content hash the check read), a verdict on text edited since is not written
    either; the comment stays pending for the check its edit enqueued.
    """
    params = {"comment_id": comment_id, "verdict": verdict, "score": score, "reasons": reasons, "now": utcnow()}
    if checked_hash is None:
        changed = conn.execute(SET_VERDICT, params).rowcount
    else:
        changed = conn.execute(SET_CHECKED_VERDICT, {**params, "checked_hash": checked_hash}).rowcount
    if changed:
        summary = "; ".join(r["reason"] for r in reasons if r.get("reason")) or None
        record_change(conn, comment_id, status.PENDING, verdict, actor, summary)
    return bool(changed)


def transition(
    conn: Connection, comment_id: int, to_status: str, actor: str, reason: str | None = None
) -> str | None:
    """Move a comment to `to_status`; returns the status it left, or None if it does not exist."""
    row = conn.execute(select(comments.c.status).where(comments.c.id == comment_id)).first()
    if row is None:
        return None
    previous: str = row.status
    changed = conn.execute(
        update(comments)
        .where(comments.c.id == comment_id, comments.c.status == previous)
        .values(status=to_status, updated_at=utcnow())
    ).rowcount
    if changed and previous != to_status:
        record_change(conn, comment_id, previous, to_status, actor, reason)
        if to_status == status.APPROVED:
            note_reply(conn, comment_id)
        if to_status == status.SPAM and actor.startswith(MODERATOR):
            mark_spam(conn, comment_id)
        elif previous == status.SPAM:
            unmark_spam(conn, comment_id)
    return previous


_PARENT = comments.alias("parent")


def note_reply(conn: Connection, comment_id: int) -> bool:
    """Put a just-approved reply in the outbox of reply emails if its parent's author asked for them.

    Not for a reply to one's own comment, and once per reply: approving it again sends nothing more.
    Whatever approves calls it in its own transaction (a moderator's transition, the spam check's
    verdict, a moderator's reply), so the email cannot be lost between commit and enqueue.
    """
    reply = comments
    query = (
        select(reply.c.id, bindparam("now", utcnow()))
        .join(_PARENT, _PARENT.c.id == reply.c.parent_id)
        .where(
            reply.c.id == comment_id,
            _PARENT.c.notify_replies == true(),
            func.lower(_PARENT.c.email) != func.lower(reply.c.email),
            ~exists().where(reply_notices.c.comment_id == comment_id),
        )
    )
    return bool(conn.execute(insert(reply_notices).from_select(["comment_id", "created_at"], query)).rowcount)


def mark_spam(conn: Connection, comment_id: int) -> None:
    """Remember the sender and link domains of a comment a moderator filed as spam (reputation reads them)."""
    row = conn.execute(select(comments.c.email, comments.c.ip, comments.c.content, comments.c.url)
                       .where(comments.c.id == comment_id)).one()
    marks = [("email", row.email.lower()), *([("ip", row.ip)] if row.ip else []),
             *(("domain", domain) for domain in sorted(link_domains(row.content, row.url)))]
    unmark_spam(conn, comment_id)
    conn.execute(insert(spam_marks), [{"kind": kind, "value": value, "comment_id": comment_id}
                                      for kind, value in marks])


def unmark_spam(conn: Connection, comment_id: int) -> bool:
    """Forget a comment's spam marks; whether it had any."""
    return bool(conn.execute(delete(spam_marks).where(spam_marks.c.comment_id == comment_id)).rowcount)


def _replace_text(conn: Connection, comment_id: int, original: str, content: str, url: str | None,
                  **also: Any) -> None:
    """New text, its sanitized HTML and hash (and `also` other columns), and the link domains drawn from them."""
    conn.execute(update(comments).where(comments.c.id == comment_id).values(
        original=original, content=content, content_hash=content_hash(original), updated_at=utcnow(), **also))
    conn.execute(delete(comment_domains).where(comment_domains.c.comment_id == comment_id))
    write_domains(conn, comment_id, content, url)


def edit_content(conn: Connection, comment_id: int, original: str, content: str, actor: str) -> bool:
    """A moderator's edit: new text and its sanitized HTML, recorded in the audit trail."""
    row = conn.execute(select(comments.c.status, comments.c.url).where(comments.c.id == comment_id)).first()
    if row is None:
        return False
    _replace_text(conn, comment_id, original, content, row.url)
    if unmark_spam(conn, comment_id):
        mark_spam(conn, comment_id)  # a moderator's spam: its link domains may have changed
    record_change(conn, comment_id, row.status, row.status, actor, "edited")
    return True


EDITED_SINCE = {"check": "author", "score": 0.0, "reason": "edited by its author after this check"}


def author_edit(conn: Connection, comment_id: int, original: str, content: str) -> str | None:
    """The author's own edit: new text; a published comment goes back to pending for a new spam check.

    A held comment stays for its moderator and a spam one stays spam, marks and all: an author cannot
    talk a comment past a moderator or a check by editing it. Their reasons then gain a line saying the
    text changed since the check, so the moderator reads them with that in mind. Returns the status
    after, None if gone (deleted, or in the trash).
    """
    row = conn.execute(select(comments.c.status, comments.c.url, comments.c.reasons)
                       .where(comments.c.id == comment_id)).first()
    if row is None or row.status == status.TRASH:
        return None
    after = status.PENDING if row.status == status.APPROVED else row.status
    reasons = [r for r in row.reasons or [] if r != EDITED_SINCE]
    _replace_text(conn, comment_id, original, content, row.url, status=after,
                  reasons=reasons if after == status.PENDING else [*reasons, EDITED_SINCE])
    record_change(conn, comment_id, row.status, after, AUTHOR, "edited by its author")
    return after


def author_delete(conn: Connection, comment_id: int) -> bool:
    """The author's own delete: into the trash. Unlike a moderator's move out of spam, spam marks stay."""
    row = conn.execute(select(comments.c.status).where(comments.c.id == comment_id)).first()
    if row is None or row.status == status.TRASH:
        return False
    conn.execute(update(comments).where(comments.c.id == comment_id).values(status=status.TRASH,
                                                                            updated_at=utcnow()))
    record_change(conn, comment_id, row.status, status.TRASH, AUTHOR, "deleted by its author")
    return True


def reopen(conn: Connection, comment_id: int, from_status: str, actor: str) -> bool:
    """Send a decided comment back to pending for a recheck; False if it is no longer in `from_status`."""
    changed = conn.execute(
        update(comments)
        .where(comments.c.id == comment_id, comments.c.status == from_status)
        .values(status=status.PENDING, updated_at=utcnow())
    ).rowcount
    if changed:
        record_change(conn, comment_id, from_status, status.PENDING, actor, "recheck")
        if from_status == status.SPAM:
            unmark_spam(conn, comment_id)
    return bool(changed)


def ids_with_status(conn: Connection, state: str) -> list[int]:
    query = select(comments.c.id).where(comments.c.status == state).order_by(comments.c.id)
    return list(conn.execute(query).scalars())


def pending_ids(conn: Connection, limit: int = 1000, after_id: int = 0) -> list[int]:
    """Ids of pending comments, oldest first, in pages (the sweeper walks them all)."""
    query = (
        select(comments.c.id)
        .where(comments.c.status == status.PENDING, comments.c.id > after_id)
        .order_by(comments.c.id)
        .limit(limit)
    )
    return list(conn.execute(query).scalars())


def stored_since(conn: Connection, after_id: int, also: Sequence[int], limit: int) -> list[tuple[int, str]]:
    """(id, status) of the comments stored after `after_id`, and of the ids in `also`, oldest first."""
    query = (
        select(comments.c.id, comments.c.status)
        .where(or_(comments.c.id > after_id, comments.c.id.in_(also)) if also else comments.c.id > after_id)
        .order_by(comments.c.id)
        .limit(limit)
    )
    return [(row.id, row.status) for row in conn.execute(query)]


def last_id(conn: Connection) -> int:
    return int(conn.execute(select(func.coalesce(func.max(comments.c.id), 0))).scalar_one())


def pending_among(conn: Connection, ids: list[int]) -> list[int]:
    query = select(comments.c.id).where(comments.c.id.in_(ids), comments.c.status == status.PENDING)
    return list(conn.execute(query).scalars())


def changes_for(conn: Connection, comment_id: int) -> Sequence[RowMapping]:
    query = select(status_changes).where(status_changes.c.comment_id == comment_id).order_by(status_changes.c.id)
    return conn.execute(query).mappings().all()


def public_view(row: RowMapping | dict[str, Any]) -> dict[str, Any]:
    """The public fields of a comment, JSON-ready."""
    view = {field: row[field] for field in PUBLIC_FIELDS}
    view["created_at"] = as_utc(row["created_at"]).isoformat()
    return view


def as_utc(moment: datetime) -> datetime:
    """SQLite hands datetimes back naive; they were stored as UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def approved_thread(conn: Connection, post_id: str) -> list[dict[str, Any]]:
    """The approved comments of a post in thread order: each reply right after its parent's subtree.

    A reply whose parent is not approved (any more) is shown at the top level, so
    it is never silently hidden.
    """
    query = (
        select(*(comments.c[field] for field in PUBLIC_FIELDS))
        .where(and_(comments.c.post_id == post_id, comments.c.status == status.APPROVED))
        .order_by(comments.c.created_at, comments.c.id)
    )
    rows = [public_view(row) for row in conn.execute(query).mappings()]
    return thread_order(rows)


def newest_approved(conn: Connection, post_id: str | None, limit: int) -> list[RowMapping]:
    """The newest approved comments, of one post or of all: public fields, and the page they came from."""
    query = select(*(comments.c[field] for field in PUBLIC_FIELDS), comments.c.referrer, comments.c.page).where(
        comments.c.status == status.APPROVED)
    if post_id is not None:
        query = query.where(comments.c.post_id == post_id)
    query = query.order_by(comments.c.created_at.desc(), comments.c.id.desc()).limit(limit)
    return list(conn.execute(query).mappings())


def approved_counts(conn: Connection, post_ids: Sequence[str]) -> dict[str, int]:
    """The number of approved comments of each post, zero included, in the order asked."""
    query = (select(comments.c.post_id, func.count()).where(comments.c.post_id.in_(post_ids),
             comments.c.status == status.APPROVED).group_by(comments.c.post_id))
    found = {post_id: int(count) for post_id, count in conn.execute(query)}
    return {post_id: found.get(post_id, 0) for post_id in post_ids}


def threads(ordered: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """A post's comments in thread_order(), one list per top-level comment with all its replies."""
    found: list[list[dict[str, Any]]] = []
    for row in ordered:
        if row["depth"] == 0:
            found.append([])
        found[-1].append(row)
    return found


def newest_first(ordered: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The newest top-level comments first, each still followed by its replies in the order they came
    (WordPress's "newer comments at the top": replies read as a conversation)."""
    return [row for thread in reversed(threads(ordered)) for row in thread]


def thread_pages(ordered: list[dict[str, Any]], per_page: int) -> list[list[dict[str, Any]]]:
    """A thread in thread_order() cut into pages of `per_page` top-level comments, each with all its replies
    (WordPress's "break comments into pages"): a reply is never on another page than what it answers."""
    found = threads(ordered)
    return [[row for thread in found[i : i + per_page] for row in thread]
            for i in range(0, len(found), per_page)] or [[]]


def thread_order(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Order rows depth-first by parent, keeping time order among siblings; adds `depth`."""
    rows = list(rows)
    present = {row["id"] for row in rows}
    children: dict[int | None, list[dict[str, Any]]] = {}
    for row in rows:
        parent = row["parent_id"] if row["parent_id"] in present else None
        children.setdefault(parent, []).append(row)
    ordered: list[dict[str, Any]] = []
    stack = [(row, 0) for row in reversed(children.get(None, []))]
    while stack:
        row, depth = stack.pop()
        ordered.append({**row, "depth": depth})
        stack.extend((child, depth + 1) for child in reversed(children.get(row["id"], [])))
    return ordered
