"""Each spam check on its own, against a real database, and the way findings combine."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import delete

from service import sanitize, status, store, word_lists
from service.db import get_engine
from service.schema import comments
from workers.checks import COUNT_CAP, Finding, bursts, content, form_traps, links, reputation
from workers.checks import word_lists as word_list_check
from workers.checks.context import Context
from workers.classifier import Sample, default_model
from workers.verdict import combine

from .conftest import VALID


@pytest.fixture()
def conn(app: Flask) -> Iterator[Any]:
    with app.app_context(), get_engine().begin() as connection:
        yield connection


def add(conn: Any, state: str = status.PENDING, **changes: Any) -> dict[str, Any]:
    original = changes.pop("original", "A fair point.")
    values = {"post_id": VALID["post_id"], "author": VALID["author"], "email": VALID["email"], "url": None,
              "content": sanitize.sanitize(original), "original": original, "ip": "203.0.113.7", **changes}
    comment_id = store.insert_comment(conn, values, state)
    return dict(store.get_comment(conn, comment_id) or {})


def ctx(conn: Any, app: Flask, comment: dict[str, Any], **config: Any) -> Context:
    return Context(comment, conn, {**app.config, **config})


def reasons(result: Finding | list[Finding] | None) -> list[str]:
    if result is None:
        return []
    return [f.reason for f in ([result] if isinstance(result, Finding) else result)]


@pytest.mark.parametrize(("signals", "config", "expected"), [
    ({"token": "valid", "age": 12.0}, {}, []),
    ({"token": "valid", "age": 1.2}, {}, ["form sent 1.2 s after it was loaded (minimum 3 s)"]),
    ({"token": "forged"}, {}, ["forged form token"]),
    ({"token": "stale"}, {}, ["form token expired"]),
    ({"token": "missing"}, {}, []),
    ({"token": "missing"}, {"REQUIRE_TOKEN": True}, ["no form token"]),
])
def test_form_traps(conn: Any, app: Flask, signals: dict, config: dict, expected: list[str]) -> None:
    assert reasons(form_traps.check(ctx(conn, app, add(conn, signals=signals), **config))) == expected


@pytest.mark.parametrize(("original", "author", "expected"), [
    ("A fair point.", "Ada", []),
    ("See https://a.example and https://b.example for the numbers behind it all.", "Ada",
     ["2 links (limit 1)"]),
    ("[url=http://x.example]cheap[/url] and [url]http://y.example[/url]", "Ada", ["2 BBCode links ([url])"]),
    ("https://a.example/a-very-long-path-to-click", "Ada", ["100 % of the text is links"]),
    ("A fair point.", "www.cheap-pills.example", ["the name is a web address"]),
])
def test_links(conn: Any, app: Flask, original: str, author: str, expected: list[str]) -> None:
    found = reasons(links.check(ctx(conn, app, add(conn, original=original, author=author))))
    assert set(expected) <= set(found) and bool(found) == bool(expected)


def test_word_lists_match_any_field_case_insensitively(conn: Any, app: Flask) -> None:
    word_lists.add(conn, word_lists.MODERATION, "203.0.113.")
    word_lists.add(conn, word_lists.DISALLOWED, "CASINO")
    held = word_list_check.check(ctx(conn, app, add(conn)))
    assert held is not None and held.verdict == status.HELD and "in the ip" in held.reason
    spam = word_list_check.check(ctx(conn, app, add(conn, original="Best Casino bonus", ip="192.0.2.1")))
    assert spam is not None and spam.verdict == status.SPAM
    assert spam.reason == "disallowed list: 'casino' in the text"


def test_reputation(conn: Any, app: Flask) -> None:
    assert reasons(reputation.check(ctx(conn, app, add(conn)))) == []
    add(conn, status.APPROVED, original="earlier")
    assert reasons(reputation.check(ctx(conn, app, add(conn, original="later")))) == ["author has 1 approved comment"]
    for n in range(2):
        spam = add(conn, original=f'buy <a href="https://pills.example/{n}">pills</a>', email="s@spam.example",
                   ip="192.0.2.9")
        store.transition(conn, spam["id"], status.SPAM, "moderator:ann")
    engine_says = add(conn, original="not a moderator's decision", email="e@spam.example")
    store.set_verdict(conn, engine_says["id"], status.SPAM, 1.0, [], store.SPAM_CHECK)
    new = add(conn, original='see <a href="https://www.pills.example/x">this</a>', email="s@spam.example",
              ip="192.0.2.9")
    assert reasons(reputation.check(ctx(conn, app, new))) == [
        "author's email was marked spam twice before", "this address was marked spam twice before",
        "links to pills.example, marked spam twice before"]
    other = add(conn, email="e@spam.example", ip="192.0.2.200")
    assert reasons(reputation.check(ctx(conn, app, other))) == []


def test_spam_marks_follow_the_moderators(conn: Any, app: Flask) -> None:
    """Reputation counts a sender only while a moderator's spam verdict stands."""
    sender = {"email": "Ann@Spam.example", "ip": "192.0.2.77"}
    marked = add(conn, original='<a href="https://pills.example/">pills</a>', **sender)

    def found() -> list[str]:
        return reasons(reputation.check(ctx(conn, app, add(conn, **sender))))

    store.transition(conn, marked["id"], status.SPAM, "moderator:ann")
    assert found() == ["author's email was marked spam once before", "this address was marked spam once before"]
    store.transition(conn, marked["id"], status.APPROVED, "moderator:ann")  # "not spam"
    assert found() == ["author has 1 approved comment"]
    store.transition(conn, marked["id"], status.SPAM, "moderator:ann")
    edited = '<a href="https://pills.example/">pills</a> <a href="https://more.example/">more</a>'
    store.edit_content(conn, marked["id"], edited, sanitize.sanitize(edited), "moderator:ann")
    assert reasons(reputation.check(ctx(conn, app, add(conn, original=edited)))) == [
        "links to more.example, marked spam once before", "links to pills.example, marked spam once before"]
    store.reopen(conn, marked["id"], status.SPAM, "cli")  # a recheck sends it back to the engine
    assert found() == []
    store.transition(conn, marked["id"], status.SPAM, "moderator:ann")
    conn.execute(delete(comments).where(comments.c.id == marked["id"]))  # purge or delete for ever
    assert found() == []


def test_counts_stop_at_a_cap_under_a_flood(conn: Any, app: Flask) -> None:
    """One sender's flood: each check reads at most the cap, and says so."""
    flood = {"ip": "198.51.100.9", "email": "bot@flood.example"}
    for n in range(COUNT_CAP + 1):
        add(conn, status.APPROVED, original=f"flood {n}", **flood)
    last = add(conn, original="flood last", **flood)
    assert reasons(bursts.check(ctx(conn, app, last))) == [
        "100 or more other comments from this address in 10 minutes",
        "100 or more other comments from this email in 10 minutes"]
    assert reasons(reputation.check(ctx(conn, app, last))) == ["author has 100 or more approved comments"]


def test_bursts(conn: Any, app: Flask) -> None:
    for post in ("p1", "p2"):
        add(conn, original="Same text everywhere", post_id=post, ip=f"192.0.2.{len(post)}", email=f"{post}@x.org")
    same = add(conn, original="Same text everywhere", post_id="p3", ip="192.0.2.50", email="p3@x.org")
    assert reasons(bursts.check(ctx(conn, app, same))) == ["same text posted to 2 other posts"]
    for n in range(5):
        add(conn, original=f"message {n}", ip="198.51.100.1", email=f"{n}@x.org")
    burst = add(conn, original="one more", ip="198.51.100.1", email="new@x.org")
    assert reasons(bursts.check(ctx(conn, app, burst))) == ["5 other comments from this address in 10 minutes"]


@pytest.mark.parametrize(("scores", "forced", "verdict"), [
    ([0.2], None, status.APPROVED),
    ([0.2, 0.3], None, status.HELD),
    ([0.5, 0.6], None, status.SPAM),
    ([0.0], status.HELD, status.HELD),
    ([1.2], status.HELD, status.SPAM),  # a forced verdict only makes it stricter
    ([0.6, -0.4], None, status.APPROVED),
])
def test_combine(scores: list[float], forced: str | None, verdict: str) -> None:
    findings = [Finding("x", s, "r") for s in scores] + ([Finding("y", 0.0, "r", forced)] if forced else [])
    assert combine(findings, 0.5, 1.0)[0] == verdict


def test_the_classifier_says_which_words_it_holds_against_a_comment(conn: Any, app: Flask) -> None:
    model = default_model()
    suspected = add(conn, original="Check out my channel and subscribe, like this comment please!!")
    found = content.check(Context(suspected, conn, app.config, classifier=model))
    assert found is not None and found.score == 1.0
    probability, telling = model.explain(suspected["original"], author=suspected["author"])
    assert found.reason == f"classifier: {probability:.2f} spam ({', '.join(telling)})"
    assert 1 <= len(telling) <= 3 and any(word in found.reason for word in ('"subscribe"', '"channel"', '"check out"'))
    plain = add(conn, original="The letter makes a fair point about the 287(g) agreement.")
    found = content.check(Context(plain, conn, app.config, classifier=model))
    assert found is not None and found.score == 0.0 and "(" not in found.reason.replace("(g)", "")


def test_the_classifier_reads_the_email_domain_moderators_taught_it(conn: Any, app: Flask) -> None:
    model = default_model()
    model.learn_samples([Sample(f"Some thoughts on part {n}.", True, email=f"a{n}@spammy.example") for n in range(5)])

    def probability(email: str) -> float:
        found = content.check(Context(add(conn, original="A fair point.", email=email), conn, app.config,
                                      classifier=model))
        assert found is not None
        return float(found.reason.split()[1])

    assert probability("ann@spammy.example") > probability("ann@example.org") + 0.05
