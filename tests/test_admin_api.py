"""/admin/api as a moderator's script uses it, against both backends where it queries."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import redis
from flask import Flask
from sqlalchemy import update

from service import status, store
from service.db import get_engine
from service.schema import comments

from .conftest import Admin, lessons, valid
from .test_worker import submit


def add(app: Flask, state: str, **changes: Any) -> int:
    values = {"post_id": "p1", "author": "Ada", "email": "ada@example.org", "url": None, "content": "text",
              "original": "text", "ip": "203.0.113.1", **changes}
    with app.app_context(), get_engine().begin() as conn:
        return store.insert_comment(conn, values, state)


@pytest.fixture()
def api_admin(any_app: Flask) -> Admin:
    return Admin(any_app)


def test_list_filters_pages_and_orders(any_app: Flask, api_admin: Admin) -> None:
    held = [add(any_app, status.HELD, original=f"held number {n}", content=f"held {n}") for n in range(5)]
    add(any_app, status.HELD, post_id="p2", author="Bob", email="bob@example.org", ip="198.51.100.7",
        notify_replies=True)
    add(any_app, status.APPROVED)
    body = api_admin.api("GET", "/comments?status=held&per_page=2&page=1").get_json()
    assert (body["total"], body["page"], body["per_page"]) == (6, 1, 2)
    assert [c["id"] for c in body["comments"]] == [held[4] + 1, held[4]]  # newest first
    oldest = api_admin.api("GET", "/comments?status=held&order=oldest&per_page=1").get_json()
    assert oldest["comments"][0]["id"] == held[0]
    for query, expected in [("post_id=p2", 1), ("author=bo", 1), ("email=BOB@example.org", 1),
                            ("ip=198.51.100.7", 1), ("q=NUMBER 3", 1), ("q=100%25", 0)]:
        assert api_admin.api("GET", f"/comments?status=held&{query}").get_json()["total"] == expected, query
    assert api_admin.api("GET", "/comments?status=approved").get_json()["total"] == 1
    first = body["comments"][0]
    assert {"email", "ip", "user_agent", "original", "reasons", "spam_score"} <= set(first)
    assert first["notify_replies"] is True and body["comments"][1]["notify_replies"] is False


@pytest.mark.parametrize("query", ["status=nope", "page=0", "per_page=201", "per_page=x", "order=sideways",
                                   "per_page=%C2%B2", "page=" + "9" * 5000])
def test_bad_list_arguments_are_422(admin: Admin, query: str) -> None:
    response = admin.api("GET", f"/comments?{query}")
    assert response.status_code == 422 and query.split("=")[0] in response.get_json()["errors"]


def test_text_filters_with_a_nul_match_nothing_on_both_backends(any_app: Flask, api_admin: Admin) -> None:
    add(any_app, status.HELD)
    response = api_admin.api("GET", "/comments?q=te%00xt&author=%00&ip=%00&post_id=%00&email=%00")
    assert response.status_code == 200 and response.get_json()["total"] == 0


def test_actions_record_the_moderator_and_teach_the_engine(app: Flask, admin: Admin,
                                                           redis_client: redis.Redis) -> None:
    comment_id = add(app, status.HELD)
    for action, expected in [("approve", status.APPROVED), ("unapprove", status.HELD), ("spam", status.SPAM),
                             ("restore", status.HELD), ("trash", status.TRASH), ("restore", status.HELD),
                             ("ham", status.APPROVED)]:
        response = admin.api("POST", f"/comments/{comment_id}/{action}")
        assert response.status_code == 200 and response.get_json()["to"] == expected, action
    history = admin.api("GET", f"/comments/{comment_id}").get_json()["history"]
    assert [entry["by"] for entry in history[1:]] == ["moderator:ann"] * 7
    learning = redis_client.lrange("rq:queue:learning", 0, -1)
    assert len(learning) == 3  # spam, restore out of spam and ham teach; the others do not


def test_unknown_action_and_comment(admin: Admin) -> None:
    assert admin.api("POST", "/comments/1/promote").status_code == 422
    assert admin.api("POST", "/comments/999999/approve").status_code == 404
    assert admin.api("GET", "/comments/999999").status_code == 404
    assert admin.api("DELETE", "/comments/999999").status_code == 404
    assert admin.api("GET", "/comments/99999999999999999999").status_code == 404


def test_delete_for_ever(app: Flask, admin: Admin) -> None:
    comment_id = add(app, status.SPAM)
    assert admin.api("DELETE", f"/comments/{comment_id}").status_code == 204
    assert admin.api("GET", f"/comments/{comment_id}").status_code == 404


def test_bulk(app: Flask, admin: Admin) -> None:
    ids = [add(app, status.HELD, original=f"t{n}") for n in range(3)]
    response = admin.api("POST", "/comments/bulk", json={"action": "spam", "ids": [*ids, 999999]})
    results = response.get_json()["results"]
    assert [r.get("to") for r in results] == [status.SPAM] * 3 + [None]
    assert results[-1] == {"id": 999999, "error": "not found"}
    for body in ({"action": "spam", "ids": []}, {"action": "fly", "ids": [1]}, {"action": "spam", "ids": ["1"]},
                 {"action": "spam", "ids": [True]}, [1, 2], {"action": "spam", "ids": list(range(1, 502))},
                 {"action": "spam", "ids": [2**31]}, {"action": "spam", "ids": [1.5]}, {"action": "spam"}):
        assert admin.api("POST", "/comments/bulk", json=body).status_code == 422, body


def test_stats(any_app: Flask, api_admin: Admin) -> None:
    for state in (status.HELD, status.HELD, status.SPAM):
        add(any_app, state)
    body = api_admin.api("GET", "/stats").get_json()
    assert body["counts"] == {"pending": 0, "held": 2, "approved": 0, "spam": 1, "trash": 0}
    today = body["per_day"][-1]
    assert today["received"] == 3


def test_purge_removes_old_spam_and_trash_only(any_app: Flask) -> None:
    from service.admin.purge import purge_old

    old = {state: add(any_app, state, original=state) for state in (status.SPAM, status.TRASH, status.HELD)}
    recent = add(any_app, status.SPAM, original="recent")
    with any_app.app_context(), get_engine().begin() as conn:
        conn.execute(update(comments).where(comments.c.id.in_(old.values()))
                     .values(updated_at=store.utcnow() - timedelta(days=20)))
        assert purge_old(conn, 15, store.utcnow()) == {"spam": 1, "trash": 1}
        assert store.get_comment(conn, recent) and store.get_comment(conn, old[status.HELD])


def test_a_submitted_comment_can_be_cleared_through_the_api(app: Flask, admin: Admin, work: Any) -> None:
    with app.app_context(), get_engine().begin() as conn:
        from service import word_lists

        word_lists.add(conn, word_lists.MODERATION, "letter")
    comment_id = app.test_client().post("/comments", json=valid()).get_json()["id"]
    work(app)
    queue = admin.api("GET", "/comments?status=held").get_json()["comments"]
    assert [c["id"] for c in queue] == [comment_id]
    assert "moderation list: 'letter' in the text" in [r["reason"] for r in queue[0]["reasons"]]
    assert admin.api("POST", f"/comments/{comment_id}/approve").status_code == 200
    thread = app.test_client().get("/posts/secure-communities/comments").get_json()["comments"]
    assert [c["id"] for c in thread] == [comment_id]




def test_approving_out_of_spam_teaches_not_spam(app: Flask, admin: Admin, redis_client: redis.Redis) -> None:
    comment_id = add(app, status.SPAM)
    assert admin.api("POST", f"/comments/{comment_id}/approve").get_json()["to"] == status.APPROVED
    assert lessons(redis_client) == [[comment_id, False]]


@pytest.mark.parametrize(("reasons", "taught"), [
    ([{"check": "classifier", "score": 0.62, "reason": "classifier: 0.65 spam"}], True),
    ([{"check": "classifier", "score": 0.0, "reason": "classifier: 0.05 spam"},
      {"check": "policy", "score": 0.0, "reason": "first comment from this author", "verdict": "held"}], False),
    (None, False),
])
def test_approving_a_held_comment_teaches_not_spam_only_if_the_classifier_suspected_it(
        app: Flask, admin: Admin, redis_client: redis.Redis, reasons: Any, taught: bool) -> None:
    comment_id = add(app, status.HELD, reasons=reasons)
    assert admin.api("POST", f"/comments/{comment_id}/approve").get_json()["to"] == status.APPROVED
    assert lessons(redis_client) == ([[comment_id, False]] if taught else [])


def test_approving_the_same_held_comment_again_teaches_nothing_more(app: Flask, admin: Admin,
                                                                   redis_client: redis.Redis) -> None:
    comment_id = add(app, status.HELD, reasons=[{"check": "classifier", "score": 0.4, "reason": "classifier: 0.6"}])
    for action in ("approve", "unapprove", "approve"):
        assert admin.api("POST", f"/comments/{comment_id}/{action}").status_code == 200
    assert lessons(redis_client) == [[comment_id, False]]


def test_an_edit_refreshes_the_link_domains(app: Flask, admin: Admin) -> None:
    from sqlalchemy import select

    from service.schema import comment_domains

    comment_id = add(app, status.HELD, content='<a href="https://old.example/">x</a>')
    with app.app_context(), get_engine().begin() as conn:
        store.edit_content(conn, comment_id, "see https://new.example/", '<a href="https://new.example/">y</a>',
                           "moderator:ann")
        domains = set(conn.execute(select(comment_domains.c.domain)
                                   .where(comment_domains.c.comment_id == comment_id)).scalars())
    assert domains == {"new.example"}


def test_edit_through_the_api_is_sanitized_and_recorded(app: Flask, admin: Admin) -> None:
    comment_id = add(app, status.HELD)
    hostile = 'Fixed <script>x()</script><a href="javascript:x()" onclick="y()">link</a> <b>bold</b>'
    response = admin.api("PATCH", f"/comments/{comment_id}", json={"text": hostile})
    assert response.status_code == 200, response.get_json()
    comment = response.get_json()
    assert comment["original"] == hostile and comment["status"] == status.HELD
    assert "<b>bold</b>" in comment["content"]
    assert not any(bad in comment["content"] for bad in ("<script", "javascript:", "onclick"))
    assert (comment["history"][-1]["by"], comment["history"][-1]["why"]) == ("moderator:ann", "edited")


@pytest.mark.parametrize(("body", "field"), [
    (None, "body"), ([], "body"), ({}, "text"), ({"text": 5}, "text"), ({"text": "a\x00b"}, "text"),
    ({"text": "<script>x()</script>"}, "text"), ({"text": "x" * 65_526}, "text"),
])
def test_bad_text_is_422_naming_the_field(app: Flask, admin: Admin, body: Any, field: str) -> None:
    comment_id = add(app, status.HELD)
    for method, path in (("PATCH", f"/comments/{comment_id}"), ("POST", f"/comments/{comment_id}/replies")):
        response = admin.api(method, path, json=body)
        assert response.status_code == 422 and field in response.get_json()["errors"], (method, response.get_json())
    assert admin.api("GET", f"/comments/{comment_id}").get_json()["original"] == "text"


def test_a_reply_through_the_api_is_published_and_approves_its_parent(app: Flask, admin: Admin) -> None:
    parent = add(app, status.HELD)
    response = admin.api("POST", f"/comments/{parent}/replies", json={"text": " Thanks, <em>approved</em>. "})
    assert response.status_code == 201, response.get_json()
    reply = response.get_json()
    assert (reply["parent_id"], reply["post_id"], reply["author"], reply["status"]) == (parent, "p1", "ann",
                                                                                          status.APPROVED)
    assert reply["content"] == "Thanks, <em>approved</em>."
    assert admin.api("GET", f"/comments/{parent}").get_json()["status"] == status.APPROVED
    thread = app.test_client().get("/posts/p1/comments").get_json()["comments"]
    assert [c["id"] for c in thread] == [parent, reply["id"]]


def test_edit_and_reply_answer_404_and_spam_cannot_be_answered(app: Flask, admin: Admin) -> None:
    assert admin.api("PATCH", "/comments/999999", json={"text": "x"}).status_code == 404
    assert admin.api("POST", "/comments/999999/replies", json={"text": "x"}).status_code == 404
    spam = add(app, status.SPAM)
    response = admin.api("POST", f"/comments/{spam}/replies", json={"text": "No."})
    assert response.status_code == 422
    assert response.get_json()["errors"]["text"] == "Only an approved, held or pending comment can be answered."
    assert admin.api("GET", f"/comments/{spam}").get_json()["status"] == status.SPAM


def test_word_lists_through_the_api(app: Flask, admin: Admin, work: Any) -> None:
    assert admin.api("GET", "/lists").get_json() == {"moderation": [], "disallowed": []}
    response = admin.api("POST", "/lists/moderation", json={"add": ["  Casino ", "viagra", "casino"]})
    assert response.status_code == 200
    assert response.get_json() == {"list": "moderation", "added": ["casino", "viagra"], "removed": [],
                                   "terms": ["casino", "viagra"]}
    response = admin.api("POST", "/lists/moderation", json={"remove": ["VIAGRA", "absent"], "add": []})
    assert response.get_json()["removed"] == ["viagra"] and response.get_json()["terms"] == ["casino"]
    assert admin.api("GET", "/lists").get_json() == {"moderation": ["casino"], "disallowed": []}
    comment_id = submit(app, comment="The Casino question deserves a longer answer.")
    work(app)
    reasons = [r["reason"] for r in admin.api("GET", f"/comments/{comment_id}").get_json()["reasons"]]
    assert "moderation list: 'casino' in the text" in reasons


@pytest.mark.parametrize(("body", "field"), [
    (None, "body"), ({}, "body"), ({"add": "casino"}, "add"), ({"add": [""]}, "add"), ({"remove": [3]}, "remove"),
    ({"add": ["x" * 201]}, "add"), ({"add": ["a\nb"]}, "add"), ({"add": ["a\x00b"]}, "add"),
    ({"add": ["ok", "\ud800"]}, "add"), ({"add": ["t"] * 501}, "add"),
])
def test_bad_list_changes_are_422_and_change_nothing(admin: Admin, body: Any, field: str) -> None:
    response = admin.api("POST", "/lists/disallowed", json=body)
    assert response.status_code == 422 and field in response.get_json()["errors"], response.get_json()
    assert admin.api("GET", "/lists").get_json()["disallowed"] == []
    assert admin.api("POST", "/lists/other", json={"add": ["x"]}).status_code == 404


def test_the_moderation_policy_through_the_api(app: Flask, admin: Admin, work: Any) -> None:
    assert app.config["MODERATION"] == "auto"  # COMMENTS_MODERATION until a moderator sets a policy
    assert admin.api("GET", "/settings").get_json() == {"moderation": "auto"}
    response = admin.api("PATCH", "/settings", json={"moderation": "all"})
    assert response.status_code == 200 and response.get_json() == {"moderation": "all"}
    assert admin.api("GET", "/settings").get_json() == {"moderation": "all"}
    comment_id = submit(app, comment="A plain thought.")
    work(app)
    assert admin.api("GET", f"/comments/{comment_id}").get_json()["status"] == status.HELD  # every worker obeys


@pytest.mark.parametrize(("body", "field"), [({"moderation": "none"}, "moderation"), ({"moderation": ["all"]},
                                             "moderation"), ({}, "body"), (["all"], "body"), (None, "body")])
def test_a_bad_policy_is_422_and_changes_nothing(admin: Admin, body: Any, field: str) -> None:
    response = admin.api("PATCH", "/settings", json=body)
    assert response.status_code == 422 and field in response.get_json()["errors"]
    assert admin.api("GET", "/settings").get_json() == {"moderation": "auto"}
