"""The tables (SQLAlchemy Core). Alembic's migrations create them; this module describes them for queries."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    func,
)

from . import limits

metadata = MetaData()

comments = Table(
    "comments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("post_id", String(limits.POST_ID), nullable=False),
    Column("parent_id", Integer, ForeignKey("comments.id", ondelete="SET NULL"), nullable=True),
    Column("author", String(limits.AUTHOR), nullable=False),
    Column("email", String(limits.EMAIL), nullable=False),
    Column("url", String(limits.URL), nullable=True),
    Column("content", Text, nullable=False, doc="Sanitized HTML, safe to render."),
    Column("original", Text, nullable=False, doc="The text as submitted; never rendered as HTML."),
    Column("content_hash", String(64), nullable=False, doc="sha256 of the submitted text, for duplicates."),
    Column("ip", String(45), nullable=True),
    Column("user_agent", String(limits.USER_AGENT), nullable=True),
    Column("referrer", String(limits.REFERRER), nullable=True),
    Column("page", String(limits.REFERRER), nullable=True,
           doc="The site's page the comment was written on: the form's redirect_to, else the Referer, if on an "
               "allowed origin; an imported comment's post address."),
    Column("status", String(16), nullable=False),
    Column("spam_score", Float, nullable=True),
    Column("reasons", JSON, nullable=False, default=list, doc="[{check, score, reason}] behind the verdict."),
    Column("signals", JSON, nullable=False, default=dict, doc="Intake facts for the checks (form token…)."),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("notify_replies", Boolean, nullable=False, default=False, server_default=false(),
           doc="The author asked to be emailed about approved replies (the form's opt-in)."),
    Index("ix_comments_status_created", "status", "created_at"),
    Index("ix_comments_post_status_created", "post_id", "status", "created_at"),
    Index("ix_comments_email_created", "email", "created_at"),
    Index("ix_comments_ip_created", "ip", "created_at"),
    Index("ix_comments_content_hash", "content_hash"),
)
Index("ix_comments_email_lower_status", func.lower(comments.c.email), comments.c.status)
"""Authors are looked up case-insensitively, with their approved comments (reputation, first-time moderation)."""

status_changes = Table(
    "status_changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("comment_id", Integer, ForeignKey("comments.id", ondelete="CASCADE"), nullable=False),
    Column("from_status", String(16), nullable=True),
    Column("to_status", String(16), nullable=False),
    Column("actor", String(120), nullable=False, doc="'intake', 'spam-check' or 'moderator:<name>'."),
    Column("reason", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_status_changes_comment", "comment_id"),
)

word_lists = Table(
    "word_lists",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("list", String(16), nullable=False, doc="'moderation' holds, 'disallowed' files as spam."),
    Column("term", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("list", "term", name="uq_word_lists_list_term"),
)

comment_domains = Table(
    "comment_domains",
    metadata,
    Column("comment_id", Integer, ForeignKey("comments.id", ondelete="CASCADE"), primary_key=True),
    Column("domain", String(253), primary_key=True, doc="Host of a link in the comment or of its author URL."),
    Index("ix_comment_domains_domain", "domain"),
)

spam_marks = Table(
    "spam_marks",
    metadata,
    Column("kind", String(8), primary_key=True, doc="'email' (lower-cased), 'ip' or 'domain'."),
    Column("value", String(253), primary_key=True),
    Column("comment_id", Integer, ForeignKey("comments.id", ondelete="CASCADE"), primary_key=True,
           index=True),
)
"""The senders and link domains of comments a moderator filed as spam, while they stay spam: the
reputation check looks them up by key, so a flood of the engine's own spam verdicts costs it nothing."""

moderators = Table(
    "moderators",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(80), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False, doc="werkzeug.security hash (scrypt)."),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("moderator_id", Integer, ForeignKey("moderators.id", ondelete="CASCADE"), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True, doc="sha256 of the token; the token is shown once."),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_used_at", DateTime(timezone=True), nullable=True),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
)

admin_sessions = Table(
    "admin_sessions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("moderator_id", Integer, ForeignKey("moderators.id", ondelete="CASCADE"), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True, doc="sha256 of the token in the cookie."),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)
"""Logged-in page sessions, so that logging out (or removing the moderator) ends a session on the
server too: a copied cookie stops working at once, not when it expires."""

settings = Table(
    "settings",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False, doc="Settings changed on the review queue's settings page."),
)

reply_notices = Table(
    "reply_notices",
    metadata,
    Column("comment_id", Integer, ForeignKey("comments.id", ondelete="CASCADE"), primary_key=True,
           doc="An approved reply whose parent's author asked to hear of replies."),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("done_at", DateTime(timezone=True), nullable=True),
    Column("outcome", String(40), nullable=True, doc="'sent', or why no email went ('unsubscribed', …)."),
    Index("ix_reply_notices_done_created", "done_at", "created_at"),
)
"""The outbox of reply emails: written in the transaction that approves the reply, so neither a Redis
outage nor a crash between commit and enqueue loses one; one row per reply, so approving it twice
sends one email."""

reply_subscribers = Table(
    "reply_subscribers",
    metadata,
    Column("email", String(limits.EMAIL), primary_key=True, doc="Lower-cased."),
    Column("asked_at", DateTime(timezone=True), nullable=True, doc="When the last confirmation email went."),
    Column("confirmed_at", DateTime(timezone=True), nullable=True),
)
"""Double opt-in for reply emails: an address gets them only once its owner followed the confirmation
link, so nobody can sign someone else up by ticking the box with their address."""

posts = Table(
    "posts",
    metadata,
    Column("post_id", String(limits.POST_ID), primary_key=True),
    Column("comments_open", Boolean, nullable=False,
           doc="A moderator's choice; it overrides COMMENTS_CLOSE_AFTER_DAYS either way."),
    Column("changed_at", DateTime(timezone=True), nullable=False),
    Column("changed_by", String(120), nullable=False, doc="`moderator:<name>` or `cli`."),
)
"""Only the posts a moderator closed or kept open: the service knows a post by its comments alone."""
