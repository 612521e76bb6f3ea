"""The review queue without JavaScript: every action is a plain form post that lands back on the queue."""

from __future__ import annotations

import re
from typing import Any

import pytest
import redis
from flask import Flask

from service import status, store, word_lists
from service.admin import settings
from service.db import get_engine

from .conftest import Admin, lessons


def held(app: Flask, text: str = "A held comment", **changes: Any) -> int:
    values = {"post_id": "p1", "author": "Ada", "email": "ada@example.org", "url": "https://ada.example/",
              "content": f"<p>{text}</p>", "original": text, "ip": "203.0.113.5", **changes}
    with app.app_context(), get_engine().begin() as conn:
        comment_id = store.insert_comment(conn, values, status.PENDING)
        store.set_verdict(conn, comment_id, status.HELD, 0.7,
                          [{"check": "links", "score": 0.6, "reason": "2 links (limit 1)"},
                           {"check": "classifier", "score": 0.1, "reason": "classifier: p(spam) 0.42"}],
                          store.SPAM_CHECK)
    return comment_id


def state(app: Flask, comment_id: int) -> str | None:
    with app.app_context(), get_engine().connect() as conn:
        row = store.get_comment(conn, comment_id)
    return row["status"] if row else None


class Moderator:
    """A logged-in browser without JavaScript: GETs pages and posts their forms with the CSRF token."""

    def __init__(self, admin: Admin) -> None:
        self.client = admin.login().client
        self.token = admin.csrf("/admin/")

    def page(self, path: str = "/admin/") -> str:
        response = self.client.get(path)
        assert response.status_code == 200, path
        return str(response.get_data(as_text=True))

    def post(self, path: str, **fields: Any) -> Any:
        return self.client.post(path, data={"csrf_token": self.token, "next": "/admin/?status=held", **fields})

    def after(self, path: str, **fields: Any) -> str:
        """Post a form and follow it back: the page the moderator sees next."""
        response = self.post(path, **fields)
        assert response.status_code == 302 and response.headers["Location"] == "/admin/?status=held", path
        return self.page(response.headers["Location"])


@pytest.fixture()
def moderator(admin: Admin) -> Moderator:
    return Moderator(admin)


def test_a_comment_shows_everything_a_moderator_decides_on(app: Flask, moderator: Moderator) -> None:
    parent = held(app, "The parent")
    comment_id = held(app, "<b>Hello</b> there", parent_id=parent, content="<p><b>Hello</b> there</p>",
                      notify_replies=True, page="https://blog.example/2011/06/p1/")
    imported = held(app, "From an odd export", page="javascript:alert(1)")
    html = moderator.page()
    row = html[html.index(f'id="c{comment_id}"'):html.index(f'id="c{parent}"')]
    for shown in ("Ada", "ada@example.org", "https://ada.example/", "203.0.113.5", "p1", f"in reply to #{parent}",
                  "wants reply emails", "score 0.70", "2 links (limit 1)", "classifier: p(spam) 0.42",
                  "<p><b>Hello</b> there</p>", "&lt;b&gt;Hello&lt;/b&gt; there",
                  'href="https://blog.example/2011/06/p1/" rel="noopener noreferrer" class="page"'):
        assert shown in row, shown
    assert 'class="page"' not in html[html.index(f'id="c{imported}"'):html.index(f'id="c{comment_id}"')]
    assert "wants reply emails" not in html[html.index(f'id="c{parent}"'):]
    assert re.search(r'<span class="count" data-count="held">3</span>', html)
    assert html.index('data-status="held"') < html.index('data-status="pending"')


@pytest.mark.parametrize("action, expected", [("approve", status.APPROVED), ("spam", status.SPAM),
                                              ("trash", status.TRASH)])
def test_one_action_by_plain_form(app: Flask, moderator: Moderator, action: str, expected: str) -> None:
    comment_id = held(app)
    page = moderator.after(f"/admin/comments/{comment_id}/{action}")
    assert f"Comment {comment_id}: held → {expected}." in page and f'id="c{comment_id}"' not in page
    assert state(app, comment_id) == expected


def test_bulk_move_back_and_restore_by_plain_form(app: Flask, moderator: Moderator) -> None:
    ids = [held(app, f"Comment {n}") for n in range(3)]
    page = moderator.after("/admin/comments/bulk", action="spam", ids=[str(i) for i in ids[:2]])
    assert "2 comments: spam." in page and [state(app, i) for i in ids] == ["spam", "spam", "held"]
    assert f"Comment {ids[0]} moved back." in moderator.after(f"/admin/comments/{ids[0]}/move", status="held")
    assert state(app, ids[0]) == status.HELD
    assert moderator.post(f"/admin/comments/{ids[0]}/move", status="pending").status_code == 400
    moderator.after(f"/admin/comments/{ids[1]}/restore")
    assert state(app, ids[1]) == status.HELD
    history = [(c["to_status"], c["actor"], c["reason"]) for c in changes(app, ids[0])]
    assert history[-2:] == [("spam", "moderator:ann", "spam"), ("held", "moderator:ann", "undo")]


def test_undoing_a_spam_mark_teaches_not_spam_and_redoing_it_spam(app: Flask, moderator: Moderator,
                                                                    redis_client: redis.Redis) -> None:
    comment_id = held(app)
    moderator.after(f"/admin/comments/{comment_id}/spam")
    moderator.after(f"/admin/comments/{comment_id}/move", status="held")  # the page's undo
    moderator.after(f"/admin/comments/{comment_id}/move", status="spam")
    moderator.after(f"/admin/comments/{comment_id}/move", status="trash")  # says nothing about the words
    assert lessons(redis_client) == [[comment_id, True], [comment_id, False], [comment_id, True]]


def changes(app: Flask, comment_id: int) -> list[Any]:
    with app.app_context(), get_engine().connect() as conn:
        return list(store.changes_for(conn, comment_id))


def test_delete_for_ever_asks_on_its_own_page_first(app: Flask, moderator: Moderator) -> None:
    comment_id = held(app)
    confirm = moderator.page(f"/admin/comments/{comment_id}/delete")
    assert "for ever?" in confirm and "This cannot be undone." in confirm
    assert state(app, comment_id) == status.HELD
    moderator.after(f"/admin/comments/{comment_id}/delete")
    assert state(app, comment_id) is None


def test_edit_is_sanitized_and_reply_is_published(app: Flask, moderator: Moderator) -> None:
    comment_id = held(app)
    hostile = 'Fixed <script>x()</script><a href="javascript:x()">link</a>'
    page = moderator.after(f"/admin/comments/{comment_id}/edit", text=hostile)
    assert f"Comment {comment_id} edited." in page
    with app.app_context(), get_engine().connect() as conn:
        content = store.get_comment(conn, comment_id)["content"]  # type: ignore[index]
    assert "<script" not in content and "javascript:" not in content and "Fixed" in content
    assert "control character (U+0000)" in moderator.after(f"/admin/comments/{comment_id}/edit", text="a\x00b")
    moderator.after(f"/admin/comments/{comment_id}/reply", text="Thanks, *approved*.")
    thread = app.test_client().get("/posts/p1/comments").get_json()["comments"]
    assert [(c["author"], c["parent_id"]) for c in thread] == [("Ada", None), ("ann", comment_id)]


def test_settings_change_the_lists_and_the_policy(app: Flask, moderator: Moderator) -> None:
    response = moderator.post("/admin/settings", policy="first-time", add_moderation="Casino\nviagra\n\n",
                              add_disallowed="a\x00b", remove_disallowed="nothing")
    assert response.headers["Location"] == "/admin/settings"
    page = moderator.page("/admin/settings")
    for shown in ("Moderation policy: first-time.", "The moderation list: 2 added, 0 removed.",
                  "The disallowed list: 1 added, 0 removed.", "<code>casino</code>", "<code>ab</code>"):
        assert shown in page, shown
    with app.app_context(), get_engine().connect() as conn:
        assert settings.policy(conn, "auto") == "first-time"
        assert word_lists.terms(conn, word_lists.MODERATION) == ["casino", "viagra"]
    moderator.post("/admin/settings", add_moderation="\n".join(f"term {n} " + "x" * 150 for n in range(200)),
                   remove_moderation="casino")
    assert "The moderation list: 200 added, 1 removed." in moderator.page("/admin/settings")  # still logged in
    refused = moderator.post("/admin/settings", policy="auto", add_disallowed="y" * 300)
    assert "Nothing was changed: a term is 1 to 200 characters." in moderator.page(refused.headers["Location"])
    with app.app_context(), get_engine().connect() as conn:
        assert settings.policy(conn, "auto") == "first-time"


def test_personal_data_found_downloaded_and_erased_by_plain_form(app: Flask, moderator: Moderator) -> None:
    first, second = held(app), held(app, "Another one", email="ADA@example.org")
    other = held(app, "Not hers", author="Bob", email="bob@example.org", ip="198.51.100.9")
    page = moderator.page("/admin/privacy?email=ada@example.org")
    assert "2 comments stored under ada@example.org" in page and "203.0.113.5" in page
    assert "Anonymise these 2 comments" in page
    assert "198.51.100.9" not in page
    download = moderator.client.get("/admin/privacy/export?email=ada@example.org")
    assert download.headers["Content-Disposition"] == 'attachment; filename="personal-data.json"'
    assert [c["id"] for c in download.get_json()["comments"]] == [first, second]
    erased = moderator.post("/admin/privacy/erase", email="ada@example.org")
    assert erased.status_code == 302 and erased.headers["Location"] == "/admin/privacy"
    assert "Anonymised 2 comments" in moderator.page("/admin/privacy")
    with app.app_context(), get_engine().connect() as conn:
        rows = {i: store.get_comment(conn, i) for i in (first, second, other)}
    assert [(r["author"], r["email"], r["ip"]) for r in (rows[first], rows[second])] == [("Anonymous", "", None)] * 2
    assert rows[other]["author"] == "Bob"  # type: ignore[index]
    assert "No comments are stored under ada@example.org." in moderator.page("/admin/privacy?email=ada@example.org")
    assert "control characters" in moderator.page("/admin/privacy?email=a%00b")
    assert moderator.client.get("/admin/privacy/export?email=").status_code == 404


@pytest.mark.parametrize("path", ["/admin/?page=%C2%B2", "/admin/?per_page=99999999999999999999999",
                                  "/admin/?q=%00&author=%00&ip=%00&post_id=%00&email=%00", "/admin/?status=nope"])
def test_odd_query_arguments_answer_a_page(any_app: Flask, path: str) -> None:
    moderator = Moderator(Admin(any_app))
    assert "Nothing here." in moderator.page(path)
