"""Bad bytes: each answered with a 4xx and a clear message, never a 500, in well under a second of CPU."""

from __future__ import annotations

import time
from typing import Any

import pytest
from flask.testing import FlaskClient

from .conftest import valid

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
CPU_BUDGET = 1.0
"""Seconds of this process's CPU one hostile request may cost (the issue's bound)."""


def cases() -> list[Any]:
    long_word = "a" * 100_000
    nested = "<q>" * 500 + "x" + "</q>" * 500
    return [
        pytest.param(b'{"author": "\xc3\x28"}', JSON, 400, "UTF-8", id="invalid-utf8-json"),
        pytest.param(b"author=%C3%28&email=a%40b.org", FORM, 400, "UTF-8", id="invalid-utf8-percent"),
        pytest.param("author=Jos\xe9".encode("latin-1"), FORM + "; charset=latin-1", 400, "UTF-8",
                     id="latin-1-body"),
        pytest.param('{"author": "Ada"}'.encode("utf-16"), JSON, 400, "UTF-8", id="utf-16-json"),
        pytest.param(valid(author="Ada\x00Lovelace"), JSON, 422, "control character", id="nul-in-author"),
        pytest.param(valid(comment="text\x00with NUL"), JSON, 422, "control character", id="nul-in-comment"),
        pytest.param(valid(comment="bell\x07 and escape\x1b[31m"), JSON, 422, "control character",
                     id="control-characters"),
        pytest.param(b"x" * (10 * 1024 * 1024), JSON, 413, "larger than the limit", id="10-MB-body"),
        pytest.param(valid(comment=nested), JSON, 422, "too deeply", id="deeply-nested-markup"),
        pytest.param(valid(comment="<i>" * 3_000), JSON, 422, "HTML tags", id="tag-flood"),
        pytest.param(valid(comment=long_word), JSON, 422, "65,525", id="100k-character-word"),
        pytest.param(b"author=Ada&author=Bob&email=a%40b.org&comment=hi&post_id=p", FORM, 422, "2 times",
                     id="duplicate-form-field"),
        pytest.param({**valid(), "comment": ["one", "two"]}, JSON, 422, "must be text", id="array-valued-json"),
        pytest.param({**valid(), "email": {"$ne": ""}}, JSON, 422, "must be text", id="object-valued-json"),
        pytest.param({**valid(), "post_id": True}, JSON, 422, "must be text", id="boolean-post-id"),
        pytest.param(b"null", JSON, 400, "object", id="json-null"),
        pytest.param(b'{"author": "A", "author": "B"', JSON, 400, "JSON", id="truncated-json"),
        pytest.param(b"\xff\xfe\x00\x00", "multipart/form-data; boundary=x", 400, "multipart",
                     id="garbage-multipart"),
        pytest.param(b"<?xml version='1.0'?><comment/>", "text/xml", 415, "Send the comment as", id="xml"),
    ]


def send(client: FlaskClient, body: Any, content_type: str) -> Any:
    headers = {"Accept": "application/json"}
    if isinstance(body, bytes):
        return client.post("/comments", data=body, content_type=content_type, headers=headers)
    return client.post("/comments", json=body, headers=headers)


@pytest.mark.parametrize(("body", "content_type", "code", "words"), cases())
def test_hostile_request(client: FlaskClient, body: Any, content_type: str, code: int, words: str) -> None:
    started = time.process_time()
    response = send(client, body, content_type)
    spent = time.process_time() - started
    assert response.status_code == code
    payload = response.get_json()
    message = payload.get("error") or " ".join(payload["errors"].values())
    assert words in message
    assert spent < CPU_BUDGET, f"{spent:.2f} s of CPU"


def test_long_single_word_within_the_limit_is_accepted(client: FlaskClient) -> None:
    started = time.process_time()
    response = send(client, valid(comment="w" * 60_000), JSON)
    assert response.status_code == 202
    assert time.process_time() - started < CPU_BUDGET
