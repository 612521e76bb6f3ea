"""POST /comments and the public reads, as a site and its visitors see them."""

from __future__ import annotations

import contextlib
import json
import threading
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from service import status, store
from service.db import get_engine
from service.schema import comments, status_changes

from .conftest import valid

FORM = "application/x-www-form-urlencoded"


def rows(app: Flask) -> list[dict[str, Any]]:
    with app.app_context(), get_engine().connect() as conn:
        return [dict(row) for row in conn.execute(select(comments).order_by(comments.c.id)).mappings()]


def post_json(client: FlaskClient, data: Any, **kwargs: Any) -> Any:
    return client.post("/comments", json=data, **kwargs)


def test_json_submission_is_stored_pending_and_answers_202(app: Flask, client: FlaskClient) -> None:
    response = post_json(client, valid())
    assert response.status_code == 202
    body = response.get_json()
    assert body["status"] == "pending"
    assert set(body["comment"]) == {"id", "post_id", "parent_id", "author", "url", "content", "created_at",
                                    "status"}
    assert body["comment"]["content"] == "The letter makes a fair point about <b>Secure Communities</b>."
    (row,) = rows(app)
    assert row["id"] == body["id"] and row["status"] == status.PENDING
    assert body["comment"]["created_at"] == store.as_utc(row["created_at"]).isoformat()  # the stored time
    assert row["email"] == "ada@example.org" and row["ip"] == "127.0.0.1"
    assert row["original"] == valid()["comment"]


@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
def test_form_post_redirects_to_allowed_origin_with_anchor(app: Flask, client: FlaskClient, encoding: str) -> None:
    data = valid(redirect_to="https://blog.example/2011/06/s-comm/")
    kwargs: dict[str, Any] = {"data": data}
    if encoding == "multipart":
        kwargs["content_type"] = "multipart/form-data"
    response = client.post("/comments", **kwargs)
    assert response.status_code == 303
    (row,) = rows(app)
    assert response.headers["Location"] == f"https://blog.example/2011/06/s-comm/#comment-{row['id']}"


@pytest.mark.parametrize("target", ["https://evil.example/", "https://blog.example:8443/", "http://blog.example/",
                                    "//evil.example/", "javascript:alert(1)"])
def test_form_post_never_redirects_elsewhere(client: FlaskClient, target: str) -> None:
    response = client.post("/comments", data=valid(redirect_to=target))
    assert response.status_code == 202
    assert "Location" not in response.headers
    assert "awaits moderation" in response.get_data(as_text=True)


@pytest.mark.parametrize(("fields", "headers", "page"), [
    ({"redirect_to": "https://blog.example/2011/06/s-comm/"}, {"Referer": "https://blog.example/"},
     "https://blog.example/2011/06/s-comm/"),  # the form's page address, not the origin a browser sends
    ({}, {"Referer": "https://blog.example/2011/06/s-comm/?replytocom=3"}, "https://blog.example/2011/06/s-comm/?replytocom=3"),
    ({"redirect_to": "https://evil.example/s-comm/"}, {"Referer": "https://evil.example/s-comm/"}, None),
    ({}, {"Referer": "https://blog.example/" + "x" * 300}, None),  # too long for its column: not cut short
    ({}, {}, None),
])
def test_the_page_a_comment_was_written_on_is_kept_if_on_the_site(
        app: Flask, client: FlaskClient, fields: dict[str, str], headers: dict[str, str], page: str | None) -> None:
    response = client.post("/comments", data=valid(**fields), headers={"Accept": "application/json", **headers})
    assert response.status_code == 202
    (row,) = rows(app)
    assert row["page"] == page
    assert row["referrer"] == ((headers.get("Referer") or "")[:255] or None)


def test_wordpress_field_names_are_accepted(app: Flask, client: FlaskClient) -> None:
    data = valid(post_id=None, comment_post_ID="42", comment_parent="0", submit="Post Comment")
    response = client.post("/comments", data=data, headers={"Accept": "application/json"})
    assert response.status_code == 202
    (row,) = rows(app)
    assert row["post_id"] == "42" and row["parent_id"] is None


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"author": None}, "author", "Name is required"),
        ({"author": "   "}, "author", "Name is required"),
        ({"email": None}, "email", "Email is required"),
        ({"email": "not-an-email"}, "email", "Email is not valid"),
        ({"comment": ""}, "comment", "Comment is required"),
        ({"post_id": None}, "post_id", "Post id is required"),
        ({"author": "a" * 246}, "author", "245"),
        ({"email": "a" * 95 + "@x.org"}, "email", "100"),
        ({"url": "https://example.org/" + "a" * 190}, "url", "200"),
        ({"comment": "a" * 65_526}, "comment", "65,525"),
        ({"url": "javascript:alert(1)"}, "url", "http"),
        ({"url": "ftp://example.org/"}, "url", "http"),
        ({"parent_id": "abc"}, "parent_id", "number"),
        ({"parent_id": "99999"}, "parent_id", "not an approved comment"),
        ({"comment": "<script>alert(1)</script>"}, "comment", "empty"),
        ({"author": "Ada\x00"}, "author", "control character"),
        ({"author": ["Ada", "Bob"]}, "author", "once"),
        ({"author": 7}, "author", "must be text"),
    ],
)
def test_bad_fields_answer_422_naming_the_field(client: FlaskClient, changes: dict[str, Any], field: str,
                                                words: str) -> None:
    data = valid(**changes)
    if isinstance(data.get("author"), list):
        response = client.post("/comments", data=data, headers={"Accept": "application/json"})
    else:
        response = post_json(client, data)
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert field in errors and words in errors[field]


def test_all_field_errors_come_at_once(client: FlaskClient) -> None:
    response = post_json(client, {"url": "nope nope"})
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"author", "email", "comment", "post_id", "url"}


def test_form_errors_are_a_page_with_the_same_status(client: FlaskClient) -> None:
    response = client.post("/comments", data=valid(email="", redirect_to="https://blog.example/p/"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert response.mimetype == "text/html" and "Email is required." in page
    assert 'href="https://blog.example/p/"' in page


def test_reply_to_an_approved_comment_of_the_same_post(app: Flask, client: FlaskClient) -> None:
    parent = post_json(client, valid()).get_json()["id"]
    assert post_json(client, valid(comment="reply", parent_id=parent)).status_code == 422  # still pending
    with app.app_context(), get_engine().begin() as conn:
        store.transition(conn, parent, status.APPROVED, "moderator:test")
    assert post_json(client, valid(comment="reply", parent_id=parent, post_id="other")).status_code == 422
    response = post_json(client, valid(comment="reply", parent_id=str(parent)))
    assert response.status_code == 202 and response.get_json()["comment"]["parent_id"] == parent


@pytest.mark.parametrize(
    ("body", "content_type", "code"),
    [
        (b"{not json", "application/json", 400),
        (b"[1, 2]", "application/json", 400),
        (b'{"author": "\xff"}', "application/json", 400),
        (b"author=\xff\xfe", FORM, 400),
        (b"author=%FF%FE", FORM, 400),
        (b"--x\r\nContent-Disposition: form-data; name=\"author\"\r\n\r\n\xff\r\n--x--\r\n",
         "multipart/form-data; boundary=x", 400),
        (b"--x\r\nContent-Disposition: form-data; name=\"author\"\r\n\r\nAda", "multipart/form-data; boundary=x",
         400),
        (b"author=Ada", "text/plain", 415),
        (b"<comment/>", "application/xml", 415),
    ],
)
def test_malformed_bodies(client: FlaskClient, body: bytes, content_type: str, code: int) -> None:
    response = client.post("/comments", data=body, content_type=content_type,
                           headers={"Accept": "application/json"})
    assert response.status_code == code
    assert response.get_json()["error"]


def test_body_over_the_limit_answers_413(client: FlaskClient) -> None:
    response = post_json(client, valid(comment="a" * 300_000))
    assert response.status_code == 413
    assert "262,144" in response.get_json()["error"]


def test_same_comment_again_is_409(app: Flask, client: FlaskClient) -> None:
    assert post_json(client, valid()).status_code == 202
    again = post_json(client, valid(author="Someone else"))  # same email, same text
    assert again.status_code == 409 and "comment" in again.get_json()["errors"]
    assert post_json(client, valid(post_id="another-post")).status_code == 202
    assert len(rows(app)) == 2


def test_one_text_posted_twice_at_once_is_stored_once(any_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each submission waits after its duplicate check for the other to get as far, so both find nothing.
    PostgreSQL's advisory lock keeps the second from getting that far; on SQLite the second finds the
    first's comment in its check after the insert. Without either, both would be stored."""
    barrier = threading.Barrier(2, timeout=2)
    check = store.duplicate_and_choice

    def check_then_wait(*args: Any) -> tuple[bool, bool | None]:
        found = check(*args)
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait()
        return found

    monkeypatch.setattr(store, "duplicate_and_choice", check_then_wait)
    codes: list[int] = []
    threads = [threading.Thread(target=lambda: codes.append(post_json(any_app.test_client(), valid()).status_code))
               for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(codes) == [202, 409]
    assert len(rows(any_app)) == 1


def test_flood_answers_429_with_retry_after(app_factory: Any) -> None:
    client = app_factory(FLOOD_SECONDS=30).test_client()
    assert post_json(client, valid()).status_code == 202
    response = post_json(client, valid(comment="second thought"))
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 30
    other = post_json(client, valid(comment="from elsewhere"), environ_base={"REMOTE_ADDR": "10.9.8.7"})
    assert other.status_code == 202


def test_forwarded_for_is_believed_only_from_trusted_proxies(app_factory: Any) -> None:
    import ipaddress

    app = app_factory(TRUSTED_PROXIES=(ipaddress.ip_network("127.0.0.0/8"),))
    client = app.test_client()
    post_json(client, valid(), headers={"X-Forwarded-For": "203.0.113.9, 127.0.0.2"})
    post_json(client, valid(comment="two"), headers={"X-Forwarded-For": "203.0.113.10"},
              environ_base={"REMOTE_ADDR": "198.51.100.1"})
    assert [row["ip"] for row in rows(app)] == ["203.0.113.9", "198.51.100.1"]


def test_honeypot_looks_ordinary_but_files_as_spam(app: Flask, client: FlaskClient) -> None:
    response = post_json(client, valid(url2="http://spam.example"))
    assert response.status_code == 202 and response.get_json()["status"] == "pending"
    (row,) = rows(app)
    assert row["status"] == status.SPAM
    with app.app_context(), get_engine().connect() as conn:
        change = conn.execute(select(status_changes)).mappings().one()
    assert change["reason"] == "honeypot field filled" and change["actor"] == "intake"


def test_redis_down_still_accepts_and_keeps_pending(app_factory: Any, work: Any) -> None:
    app = app_factory(REDIS_URL="redis://127.0.0.1:1/0", FLOOD_SECONDS=15)
    response = post_json(app.test_client(), valid())
    assert response.status_code == 202
    assert rows(app)[0]["status"] == status.PENDING


def test_sweeper_enqueues_comments_stored_while_redis_was_down(app_factory: Any, work: Any) -> None:
    up = app_factory()
    down = app_factory(REDIS_URL="redis://127.0.0.1:1/0")
    for text in ("first", "second"):
        assert post_json(down.test_client(), valid(comment=text)).status_code == 202
    assert {row["status"] for row in rows(up)} == {status.PENDING}
    assert work(up)
    assert [row["status"] for row in rows(up)] == [status.APPROVED, status.APPROVED]


def test_cors_only_for_allowed_origins(client: FlaskClient) -> None:
    preflight = client.options("/comments", headers={"Origin": "https://blog.example",
                                                      "Access-Control-Request-Method": "POST"})
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://blog.example"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    stranger = client.options("/comments", headers={"Origin": "https://evil.example",
                                                     "Access-Control-Request-Method": "POST"})
    assert "Access-Control-Allow-Origin" not in stranger.headers


def test_thread_shows_approved_public_fields_in_thread_order_with_etag(app: Flask, client: FlaskClient) -> None:
    ids = {}
    for name in ("first", "second", "reply"):
        parent = ids.get("first") if name == "reply" else None
        response = post_json(client, valid(comment=name, parent_id=parent))
        ids[name] = response.get_json()["id"]
        with app.app_context(), get_engine().begin() as conn:
            store.transition(conn, ids[name], status.APPROVED, "moderator:test")
    post_json(client, valid(comment="still pending"))
    response = client.get("/posts/secure-communities/comments")
    body = response.get_json()
    assert [c["content"] for c in body["comments"]] == ["first", "reply", "second"]
    assert [c["depth"] for c in body["comments"]] == [0, 1, 0]
    text = json.dumps(body)
    assert "ada@example.org" not in text and "127.0.0.1" not in text and "user_agent" not in text
    etag = response.headers["ETag"]
    assert client.get("/posts/secure-communities/comments", headers={"If-None-Match": etag}).status_code == 304


def test_a_long_thread_comes_in_pages_of_top_level_comments_with_their_replies(app: Flask,
                                                                               client: FlaskClient) -> None:
    ids: dict[str, int] = {}
    for name, parent in (("a", None), ("a1", "a"), ("b", None), ("c", None), ("c1", "c"), ("c11", "c1"),
                         ("d", None), ("e", None)):
        ids[name] = post_json(client, valid(comment=name, parent_id=ids.get(parent or ""))).get_json()["id"]
        with app.app_context(), get_engine().begin() as conn:
            store.transition(conn, ids[name], status.APPROVED, "moderator:test")
    pages = [client.get(f"/posts/secure-communities/comments?per_page=2&page={n}").get_json() for n in (1, 2, 3, 4)]
    assert [[c["content"] for c in page["comments"]] for page in pages] == [
        ["a", "a1", "b"], ["c", "c1", "c11", "d"], ["e"], []]
    assert [(page["page"], page["pages"]) for page in pages] == [(1, 3), (2, 3), (3, 3), (4, 3)]
    first = client.get("/posts/secure-communities/comments?per_page=2").get_json()
    assert first["comments"] == pages[0]["comments"] and first["page"] == 1
    whole = client.get("/posts/secure-communities/comments").get_json()
    assert set(whole) == {"post_id", "open", "comments"} and len(whole["comments"]) == 8  # no page, no pages
    empty = client.get("/posts/no-comments-yet/comments?per_page=10").get_json()
    assert (empty["comments"], empty["pages"]) == ([], 1)
    newest = [client.get(f"/posts/secure-communities/comments?order=newest&per_page=2&page={n}").get_json()
              for n in (1, 2, 3)]  # the newest threads first, each reply still after what it answers
    assert [[c["content"] for c in page["comments"]] for page in newest] == [
        ["e", "d"], ["c", "c1", "c11", "b"], ["a", "a1"]]
    whole_newest = client.get("/posts/secure-communities/comments?order=newest").get_json()["comments"]
    assert [c["content"] for c in whole_newest] == ["e", "d", "c", "c1", "c11", "b", "a", "a1"]
    assert client.get("/posts/secure-communities/comments?order=oldest").get_json()["comments"] == whole["comments"]


@pytest.mark.parametrize(("query", "fields"), [
    ("per_page=0", {"per_page"}), ("per_page=201", {"per_page"}), ("per_page=x", {"per_page"}),
    ("per_page=%EF%BC%95", {"per_page"}),  # a full-width digit 5: isdigit() alone would take it
    ("per_page=2&page=0", {"page"}), ("per_page=2&page=-1", {"page"}), ("per_page=&page=", {"per_page", "page"}),
    ("page=2", {"per_page"}), ("order=new", {"order"}), ("order=", {"order"}),
    ("page=2&order=NEWEST", {"per_page", "order"}),
])
def test_bad_paging_is_a_422_naming_the_parameter(client: FlaskClient, query: str, fields: set[str]) -> None:
    response = client.get(f"/posts/secure-communities/comments?{query}")
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == fields


def test_comment_counts_give_each_post_its_approved_comments(any_app: Flask) -> None:
    client = any_app.test_client()
    for post, approved in (("letter", 3), ("other", 1)):
        for n in range(approved + 1):  # one more, left pending
            comment_id = post_json(client, valid(post_id=post, comment=f"{post} {n}")).get_json()["id"]
            if n < approved:
                with any_app.app_context(), get_engine().begin() as conn:
                    store.transition(conn, comment_id, status.APPROVED, "moderator:test")
    response = client.get("/comment-counts?post_id=other&post_id=unknown&post_id=letter&post_id=other",
                          headers={"Origin": "https://blog.example"})
    assert response.status_code == 200
    assert list(response.get_json()["counts"].items()) == [("other", 1), ("unknown", 0), ("letter", 3)]
    assert response.headers["Access-Control-Allow-Origin"] == "https://blog.example"
    again = client.get("/comment-counts?post_id=other&post_id=unknown&post_id=letter",
                       headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


@pytest.mark.parametrize("query, sentence", [
    ("", "Give at least one post_id."),
    ("&".join(f"post_id=p{n}" for n in range(101)), "Give at most 100 post ids at once."),
    ("post_id=" + "p" * 201, "A post id is at most 200 characters, without control characters."),
    ("post_id=a%00b", "A post id is at most 200 characters, without control characters."),
])
def test_comment_counts_refuse_bad_post_ids(any_app: Flask, query: str, sentence: str) -> None:
    response = any_app.test_client().get(f"/comment-counts?{query}")
    assert response.status_code == 422 and response.get_json() == {"errors": {"post_id": sentence}}


def test_allowed_tags_are_served(client: FlaskClient) -> None:
    body = client.get("/allowed-tags").get_json()
    assert body["tags"]["a"] == ["href", "title"] and body["tags"]["b"] == []
    assert body["sentence"].startswith("You may use these HTML tags and attributes: a href title, abbr title")


def test_health_and_readiness(app_factory: Any) -> None:
    client = app_factory().test_client()
    assert client.get("/healthz").get_json() == {"status": "ok"}
    assert client.get("/readyz").status_code == 200
    broken = app_factory(REDIS_URL="redis://127.0.0.1:1/0").test_client().get("/readyz")
    assert broken.status_code == 503 and broken.get_json()["failing"] == ["redis"]


def test_pages_send_security_headers(client: FlaskClient) -> None:
    response = client.post("/comments", data=valid())
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "script-src" not in response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize("engine", ["bleach", "nh3"])
def test_any_submission_is_stored_with_only_allowed_markup(app_factory: Any, engine: str) -> None:
    """Property: whatever is posted, what is stored (and later rendered) holds only the allowed set."""
    import uuid

    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from .test_sanitize import MARKUP, assert_safe

    app = app_factory(SANITIZER=engine)
    client = app.test_client()

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(comment=st.one_of(MARKUP, st.text(min_size=1)))
    def post(comment: str) -> None:
        response = post_json(client, valid(comment=comment, post_id=uuid.uuid4().hex))
        assert response.status_code in (202, 422)
        if response.status_code == 202:
            with app.app_context(), get_engine().connect() as conn:
                stored = store.get_comment(conn, response.get_json()["id"])
            assert stored is not None and stored["original"] == comment.strip()
            assert_safe(stored["content"])

    post()


@pytest.mark.parametrize("changes", [{"url": "http://[P*"}, {"redirect_to": "http://[x/"}, {"url": "http://[::1"}])
def test_unparsable_addresses_are_field_errors_not_crashes(client: FlaskClient, changes: dict[str, str]) -> None:
    response = client.post("/comments", data=valid(**changes))
    assert response.status_code in (202, 422)
    if "url" in changes:
        assert response.status_code == 422 and "Website" in response.get_data(as_text=True)
