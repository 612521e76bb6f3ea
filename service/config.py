"""Every setting in one place: read from the environment, validated at start-up.

A bad or missing value raises `ConfigError` naming the variable, so the service
never starts half-configured.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email

from . import sanitize

MODERATION_POLICIES = ("auto", "first-time", "all")
"""`auto`: the spam check decides; `first-time`: hold authors never approved before; `all`: hold everything."""



class ConfigError(ValueError):
    """A setting is missing or invalid; the message names the environment variable."""


@dataclass(frozen=True)
class Setting:
    """One environment variable: its Flask config key, default and parser."""

    env: str
    key: str
    default: str | None
    parse: Callable[[str], Any]
    doc: str


def _int_at_least(minimum: int) -> Callable[[str], int]:
    def parse(value: str) -> int:
        number = int(value)
        if number < minimum:
            raise ValueError(f"must be at least {minimum}")
        return number

    return parse


def _float_between(low: float, high: float) -> Callable[[str], float]:
    def parse(value: str) -> float:
        number = float(value)
        if not low <= number <= high:
            raise ValueError(f"must be between {low} and {high}")
        return number

    return parse


def _choice(options: tuple[str, ...]) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if value not in options:
            raise ValueError(f"must be one of {', '.join(options)}")
        return value

    return parse


def _origins(value: str) -> tuple[str, ...]:
    origins = []
    for item in filter(None, (part.strip() for part in value.split(","))):
        parts = urlsplit(item)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
            raise ValueError(f"{item!r} is not an origin like https://blog.example")
        origins.append(f"{parts.scheme}://{parts.netloc}".lower())
    return tuple(origins)


def _networks(value: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(
        ipaddress.ip_network(part.strip(), strict=False) for part in value.split(",") if part.strip()
    )


def _flag(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise ValueError("must be true or false")


def _text(value: str) -> str:
    return value


def _addresses(value: str) -> tuple[str, ...]:
    try:
        return tuple(validate_email(part.strip(), check_deliverability=False).normalized
                     for part in value.split(",") if part.strip())
    except EmailNotValidError as error:
        raise ValueError(str(error)) from None


def _address(value: str) -> str:
    addresses = _addresses(value)
    if len(addresses) != 1:
        raise ValueError("must be one address")
    return addresses[0]


SMTP_SCHEMES = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}
"""Plain SMTP (a local relay), SMTP upgraded with STARTTLS, and SMTP over TLS; each with its usual port."""


def _smtp_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in SMTP_SCHEMES or not parts.hostname:
        raise ValueError(f"must be {', '.join(SMTP_SCHEMES)}://[user:password@]host[:port]")
    parts.port  # noqa: B018 (raises ValueError on a bad port)
    return value


def _base_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("must be an http:// or https:// address like https://comments.example.org")
    return value.rstrip("/")


def _absolute_path(value: str) -> str:
    if not os.path.isabs(value):
        raise ValueError("must be an absolute path")
    return value


def _url(value: str) -> str:
    if "://" not in value:
        raise ValueError("must be a URL")
    return value


SETTINGS: tuple[Setting, ...] = (
    Setting("DATABASE_URL", "DATABASE_URL", None, _url,
            "SQLAlchemy URL; default an SQLite file under `instance/`. PostgreSQL: `postgresql+psycopg://…`."),
    Setting("REDIS_URL", "REDIS_URL", "redis://127.0.0.1:6379/0", _url, "Redis for the RQ queues and counters."),
    Setting("COMMENTS_SECRET_KEY", "SECRET_KEY", None, _text,
            "Signs form tokens and sessions. Required; `make run` generates one under `instance/`."),
    Setting("COMMENTS_ALLOWED_ORIGINS", "ALLOWED_ORIGINS", "", _origins,
            "Comma-separated origins allowed to post (CORS) and to be redirected to after a form post."),
    Setting("COMMENTS_FLOOD_SECONDS", "FLOOD_SECONDS", "15", _int_at_least(0),
            "Minimum seconds between two comments from one client address; 0 disables."),
    Setting("COMMENTS_TRUSTED_PROXIES", "TRUSTED_PROXIES", "", _networks,
            "Addresses or networks whose `X-Forwarded-For` is believed; default none. A private or loopback "
            "address that sends the header without being named here is logged once as a warning: behind "
            "such a proxy every commenter would count as one address."),
    Setting("COMMENTS_MODERATION", "MODERATION", "auto", _choice(MODERATION_POLICIES),
            "`auto`, `first-time` or `all`."),
    Setting("COMMENTS_SANITIZER", "SANITIZER", "bleach", _choice(sanitize.ENGINES),
            "`bleach` (default, as specified) or `nh3` (maintained, far faster; recommended)."),
    Setting("COMMENTS_MAX_BODY_BYTES", "MAX_CONTENT_LENGTH", str(256 * 1024), _int_at_least(1024),
            "Largest request body accepted; larger answers 413."),
    Setting("COMMENTS_HONEYPOT_FIELD", "HONEYPOT_FIELD", "url2", _text,
            "Name of the hidden form field that must stay empty."),
    Setting("COMMENTS_MAX_LINKS", "MAX_LINKS", "2", _int_at_least(0),
            "Links at or above this count hold a comment (WordPress's `comment_max_links`)."),
    Setting("COMMENTS_JOB_TIMEOUT", "JOB_TIMEOUT", "60", _int_at_least(1), "Seconds a spam check may run."),
    Setting("COMMENTS_SWEEP_SECONDS", "SWEEP_SECONDS", "30", _int_at_least(1),
            "How often each worker re-enqueues pending comments that have no live job."),
    Setting("COMMENTS_REQUIRE_TOKEN", "REQUIRE_TOKEN", "false", _flag,
            "Treat submissions without a form token as suspicious."),
    Setting("COMMENTS_MIN_SUBMIT_SECONDS", "MIN_SUBMIT_SECONDS", "3", _float_between(0, 3600),
            "A form submitted faster than this after its token was issued is suspicious."),
    Setting("COMMENTS_TOKEN_MAX_AGE", "TOKEN_MAX_AGE", str(2 * 3600), _int_at_least(60),
            "Seconds a form token stays valid."),
    Setting("COMMENTS_EDIT_SECONDS", "EDIT_SECONDS", "900", _int_at_least(0),
            "For how long after posting an author may see, edit and delete their own comment with the"
            " `author_token` of POST /comments' JSON answer (Isso's 15 minutes); 0 turns this off."),
    Setting("COMMENTS_CLOSE_AFTER_DAYS", "CLOSE_AFTER_DAYS", "0", _int_at_least(0),
            "Posts whose first comment is older than this many days take no new comments (WordPress's"
            " \"close comments on older articles\", counted as Remark42's `read-age` from the first comment,"
            " since the service never learns when a post was published); 0 never closes. A moderator's"
            " choice for one post overrides it."),
    Setting("COMMENTS_HOLD_SCORE", "HOLD_SCORE", "0.5", _float_between(0, 100),
            "A spam score at or above this holds the comment for a moderator."),
    Setting("COMMENTS_SPAM_SCORE", "SPAM_SCORE", "1.0", _float_between(0, 100),
            "A spam score at or above this files the comment as spam."),
    Setting("COMMENTS_CLASSIFIER_HOLD", "CLASSIFIER_HOLD", "0.1", _float_between(0, 1),
            "Classifier probability from which it holds a comment on its own."),
    Setting("COMMENTS_CLASSIFIER_SPAM", "CLASSIFIER_SPAM", "0.82", _float_between(0, 1),
            "Classifier probability from which it files a comment as spam on its own."),
    Setting("COMMENTS_INSTANCE_PATH", "INSTANCE_PATH", None, _absolute_path,
            "Folder of the default SQLite database and model file; default `instance/` in a checkout"
            " (Flask's `<prefix>/var/service-instance` for an installed package; the image sets `/app/instance`)."),
    Setting("COMMENTS_MODEL_PATH", "MODEL_PATH", None, _text,
            "The classifier's model file, shared by all workers; default `instance/classifier.joblib`."),
    Setting("COMMENTS_AKISMET_KEY", "AKISMET_KEY", None, _text, "Akismet API key; Akismet is off without it."),
    Setting("COMMENTS_AKISMET_BLOG", "AKISMET_BLOG", None, _text,
            "The site's front page for Akismet; default the first allowed origin."),
    Setting("COMMENTS_AKISMET_URL", "AKISMET_URL", "https://rest.akismet.com", _url, "Akismet's API base URL."),
    Setting("COMMENTS_AKISMET_TEST", "AKISMET_TEST", "false", _flag, "Send `is_test=1` to Akismet."),
    Setting("COMMENTS_PURGE_DAYS", "PURGE_DAYS", "15", _int_at_least(1),
            "Spam and trash untouched for this many days are purged (as Akismet's plugin does)."),
    Setting("COMMENTS_NOTIFY_EMAIL", "NOTIFY_EMAIL", "", _addresses,
            "Comma-separated moderator addresses emailed when a comment is held; default none (no email)."),
    Setting("COMMENTS_NOTIFY_ON", "NOTIFY_ON", "held", _choice(("held", "all")),
            "`held`: moderators are emailed about held comments; `all`: about every comment the spam check"
            " approves too (WordPress's \"anyone posts a comment\"). Spam never sends one."),
    Setting("COMMENTS_NOTIFY_FROM", "NOTIFY_FROM", None, _address,
            "The notification's sender; default the first address of `COMMENTS_NOTIFY_EMAIL`."),
    Setting("COMMENTS_REPLY_NOTIFY", "REPLY_NOTIFY", "false", _flag,
            "Email commenters who ticked `notify_replies` when a reply to their comment is approved"
            " (needs `COMMENTS_NOTIFY_FROM` or `COMMENTS_NOTIFY_EMAIL`)."),
    Setting("COMMENTS_SMTP_URL", "SMTP_URL", "smtp://127.0.0.1:25", _smtp_url,
            "Mail server for notifications: `smtp://` (a local relay), `smtp+starttls://` or `smtps://`,"
            " with `user:password@` when it asks for a login."),
    Setting("COMMENTS_BASE_URL", "BASE_URL", "http://127.0.0.1:8000", _base_url,
            "This service's public address, for the review links in notifications."),
    Setting("COMMENTS_ACCESS_LOG", "ACCESS_LOG", "false", _flag,
            "`comments serve` writes gunicorn's access line for each request to standard output. Off by"
            " default, as in gunicorn: each line holds a commenter's address, user agent and referrer, which"
            " the erasure tool and `comments purge` cannot reach (a reverse proxy in front usually logs"
            " requests already)."),
    Setting("COMMENTS_SECURE_COOKIES", "SESSION_COOKIE_SECURE", "false", _flag,
            "Always mark the admin session cookie Secure (it is whenever the request came over https)."),
)


def from_environment(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Read every setting from the environment; raise ConfigError naming the first bad one."""
    environ = os.environ if environ is None else environ
    config: dict[str, Any] = {}
    for setting in SETTINGS:
        raw = environ.get(setting.env, setting.default)
        if raw is None:
            continue
        try:
            config[setting.key] = setting.parse(raw)
        except ValueError as error:
            raise ConfigError(f"{setting.env}={_redacted(raw)!r} is invalid: {error}") from None
    return config


def _redacted(value: str) -> str:
    """A setting as shown in an error: a URL's password never reaches a log."""
    return re.sub(r"//[^/@]*@", "//***@", value)


def finish(config: dict[str, Any], instance_path: str) -> None:
    """Fill the defaults that depend on the instance folder and check the secret key."""
    if not config.get("DATABASE_URL"):
        config["DATABASE_URL"] = "sqlite:///" + os.path.join(instance_path, "comments.sqlite3")
    if not config.get("MODEL_PATH"):
        config["MODEL_PATH"] = os.path.join(instance_path, "classifier.joblib")
    if config["CLASSIFIER_HOLD"] > config["CLASSIFIER_SPAM"]:
        raise ConfigError("COMMENTS_CLASSIFIER_HOLD must not be above COMMENTS_CLASSIFIER_SPAM.")
    if config["HOLD_SCORE"] > config["SPAM_SCORE"]:
        raise ConfigError("COMMENTS_HOLD_SCORE must not be above COMMENTS_SPAM_SCORE.")
    if not config.get("NOTIFY_FROM") and config.get("NOTIFY_EMAIL"):
        config["NOTIFY_FROM"] = config["NOTIFY_EMAIL"][0]
    if config.get("REPLY_NOTIFY") and not config.get("NOTIFY_FROM"):
        raise ConfigError("COMMENTS_REPLY_NOTIFY needs a sender: set COMMENTS_NOTIFY_FROM.")
    if not config.get("SECRET_KEY"):
        if not config.get("TESTING"):
            raise ConfigError("COMMENTS_SECRET_KEY is required (a long random string; see README).")
        config["SECRET_KEY"] = secrets.token_urlsafe(32)
    elif len(config["SECRET_KEY"]) < 16:
        raise ConfigError("COMMENTS_SECRET_KEY is too short: use at least 16 random characters.")


def reference_table() -> str:
    """The README's configuration table, generated from SETTINGS so the two cannot drift."""
    rows = ["| Variable | Default | Meaning |", "| --- | --- | --- |"]
    for setting in SETTINGS:
        default = f"`{setting.default}`" if setting.default else "—"
        rows.append(f"| `{setting.env}` | {default} | {setting.doc} |")
    return "\n".join(rows)
