"""`comments privacy export|erase EMAIL`: a commenter's personal data on request, on both databases."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from service import status, store
from service.db import get_engine
from service.schema import comment_domains, spam_marks

from .conftest import Admin
from .test_cli import run
from .test_worker import comment, submit

TEXT = 'I agree, see <a href="https://letter.example/copy">the letter</a>.'


def seed(app: Flask) -> tuple[list[int], int]:
    """Three comments by Ada (two spellings of her email; one approved, one filed as spam), one by Bob."""
    ada = [submit(app, author="Ada", email="ada@example.org", url="https://ada.example.org", comment=TEXT,
                  redirect_to="https://blog.example/2011/06/s-comm/?s=ada+lovelace"),
           submit(app, author="Ada L.", email="Ada@Example.org", comment="A second thought."),
           submit(app, author="Ada", email="ada@example.org", comment="Buy pills.")]
    bob = submit(app, author="Bob", email="bob@example.org", url="https://bob.example.org", comment="Me too.")
    with app.app_context(), get_engine().begin() as conn:
        store.transition(conn, ada[0], status.APPROVED, "moderator:ann")
        store.transition(conn, ada[2], status.SPAM, "moderator:ann")
    return ada, bob


def domains(app: Flask, comment_id: int) -> list[str]:
    with app.app_context(), get_engine().connect() as conn:
        query = select(comment_domains.c.domain).where(comment_domains.c.comment_id == comment_id)
        return sorted(conn.execute(query).scalars())


def marks(app: Flask, comment_id: int) -> int:
    with app.app_context(), get_engine().connect() as conn:
        return len(conn.execute(select(spam_marks).where(spam_marks.c.comment_id == comment_id)).all())


def test_export_gives_every_comment_under_an_email_whatever_its_case(any_app: Flask) -> None:
    ada, bob = seed(any_app)
    result = run(any_app, "privacy", "export", "ADA@example.org")
    assert result.exit_code == 0, result.output
    exported = json.loads(result.output)
    assert [c["id"] for c in exported["comments"]] == ada
    first = exported["comments"][0]
    assert (first["author"], first["email"], first["url"], first["ip"]) == \
        ("Ada", "ada@example.org", "https://ada.example.org", "127.0.0.1")
    assert first["original"] == TEXT and first["status"] == status.APPROVED and first["user_agent"]
    assert first["page"] == "https://blog.example/2011/06/s-comm/?s=ada+lovelace"
    assert "bob@example.org" not in result.output


def test_erase_anonymises_the_author_and_keeps_the_text(any_app: Flask) -> None:
    ada, bob = seed(any_app)
    assert domains(any_app, ada[0]) == ["ada.example.org", "letter.example"] and marks(any_app, ada[2]) > 0
    refused = run(any_app, "privacy", "erase", "ada@example.org", input="n\n")
    assert refused.exit_code == 1 and comment(any_app, ada[0])["author"] == "Ada"
    result = run(any_app, "privacy", "erase", "ada@example.org", input="y\n")
    assert result.exit_code == 0 and "Anonymised 3 comments" in result.output
    for comment_id in ada:
        row: Any = comment(any_app, comment_id)
        assert (row["author"], row["email"], row["url"], row["ip"], row["user_agent"], row["referrer"],
                row["page"]) == ("Anonymous", "", None, None, None, None, None)
    assert comment(any_app, ada[0])["original"] == TEXT
    assert domains(any_app, ada[0]) == ["letter.example"]  # the text's link stays, the website goes
    assert marks(any_app, ada[2]) == 0
    assert comment(any_app, bob)["email"] == "bob@example.org" and domains(any_app, bob) == ["bob.example.org"]
    thread = any_app.test_client().get(f"/posts/{comment(any_app, ada[0])['post_id']}/comments").get_json()
    assert [(c["author"], c["content"]) for c in thread["comments"]] == \
        [("Anonymous", comment(any_app, ada[0])["content"])]
    assert json.loads(run(any_app, "privacy", "export", "ada@example.org").output)["comments"] == []


def test_erase_of_an_unknown_or_empty_email_changes_nothing(app: Flask) -> None:
    seed(app)
    result = run(app, "privacy", "erase", "nobody@example.org", "--yes")
    assert result.exit_code == 0 and result.output == "No comments are stored under nobody@example.org.\n"
    run(app, "privacy", "erase", "ada@example.org", "--yes")
    for command in ("erase", "export"):  # "" would name every comment erased before
        refused = run(app, "privacy", command, " ", "--yes") if command == "erase" else run(app, "privacy", command, "")
        assert refused.exit_code == 2 and "Email is required." in refused.output


def test_the_api_exports_and_erases_for_a_moderator(any_app: Flask) -> None:
    ada, bob = seed(any_app)
    admin = Admin(any_app)
    exported = admin.api("GET", "/privacy?email=ADA@example.org").get_json()
    assert [c["id"] for c in exported["comments"]] == ada and exported["comments"][0]["ip"] == "127.0.0.1"
    erased = admin.api("POST", "/privacy/erase", json={"email": " ada@example.org "})
    assert erased.status_code == 200 and erased.get_json() == {"email": "ada@example.org", "erased": ada}
    assert comment(any_app, ada[1])["author"] == "Anonymous" and comment(any_app, bob)["author"] == "Bob"
    assert admin.api("GET", "/privacy?email=ada@example.org").get_json()["comments"] == []


@pytest.mark.parametrize("body", [None, {}, {"email": ""}, {"email": 7}, {"email": "a@\u0000b"},
                                  {"email": "a" * 101}])
def test_the_api_refuses_a_missing_or_impossible_email(app: Flask, body: Any) -> None:
    answer = Admin(app).api("POST", "/privacy/erase", json=body)
    assert answer.status_code == 422 and set(answer.get_json()["errors"]) == {"email"}


def test_the_privacy_api_needs_a_token(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/admin/api/privacy?email=ada@example.org").status_code == 401
    assert client.post("/admin/api/privacy/erase", json={"email": "ada@example.org"}).status_code == 401
