"""Commenters who tick notify_replies are emailed about approved replies, through a real SMTP server."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import redis
from flask import Flask
from sqlalchemy import insert, select

from service import moderation, status, store
from service.config import ConfigError, from_environment
from service.db import get_engine
from service.privacy import erase, personal_data
from service.schema import comments, reply_notices, reply_subscribers
from workers import notify

from .conftest import Inbox, valid
from .test_notify import BASE, body
from .test_worker import comment

SITE = "https://blog.example"
PAGE = f"{SITE}/2011/06/letter/"
SENDER = "comments@blog.example"


def replying_app(app_factory: Any, port: int, database_url: str | None = None,
                 confirmed: tuple[str, ...] = ("ada@example.org",), **overrides: Any) -> Flask:
    """Reply emails on, with these addresses already confirmed (the double opt-in has its own test)."""
    settings = {"MODERATION": "auto", "REPLY_NOTIFY": True, "NOTIFY_FROM": SENDER, "SMTP_URL": f"smtp://127.0.0.1:{port}",
                "BASE_URL": BASE, "ALLOWED_ORIGINS": [SITE], **overrides}
    app = app_factory(database_url, **settings) if database_url else app_factory(**settings)
    with app.app_context(), get_engine().begin() as conn:
        for email in confirmed:
            conn.execute(insert(reply_subscribers).values(email=email, confirmed_at=store.utcnow()))
    return app


def post(app: Flask, referer: str | None = PAGE, **changes: Any) -> int:
    headers = {"Referer": referer} if referer else {}
    answer = app.test_client().post("/comments", json=valid(**changes), headers=headers)
    assert answer.status_code == 202, answer.get_json()
    return int(answer.get_json()["id"])


def notices(app: Flask) -> list[tuple[int, str | None]]:
    with app.app_context(), get_engine().connect() as conn:
        query = select(reply_notices.c.comment_id, reply_notices.c.outcome).order_by(reply_notices.c.comment_id)
        return [tuple(row) for row in conn.execute(query)]  # type: ignore[misc]


def thread(app: Flask, work: Any, parent: dict[str, Any], reply: dict[str, Any]) -> tuple[int, int]:
    """A parent approved, then a reply to it approved, by the spam check."""
    parent_id = post(app, **parent)
    work(app)
    reply_id = post(app, parent_id=parent_id, **reply)
    work(app)
    assert (comment(app, parent_id)["status"], comment(app, reply_id)["status"]) == (status.APPROVED,) * 2
    return parent_id, reply_id


PARENT = {"author": "Ada", "email": "Ada@Example.org", "comment": "A plain thought.", "notify_replies": True}
REPLY = {"author": "Grace\nStop these emails: here", "email": "grace@example.org",
         "comment": "I agree with the governor.\nStop these emails: there."}
FIRST_LINE = f"Grace Stop these emails: here replied to your comment on {valid()['post_id']}:"


def test_an_approved_reply_emails_the_parents_author_once(app_factory: Any, smtp: tuple[Inbox, int],
                                                          backend_url: str, work: Any) -> None:
    inbox, port = smtp
    app = replying_app(app_factory, port, backend_url)
    parent_id, reply_id = thread(app, work, PARENT, REPLY)
    assert notices(app) == [(reply_id, None)] and inbox.messages == []  # due; queued by the next maintenance
    work(app)
    [(recipients, message)] = inbox.messages
    assert recipients == ["Ada@example.org"]  # as email-validator normalised it
    assert message["From"] == SENDER and message["Auto-Submitted"] == "auto-generated"
    assert message["Subject"] == f"New reply to your comment on {valid()['post_id']}"
    lines = body(message).splitlines()
    assert lines[0] == FIRST_LINE  # a newline in a name forges no line
    assert lines[2:4] == ["> I agree with the governor.", "> Stop these emails: there."]
    assert f"Read it on the page: {PAGE}#comment-{reply_id}" in lines
    stop = [line for line in lines if line.startswith("Stop these emails:")]
    assert len(stop) == 1 and stop[0].startswith(f"Stop these emails: {BASE}/unsubscribe?token=")
    assert message["List-Unsubscribe"] == f"<{stop[0].split(': ', 1)[1]}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert notices(app) == [(reply_id, "sent")]
    with app.app_context(), get_engine().begin() as conn:  # unapproved and approved again: no second email
        moderation.apply(conn, reply_id, "unapprove", "ann")
        moderation.apply(conn, reply_id, "approve", "ann")
    work(app)
    assert len(inbox.messages) == 1 and notices(app) == [(reply_id, "sent")]


def test_no_email_without_the_opt_in_or_to_oneself(app_factory: Any, smtp: tuple[Inbox, int],
                                                   work: Any) -> None:
    inbox, port = smtp
    app = replying_app(app_factory, port)
    thread(app, work, {**PARENT, "notify_replies": None}, REPLY)
    thread(app, work, {**PARENT, "comment": "Another thought."},
           {**REPLY, "email": "ADA@example.org", "comment": "I agree with the governor, myself."})
    work(app)
    assert notices(app) == [] and inbox.messages == []


def test_a_page_off_the_sites_origins_is_not_linked(app_factory: Any, smtp: tuple[Inbox, int],
                                                    work: Any) -> None:
    inbox, port = smtp
    app = replying_app(app_factory, port)
    parent_id = post(app, referer="https://evil.example/", **PARENT)
    work(app)
    post(app, referer="https://evil.example/page", parent_id=parent_id, **REPLY)
    work(app)
    work(app)
    [(_, message)] = inbox.messages
    assert "evil.example" not in body(message) and "Read it on the page" not in body(message)


def test_a_moderators_approval_and_reply_notify_too(app_factory: Any, smtp: tuple[Inbox, int],
                                                   work: Any) -> None:
    from service.admin import decisions

    inbox, port = smtp
    app = replying_app(app_factory, port, MODERATION="all")
    parent_id = post(app, **PARENT)
    work(app)
    with app.app_context(), get_engine().begin() as conn:
        moderation.apply(conn, parent_id, "approve", "ann")
    reply_id = post(app, parent_id=parent_id, **REPLY)
    work(app)
    assert comment(app, reply_id)["status"] == status.HELD and notices(app) == []
    with app.app_context(), get_engine().begin() as conn:
        moderation.apply(conn, reply_id, "approve", "ann")
    with app.app_context():
        assert decisions.reply(parent_id, "Thank you, Ada.", "ann", "nh3") is not None
    work(app)
    assert [body(message).splitlines()[0] for _, message in inbox.messages] == [
        FIRST_LINE,
        f"ann replied to your comment on {valid()['post_id']}:",
    ]


def link_after(message: Any, label: str) -> str:
    """The path and query of the link on the line that starts with `label`."""
    [line] = [line for line in body(message).splitlines() if line.startswith(label)]
    parts = urlsplit(line.split(": ", 1)[1])
    return f"{parts.path}?{parts.query}"


def unsubscribe_link(message: Any) -> str:
    return link_after(message, "Stop these emails:")


def subscribers(app: Flask) -> dict[str, bool]:
    """Address -> confirmed?"""
    with app.app_context(), get_engine().connect() as conn:
        rows = conn.execute(select(reply_subscribers.c.email, reply_subscribers.c.confirmed_at))
        return {email: confirmed is not None for email, confirmed in rows}


def test_the_first_reply_to_an_unconfirmed_address_asks_it_to_confirm(
        app_factory: Any, smtp: tuple[Inbox, int], work: Any) -> None:
    inbox, port = smtp
    app = replying_app(app_factory, port, confirmed=())
    parent_id, first = thread(app, work, PARENT, REPLY)
    work(app)
    [(recipients, message)] = inbox.messages
    assert recipients == ["Ada@example.org"]
    assert message["Subject"] == "Confirm emails about replies on comments.example.org"
    text = body(message)
    assert "Grace" not in text and "governor" not in text and valid()["post_id"] not in text  # no commenter's words
    assert subscribers(app) == {"ada@example.org": False}
    second = post(app, parent_id=parent_id, **{**REPLY, "comment": "I agree with the governor once more."})
    work(app)
    work(app)
    assert len(inbox.messages) == 1  # one question a week, however many replies
    assert dict(notices(app)) == {first: "confirmation sent", second: "unconfirmed"}
    client = app.test_client()
    link = link_after(message, "To get it, and future replies, confirm:")
    page = client.get(link)
    assert page.status_code == 200 and b"Yes, email me about replies" in page.data
    assert subscribers(app) == {"ada@example.org": False}  # a mail scanner following the link confirms nothing
    done = client.post(link)
    assert done.status_code == 200 and b"Confirmed" in done.data and subscribers(app) == {"ada@example.org": True}
    work(app)
    assert [m["Subject"] for _, m in inbox.messages[1:]] == [f"New reply to your comment on {valid()['post_id']}"] * 2
    assert dict(notices(app)) == {first: "sent", second: "sent"}
    assert client.post(link.replace("token=", "token=x")).status_code == 400
    assert client.get(link.replace("confirm-replies", "unsubscribe")).status_code == 400  # each link its own salt


def test_the_unsubscribe_link_asks_then_stops_every_comment_of_that_address(
        app_factory: Any, smtp: tuple[Inbox, int], work: Any) -> None:
    inbox, port = smtp
    app = replying_app(app_factory, port)
    parent_id, _ = thread(app, work, PARENT, REPLY)
    other = post(app, **{**PARENT, "email": "ada@example.org", "comment": "Another thought."})
    work(app)
    client = app.test_client()
    link = unsubscribe_link(inbox.messages[0][1])
    page = client.get(link)
    assert page.status_code == 200 and b"Stop the emails" in page.data
    assert comment(app, parent_id)["notify_replies"] and comment(app, other)["notify_replies"]  # GET changes nothing
    done = client.post(link, data={"List-Unsubscribe": "One-Click"})  # RFC 8058's one-click POST
    assert done.status_code == 200 and b"no more emails" in done.data
    assert not comment(app, parent_id)["notify_replies"] and not comment(app, other)["notify_replies"]
    assert subscribers(app) == {}  # ticking the box again needs a new confirmation
    assert client.post(link).status_code == 200  # again: still fine
    post(app, parent_id=parent_id, **{**REPLY, "comment": "I agree with the governor once more."})
    work(app)
    work(app)
    assert len(inbox.messages) == 1 and len(notices(app)) == 1
    token = link.split("token=", 1)[1]
    for bad in ("", "x", token[:-2], token.replace(token[0], "A" if token[0] != "A" else "B", 1)):
        assert client.get(f"/unsubscribe?token={bad}").status_code == 400
        assert client.post("/unsubscribe", data={"token": bad}).status_code == 400


def test_what_changed_before_the_email_went_is_respected(app_factory: Any, smtp: tuple[Inbox, int],
                                                         work: Any) -> None:
    inbox, port = smtp
    app = replying_app(app_factory, port, REPLY_NOTIFY=False,  # no email goes while the cases are set up
                       confirmed=tuple(f"ada{n}@example.org" for n in range(3)))
    cases = {}
    for n, change in enumerate(("unsubscribed", "reply not approved", "parent not approved")):
        cases[change] = thread(app, work, {**PARENT, "comment": f"Thought {n}.", "email": f"ada{n}@example.org"},
                               {**REPLY, "comment": f"I agree with the governor on point {n}."})
    with app.app_context(), get_engine().begin() as conn:
        conn.execute(comments.update().where(comments.c.id == cases["unsubscribed"][0]).values(notify_replies=False))
        moderation.apply(conn, cases["reply not approved"][1], "trash", "ann")
        moderation.apply(conn, cases["parent not approved"][0], "spam", "ann")
    app.config["REPLY_NOTIFY"] = True
    work(app)
    assert inbox.messages == []
    assert dict(notices(app)) == {reply_id: outcome for outcome, (_, reply_id) in cases.items()}


def test_each_recipient_gets_at_most_the_hourly_cap(app_factory: Any, smtp: tuple[Inbox, int], work: Any,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    inbox, port = smtp
    monkeypatch.setattr(notify, "REPLIES_PER_HOUR", 1)
    app = replying_app(app_factory, port)
    parent_id, first = thread(app, work, PARENT, REPLY)
    second = post(app, parent_id=parent_id, **{**REPLY, "comment": "I agree with the governor once more."})
    work(app)
    work(app)
    assert len(inbox.messages) == 1 and dict(notices(app)) == {first: "sent", second: "capped"}


def test_reply_emails_off_queue_nothing(app_factory: Any, redis_client: redis.Redis, work: Any) -> None:
    app = app_factory(MODERATION="auto")
    thread(app, work, PARENT, REPLY)
    assert len(notices(app)) == 1  # the outbox is written; turning the emails on later sends what is fresh
    with app.app_context():
        assert notify.enqueue_replies(redis_client, get_engine(), app.config) == 0


def test_reply_emails_need_a_sender(tmp_path: Path) -> None:
    from service import config

    with pytest.raises(ConfigError, match="COMMENTS_NOTIFY_FROM"):
        config.finish(from_environment({"COMMENTS_REPLY_NOTIFY": "true", "COMMENTS_SECRET_KEY": "k" * 20}),
                      str(tmp_path))


@pytest.mark.parametrize(("sent", "stored"), [(True, True), ("on", True), ("1", True), ("", False), ("false", False),
                                               (None, False), (False, False)])
def test_the_opt_in_field(app: Flask, sent: Any, stored: bool) -> None:
    comment_id = post(app, notify_replies=sent)
    assert comment(app, comment_id)["notify_replies"] is stored


@pytest.mark.parametrize("sent", ["maybe", 2, ["on"]])
def test_a_bad_opt_in_is_a_422_naming_the_field(app: Flask, sent: Any) -> None:
    answer = app.test_client().post("/comments", json=valid(notify_replies=sent))
    assert answer.status_code == 422 and "notify_replies" in answer.get_json()["errors"]


def test_a_form_post_with_the_checkbox_twice_is_refused(app: Flask) -> None:
    answer = app.test_client().post("/comments", data={**valid(), "notify_replies": ["on", "on"]},
                                    headers={"Accept": "application/json"})
    assert answer.status_code == 422 and "given 2 times" in answer.get_json()["errors"]["notify_replies"]


def test_the_opt_in_is_personal_data(app: Flask) -> None:
    comment_id = post(app, notify_replies=True)
    with app.app_context(), get_engine().begin() as conn:
        conn.execute(insert(reply_subscribers).values(email=valid()["email"], confirmed_at=store.utcnow()))
        export = personal_data(conn, valid()["email"])
        assert export["comments"][0]["notify_replies"] is True
        assert export["reply_emails"]["confirmed_at"] is not None and export["reply_emails"]["asked_at"] is None
        erase(conn, valid()["email"], "test")
        assert personal_data(conn, valid()["email"])["reply_emails"] is None
    assert comment(app, comment_id)["notify_replies"] is False and subscribers(app) == {}


def test_the_demo_form_offers_the_checkbox_only_when_reply_emails_are_on(app_factory: Any) -> None:
    off, on = app_factory(), app_factory(REPLY_NOTIFY=True, NOTIFY_FROM=SENDER)
    pages = [app.test_client().get("/").data for app in (off, on)]
    assert [b'name="notify_replies"' in page for page in pages] == [False, True]
