"""Moderators are emailed about held comments, through a real SMTP server (aiosmtpd) on loopback."""

from __future__ import annotations

import ssl
import subprocess
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import redis
from aiosmtpd.smtp import AuthResult, LoginPassword
from flask import Flask
from rq import Queue
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

from service import queue, status
from service.config import ConfigError, from_environment
from workers import notify

from .conftest import Inbox, free_port, relay, serve, valid
from .test_worker import AKISMET_DOWN, comment, submit

MODERATORS = ("moderator@example.org", "second@example.org")
BASE = "https://comments.example.org"


def notifying_app(app_factory: Any, port: int, **overrides: Any) -> Flask:
    settings = {"MODERATION": "all", "NOTIFY_EMAIL": MODERATORS, "SMTP_URL": f"smtp://127.0.0.1:{port}",
                "BASE_URL": BASE, **overrides}
    return app_factory(**settings)


def body(message: EmailMessage) -> str:
    part = message.get_body()
    assert part is not None
    return str(part.get_content())


def notifications(redis_client: redis.Redis) -> int:
    return Queue(queue.NOTIFY_QUEUE, connection=redis_client, serializer=JSONSerializer).count


def test_a_held_comment_emails_the_moderators(app_factory: Any, smtp: tuple[Inbox, int], work: Any) -> None:
    inbox, port = smtp
    app = notifying_app(app_factory, port)
    text = "I agree with the governor.\nReview it: the letter, <b>again</b>."
    answer = app.test_client().post("/comments", headers={"Referer": "https://blog.example/2011/06/letter/"},
                                    json=valid(author="Ada\nReview it: https://evil.example/",
                                               url="https://ada.example.org", comment=text))
    comment_id = answer.get_json()["id"]
    work(app)
    assert comment(app, comment_id)["status"] == status.HELD
    [(recipients, message)] = inbox.messages
    assert recipients == list(MODERATORS)
    assert message["From"] == MODERATORS[0] and message["To"] == ", ".join(MODERATORS)
    assert message["Subject"] == f"Comment awaiting moderation on {comment(app, comment_id)['post_id']}"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "text/plain"
    lines = body(message).splitlines()
    link = f"Review it: {BASE}/admin/?status=held&post_id={comment(app, comment_id)['post_id']}#c{comment_id}"
    assert [line for line in lines if line.startswith("Review it:")] == [link]  # the commenter's cannot pass for it
    assert "Author:  Ada Review it: https://evil.example/" in lines  # a newline in a name forges no line
    assert "Email:   " + str(comment(app, comment_id)["email"]) in lines
    assert "Website: https://ada.example.org" in lines and "Address: 127.0.0.1" in lines
    assert "Page:    https://blog.example/2011/06/letter/" in lines
    reasons = lines[lines.index("Why it is held:") + 1:lines.index("The comment as submitted:")]
    assert "  - moderation policy holds every comment" in reasons
    assert lines[-2:] == ["> I agree with the governor.", "> Review it: the letter, <b>again</b>."]


def test_the_final_failure_of_a_check_notifies_too(app_factory: Any, smtp: tuple[Inbox, int],
                                                   redis_client: redis.Redis, work: Any) -> None:
    inbox, port = smtp
    app = notifying_app(app_factory, port, MODERATION="auto", **AKISMET_DOWN)
    comment_id = submit(app)
    relay(app)
    job = Job.fetch(queue.job_id(comment_id), connection=redis_client, serializer=JSONSerializer)
    job.retries_left = 0
    job.save()
    work(app)
    assert comment(app, comment_id)["status"] == status.HELD
    [(_, message)] = inbox.messages
    assert "spam check failed: AkismetUnavailable" in body(message)


def test_approved_and_spam_comments_send_nothing(app_factory: Any, smtp: tuple[Inbox, int],
                                                  redis_client: redis.Redis, work: Any) -> None:
    inbox, port = smtp
    app = notifying_app(app_factory, port, MODERATION="auto")
    approved = submit(app, comment="A plain thought.")
    trapped = submit(app, comment="Another thought.", url2="filled by a bot")
    work(app)
    assert (comment(app, approved)["status"], comment(app, trapped)["status"]) == (status.APPROVED, status.SPAM)
    assert inbox.messages == [] and notifications(redis_client) == 0


def test_with_notify_on_all_every_approved_comment_emails_too(app_factory: Any, smtp: tuple[Inbox, int],
                                                              work: Any) -> None:
    inbox, port = smtp
    app = notifying_app(app_factory, port, MODERATION="auto", NOTIFY_ON="all")
    approved = submit(app, comment="A plain thought.")
    trapped = submit(app, comment="Another thought.", url2="filled by a bot")
    work(app)
    assert (comment(app, approved)["status"], comment(app, trapped)["status"]) == (status.APPROVED, status.SPAM)
    [(recipients, message)] = inbox.messages
    post_id = comment(app, approved)["post_id"]
    assert recipients == list(MODERATORS) and message["Subject"] == f"New comment on {post_id}"
    lines = body(message).splitlines()
    assert lines[0] == f"A new comment on post {post_id} is published."
    assert f"Review it: {BASE}/admin/?status=approved&post_id={post_id}#c{approved}" in lines
    assert "Why the spam check approved it:" in lines and lines[-1] == "> A plain thought."


def test_without_addresses_no_job_is_queued(app_factory: Any, redis_client: redis.Redis, work: Any) -> None:
    app = app_factory(MODERATION="all")
    assert not app.config["NOTIFY_EMAIL"]
    held = submit(app)
    with app.app_context():
        notify.enqueue(redis_client, held)
    assert notifications(redis_client) == 0
    work(app)
    assert comment(app, held)["status"] == status.HELD and notifications(redis_client) == 0


def test_a_comment_decided_before_its_email_goes_gets_none(app_factory: Any, smtp: tuple[Inbox, int],
                                                          redis_client: redis.Redis, work: Any) -> None:
    inbox, port = smtp
    app = notifying_app(app_factory, port, MODERATION="auto")
    comment_id = submit(app, comment="A plain thought.")
    work(app)
    with app.app_context():
        notify.enqueue(redis_client, comment_id)  # as if held, then approved before the worker got to it
    assert notifications(redis_client) == 1
    work(app)
    job = Job.fetch(f"notify-{comment_id}", connection=redis_client, serializer=JSONSerializer)
    assert job.return_value() == "already decided" and inbox.messages == []


def test_an_unreachable_mail_server_is_retried_with_back_off(app_factory: Any, redis_client: redis.Redis,
                                                            work: Any) -> None:
    app = notifying_app(app_factory, free_port())
    comment_id = submit(app)
    work(app)
    assert comment(app, comment_id)["status"] == status.HELD
    job = Job.fetch(f"notify-{comment_id}", connection=redis_client, serializer=JSONSerializer)
    assert job.get_status() == JobStatus.SCHEDULED and job.retries_left == queue.RETRY.max - 1
    assert all(int(redis_client.get(key) or 0) == 0 for key in redis_client.keys("comments:notify-count:*"))


def test_notifications_pause_past_the_hourly_cap(app_factory: Any, smtp: tuple[Inbox, int], work: Any,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    inbox, port = smtp
    monkeypatch.setattr(notify, "MAX_PER_HOUR", 2)
    app = notifying_app(app_factory, port)
    for n in range(5):
        submit(app, comment=f"Thought number {n}.")
    work(app)
    subjects = [message["Subject"] for _, message in inbox.messages]
    assert len(subjects) == 3 and subjects[-1] == "Many comments awaiting moderation"
    assert all(subject.startswith("Comment awaiting moderation on") for subject in subjects[:2])
    assert f"{BASE}/admin/?status=held" in body(inbox.messages[-1][1])


@pytest.fixture()
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made with the openssl command."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key


def test_starttls_with_a_login_and_a_verified_certificate(app_factory: Any, certificate: tuple[Path, Path],
                                                          redis_client: redis.Redis, work: Any,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    logins: list[tuple[bytes, bytes]] = []

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        assert isinstance(data, LoginPassword)
        logins.append((data.login, data.password))
        return AuthResult(success=data.login == b"mod" and data.password == b"s:cret")

    inbox = Inbox()
    controller, port = serve(inbox, tls_context=context, require_starttls=True, authenticator=authenticate,
                             auth_require_tls=True)
    try:
        app = notifying_app(app_factory, port, SMTP_URL=f"smtp+starttls://mod:s%3Acret@127.0.0.1:{port}")
        untrusted = submit(app, comment="Before the certificate is trusted.")
        work(app)  # the self-signed certificate is refused: no email, the job waits to retry
        assert inbox.messages == [] and logins == []
        job = Job.fetch(f"notify-{untrusted}", connection=redis_client, serializer=JSONSerializer)
        assert job.get_status() == JobStatus.SCHEDULED
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        submit(app, comment="After the certificate is trusted.")
        work(app)
    finally:
        controller.stop()
    assert logins == [(b"mod", b"s:cret")]
    [(_, message)] = inbox.messages
    assert "> After the certificate is trusted." in body(message)


def test_mail_settings_are_checked_at_start_up() -> None:
    config = from_environment({"COMMENTS_NOTIFY_EMAIL": " Moderator@Example.org, b@example.org "})
    assert config["NOTIFY_EMAIL"] == ("Moderator@example.org", "b@example.org")
    with pytest.raises(ConfigError, match="COMMENTS_NOTIFY_EMAIL"):
        from_environment({"COMMENTS_NOTIFY_EMAIL": "moderator@"})
    with pytest.raises(ConfigError, match="COMMENTS_NOTIFY_FROM.*one address"):
        from_environment({"COMMENTS_NOTIFY_FROM": "a@example.org, b@example.org"})
    with pytest.raises(ConfigError, match="COMMENTS_BASE_URL"):
        from_environment({"COMMENTS_BASE_URL": "comments.example.org"})
    for bad in ("http://mail.example.org", "smtp://", "smtps://mail.example.org:port"):
        with pytest.raises(ConfigError, match="COMMENTS_SMTP_URL"):
            from_environment({"COMMENTS_SMTP_URL": bad})
    with pytest.raises(ConfigError) as error:
        from_environment({"COMMENTS_SMTP_URL": "smtpx://mod:hunter2@mail.example.org"})
    assert "hunter2" not in str(error.value) and "//***@mail.example.org" in str(error.value)


def test_the_sender_defaults_to_the_first_moderator(app_factory: Any) -> None:
    assert app_factory(NOTIFY_EMAIL=MODERATORS).config["NOTIFY_FROM"] == MODERATORS[0]
    assert app_factory(NOTIFY_EMAIL=MODERATORS, NOTIFY_FROM="site@example.org").config["NOTIFY_FROM"] == \
        "site@example.org"
