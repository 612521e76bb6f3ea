"""A commenter's own comment: seen while it waits, edited or deleted within COMMENTS_EDIT_SECONDS."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import Signer
from sqlalchemy import select

from service import own_comments, status, store
from service.db import get_engine
from service.schema import spam_marks

from .conftest import Admin, valid


def post(client: FlaskClient, **changes: Any) -> dict[str, Any]:
    response = client.post("/comments", json=valid(**changes))
    assert response.status_code == 202, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def stored(app: Flask, comment_id: int) -> Any:
    with app.app_context(), get_engine().connect() as conn:
        return store.get_comment(conn, comment_id)


def audit(app: Flask, comment_id: int) -> list[tuple[str | None, str, str, str | None]]:
    with app.app_context(), get_engine().connect() as conn:
        changes = store.changes_for(conn, comment_id)
    return [(c["from_status"], c["to_status"], c["actor"], c["reason"]) for c in changes]


def set_status(app: Flask, comment_id: int, to_status: str, actor: str = "moderator:ann") -> None:
    with app.app_context(), get_engine().begin() as conn:
        store.transition(conn, comment_id, to_status, actor)


def thread(client: FlaskClient) -> list[str]:
    return [c["content"] for c in client.get(f"/posts/{valid()['post_id']}/comments").get_json()["comments"]]


def test_the_answer_carries_a_token_that_shows_the_comment_to_its_author(any_app: Flask) -> None:
    client = any_app.test_client()
    body = post(client)
    until = body["editable_until"]
    response = client.get(f"/comments/{body['id']}", headers=bearer(body["author_token"]))
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    shown = response.get_json()
    assert shown == {"id": body["id"], "status": "pending", "comment": body["comment"], "editable_until": until}
    created = store.as_utc(stored(any_app, body["id"])["created_at"])
    assert until == (created + timedelta(seconds=900)).isoformat()


@pytest.mark.parametrize("hidden", [status.HELD, status.SPAM])
def test_an_unpublished_comment_reads_as_pending_whatever_the_verdict(app: Flask, hidden: str) -> None:
    client = app.test_client()
    body = post(client)
    set_status(app, body["id"], hidden)
    shown = client.get(f"/comments/{body['id']}", headers=bearer(body["author_token"])).get_json()
    assert shown["status"] == shown["comment"]["status"] == "pending"
    assert set(shown["comment"]) == set(store.PUBLIC_FIELDS)  # no email, address or original


def test_an_edit_of_a_published_comment_is_sanitized_and_checked_again(any_app: Flask, work: Any) -> None:
    client = any_app.test_client()
    body = post(client)
    assert work(any_app) and stored(any_app, body["id"])["status"] == status.APPROVED
    edit = "Fair point, though <b>not</b> the whole story.<script>alert(1)</script>"
    response = client.put(f"/comments/{body['id']}", json={"comment": edit}, headers=bearer(body["author_token"]))
    assert response.status_code == 200
    clean = "Fair point, though <b>not</b> the whole story."
    assert response.get_json()["comment"]["content"] == clean
    assert response.get_json()["status"] == "pending"
    row = stored(any_app, body["id"])
    assert (row["status"], row["original"], row["content_hash"]) == (status.PENDING, edit, store.content_hash(edit))
    assert thread(client) == []  # not shown until checked again
    assert audit(any_app, body["id"])[-1] == (status.APPROVED, status.PENDING, store.AUTHOR, "edited by its author")
    assert work(any_app)  # the edit enqueued the check itself
    assert stored(any_app, body["id"])["status"] == status.APPROVED
    assert thread(client) == [clean]


def test_a_form_encoded_edit_of_a_waiting_comment_keeps_it_waiting(app: Flask) -> None:
    client = app.test_client()
    body = post(client)
    response = client.put(f"/comments/{body['id']}", data={"comment": "Second thoughts."},
                          headers=bearer(body["author_token"]))
    assert response.status_code == 200
    row = stored(app, body["id"])
    assert (row["status"], row["content"]) == (status.PENDING, "Second thoughts.")
    assert audit(app, body["id"])[-1] == (status.PENDING, status.PENDING, store.AUTHOR, "edited by its author")


def test_an_edit_cannot_talk_a_comment_past_its_moderator(app: Flask) -> None:
    """Held stays held for the moderator; spam stays spam, and a moderator's marks stay with it."""
    client = app.test_client()
    held, spam = post(client, comment="first"), post(client, comment="second <a href='https://ads.example/'>x</a>")
    set_status(app, held["id"], status.HELD)
    set_status(app, spam["id"], status.SPAM)
    for body in (held, spam):
        response = client.put(f"/comments/{body['id']}", json={"comment": "All innocent now."},
                              headers=bearer(body["author_token"]))
        assert response.status_code == 200 and response.get_json()["status"] == "pending"
    assert stored(app, held["id"])["status"] == status.HELD
    assert stored(app, spam["id"])["status"] == status.SPAM
    client.put(f"/comments/{held['id']}", json={"comment": "Once more."}, headers=bearer(held["author_token"]))
    assert stored(app, held["id"])["reasons"] == [store.EDITED_SINCE]  # the moderator is told, once
    with app.app_context(), get_engine().connect() as conn:
        marks = set(conn.execute(select(spam_marks.c.kind, spam_marks.c.value)).all())
    assert ("domain", "ads.example") in marks and ("email", "ada@example.org") in marks


@pytest.mark.parametrize(("edit", "sentence"), [
    ({}, "Comment is required."),
    ({"comment": "   "}, "Comment is required."),
    ({"comment": "<script>x</script>"}, "Comment is empty once markup outside the allowed tags is removed."),
    ({"comment": 5}, "Comment must be text."),
    ({"comment": "a" * 65526}, "Comment is longer than 65,525 characters."),
])
def test_a_bad_edit_answers_422_naming_the_comment(app: Flask, edit: dict[str, Any], sentence: str) -> None:
    client = app.test_client()
    body = post(client)
    response = client.put(f"/comments/{body['id']}", json=edit, headers=bearer(body["author_token"]))
    assert response.status_code == 422 and response.get_json() == {"errors": {"comment": sentence}}
    assert stored(app, body["id"])["original"] == valid()["comment"]


def test_the_author_deletes_into_the_trash_and_the_marks_stay(app: Flask) -> None:
    client = app.test_client()
    body = post(client)
    set_status(app, body["id"], status.SPAM)
    token = bearer(body["author_token"])
    assert client.delete(f"/comments/{body['id']}", headers=token).status_code == 204
    assert stored(app, body["id"])["status"] == status.TRASH
    assert audit(app, body["id"])[-1] == (status.SPAM, status.TRASH, store.AUTHOR, "deleted by its author")
    with app.app_context(), get_engine().connect() as conn:
        assert conn.execute(select(spam_marks.c.value).where(spam_marks.c.kind == "email")).scalars().all()
    for method in (client.get, client.delete):
        assert method(f"/comments/{body['id']}", headers=token).status_code == 404


def test_a_published_comment_deleted_by_its_author_leaves_the_thread(app: Flask, work: Any) -> None:
    client = app.test_client()
    body = post(client)
    assert work(app) and thread(client)
    assert client.delete(f"/comments/{body['id']}", headers=bearer(body["author_token"])).status_code == 204
    assert thread(client) == []


def test_no_token_or_a_wrong_one_is_refused_before_the_database_is_asked(app: Flask) -> None:
    client = app.test_client()
    mine, theirs = post(client, comment="mine"), post(client, comment="theirs")
    url = f"/comments/{theirs['id']}"
    missing = client.put(url, json={"comment": "hijacked"})
    assert missing.status_code == 401 and missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert "token" in missing.get_json()["errors"]
    for headers, sentence in ((bearer(mine["author_token"]), "This token is for another comment."),
                              (bearer(theirs["author_token"] + "x"), "This token is not valid."),
                              ({"Authorization": "Basic " + theirs["author_token"]},
                               "Send the author_token that came with the comment as Authorization: Bearer.")):
        for method in (client.get, client.put, client.delete):
            response = method(url, json={"comment": "hijacked"}, headers=headers)
            assert response.get_json() == {"errors": {"token": sentence}}, method
    payload = theirs["author_token"].rsplit(".", 1)[0]  # the same claim, signed with another key
    forged = Signer("another-secret-key-0123456789", salt=own_comments.SALT).sign(payload).decode()
    assert client.get(url, headers=bearer(forged)).get_json() == {"errors": {"token": "This token is not valid."}}
    assert stored(app, theirs["id"])["original"] == "theirs"
    assert client.get("/comments/99999999999", headers=bearer(mine["author_token"])).status_code == 403


def test_the_window_closes(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    client = app.test_client()
    body = post(client)
    later = store.as_utc(stored(app, body["id"])["created_at"]) + timedelta(seconds=901)
    monkeypatch.setattr(store, "utcnow", lambda: later)
    for method in (client.get, client.put, client.delete):
        response = method(f"/comments/{body['id']}", json={"comment": "too late"},
                          headers=bearer(body["author_token"]))
        assert response.status_code == 403
        assert response.get_json() == {"errors": {"token": "The 15 minutes to see or change this comment are over."}}
    assert stored(app, body["id"])["status"] == status.PENDING


def test_a_token_does_not_outlive_its_comment_when_the_id_is_given_again(app: Flask) -> None:
    """SQLite hands out the id of a deleted newest row again: the token names the creation time too."""
    client = app.test_client()
    first = post(client, comment="first")
    Admin(app).api("DELETE", f"/comments/{first['id']}")
    second = post(client, comment="second", author="Someone Else", email="else@example.org")
    assert second["id"] == first["id"]
    assert client.get(f"/comments/{first['id']}", headers=bearer(first["author_token"])).status_code == 404
    assert client.put(f"/comments/{first['id']}", json={"comment": "hijacked"},
                      headers=bearer(first["author_token"])).status_code == 404
    assert stored(app, second["id"])["original"] == "second"


def test_zero_seconds_turns_it_off(app_factory: Any) -> None:
    app = app_factory(EDIT_SECONDS=0)
    client = app.test_client()
    body = post(client)
    assert "author_token" not in body and "editable_until" not in body
    response = client.get(f"/comments/{body['id']}", headers=bearer("anything"))
    assert response.status_code == 403


def test_an_edit_while_redis_is_down_is_checked_by_the_sweeper(app_factory: Any, work: Any) -> None:
    up, down = app_factory(), app_factory(REDIS_URL="redis://127.0.0.1:1/0")  # one database
    body = post(up.test_client())
    assert work(up) and stored(up, body["id"])["status"] == status.APPROVED
    response = down.test_client().put(f"/comments/{body['id']}", json={"comment": "Edited offline."},
                                      headers=bearer(body["author_token"]))
    assert response.status_code == 200 and stored(up, body["id"])["status"] == status.PENDING
    assert work(up)
    assert stored(up, body["id"])["status"] == status.APPROVED


def test_a_verdict_on_text_edited_since_the_check_read_it_is_not_written(any_app: Flask) -> None:
    client = any_app.test_client()
    body = post(client)
    read = stored(any_app, body["id"])  # what a check read before the edit
    assert client.put(f"/comments/{body['id']}", json={"comment": "Edited meanwhile."},
                      headers=bearer(body["author_token"])).status_code == 200
    with any_app.app_context(), get_engine().begin() as conn:
        assert not store.set_verdict(conn, body["id"], status.APPROVED, 0.0, [], store.SPAM_CHECK,
                                     read["content_hash"])
        assert store.set_verdict(conn, body["id"], status.APPROVED, 0.0, [], store.SPAM_CHECK,
                                 store.content_hash("Edited meanwhile."))


def test_an_edit_during_a_running_check_gets_a_check_of_its_own(app: Flask, work: Any,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The check that read the old text writes nothing; the sweeper then has the edited text checked."""
    from workers import spam_check

    client = app.test_client()
    body = post(client)
    real_decide, edits = spam_check.decide, []

    def decide_while_the_author_edits(ctx: Any, policy: str) -> Any:
        if not edits:  # the author saves an edit just as the first check finishes
            edits.append(client.put(f"/comments/{body['id']}", json={"comment": "Edited while checked."},
                                    headers=bearer(body["author_token"])).status_code)
        return real_decide(ctx, policy)

    monkeypatch.setattr(spam_check, "decide", decide_while_the_author_edits)
    assert work(app) and edits == [200]
    assert stored(app, body["id"])["status"] == status.PENDING  # the first verdict was on the old text
    assert work(app)  # the next pass of the sweeper
    assert stored(app, body["id"])["status"] == status.APPROVED
    assert [(c[1], c[2]) for c in audit(app, body["id"])] == [
        (status.PENDING, store.INTAKE), (status.PENDING, store.AUTHOR), (status.APPROVED, store.SPAM_CHECK)]


def test_preflight_allows_an_authors_edit_from_the_site(client: FlaskClient) -> None:
    preflight = client.options("/comments/1", headers={"Origin": "https://blog.example",
                                                        "Access-Control-Request-Method": "PUT",
                                                        "Access-Control-Request-Headers": "authorization"})
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://blog.example"
    assert {"PUT", "DELETE"} <= set(preflight.headers["Access-Control-Allow-Methods"].split(", "))
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Credentials" not in preflight.headers



def test_a_path_that_is_not_a_comment_id_answers_json(client: FlaskClient) -> None:
    """The author's API is JSON only, whatever the client accepts (a browser's */* included)."""
    response = client.get("/comments/-1", headers={"Accept": "*/*"})
    assert response.status_code == 404 and response.is_json
