"""A small client for Akismet's documented REST API (comment-check, submit-spam, submit-ham).

Unreachable or failing servers raise AkismetUnavailable, so the RQ job retries with
back-off as Akismet's own plugin does; the comment simply stays pending meanwhile.
"""

from __future__ import annotations

import logging
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from service.store import as_utc

logger = logging.getLogger(__name__)

TIMEOUT = 10.0
USER_AGENT = "comments-service/0.1 | Akismet client"
SUBMIT_OK = "Thanks for making the web a better place."


class AkismetUnavailable(Exception):
    """Akismet could not be asked (network error, timeout, 5xx): try again later."""


class AkismetError(Exception):
    """Akismet answered but refused the request (invalid key, bad parameters): retrying will not help."""


def parameters(config: Mapping[str, Any], comment: Mapping[str, Any]) -> dict[str, str]:
    """The fields Akismet documents for a comment, from the stored row."""
    blog = config.get("AKISMET_BLOG") or next(iter(config.get("ALLOWED_ORIGINS") or ()), "")
    values = {
        "api_key": config["AKISMET_KEY"],
        "blog": blog,
        "user_ip": comment.get("ip") or "",
        "user_agent": comment.get("user_agent") or "",
        "referrer": comment.get("referrer") or "",
        "permalink": comment.get("page") or comment.get("referrer") or "",
        "comment_type": "reply" if comment.get("parent_id") else "comment",
        "comment_author": comment["author"],
        "comment_author_email": comment["email"],
        "comment_author_url": comment.get("url") or "",
        "comment_content": comment["original"],
        "comment_date_gmt": as_utc(comment["created_at"]).isoformat(),
        "blog_charset": "UTF-8",
    }
    if config.get("AKISMET_TEST"):
        values["is_test"] = "1"
    return values


def call(config: Mapping[str, Any], method: str, values: Mapping[str, str]) -> tuple[str, Mapping[str, str]]:
    """POST one API method; returns the body text and the headers."""
    url = f"{config['AKISMET_URL'].rstrip('/')}/1.1/{method}"
    request = urllib.request.Request(url, data=urlencode(values).encode("utf-8"), method="POST",
                                     headers={"User-Agent": USER_AGENT,
                                              "Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310 - configured https URL
            return response.read().decode("utf-8", "replace").strip(), dict(response.headers)
    except urllib.error.HTTPError as error:
        if error.code >= 500:
            raise AkismetUnavailable(f"Akismet answered {error.code}") from None
        raise AkismetError(f"Akismet answered {error.code}") from None
    except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
        raise AkismetUnavailable(f"Akismet unreachable: {error}") from None


def comment_check(config: Mapping[str, Any], comment: Mapping[str, Any]) -> tuple[bool, bool]:
    """(is spam, Akismet says discard without review)."""
    body, headers = call(config, "comment-check", parameters(config, comment))
    if body not in ("true", "false"):
        help_text = headers.get("X-akismet-debug-help") or headers.get("X-akismet-alert-msg") or body
        raise AkismetError(f"Akismet comment-check failed: {help_text}")
    return body == "true", headers.get("X-akismet-pro-tip") == "discard"


def submit(config: Mapping[str, Any], comment: Mapping[str, Any], spam: bool) -> None:
    """Tell Akismet it was wrong: submit-spam for missed spam, submit-ham for a false positive."""
    method = "submit-spam" if spam else "submit-ham"
    body, _ = call(config, method, parameters(config, comment))
    if body != SUBMIT_OK:
        raise AkismetError(f"Akismet {method} failed: {body[:200]}")
    logger.info("comment %s reported to Akismet as %s", comment["id"], "spam" if spam else "ham")
