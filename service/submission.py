"""Reading and validating a comment submission: field names, aliases, limits and the errors users see.

Bodies are decoded strictly as UTF-8 (Werkzeug would silently replace bad bytes),
and every field error is collected so a user fixes them all in one go.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from email_validator import EmailNotValidError, validate_email
from werkzeug.exceptions import BadRequest, UnsupportedMediaType
from werkzeug.http import parse_options_header
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData

from . import limits, sanitize

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
JSON_TYPE = "application/json"

ALIASES = {"comment_post_ID": "post_id", "comment_parent": "parent_id"}
"""WordPress's comment-form names, so an existing WordPress form posts here unchanged."""

TEXT_FIELDS = ("author", "email", "url", "comment", "post_id", "parent_id", "redirect_to")
LABELS = {"author": "Name", "email": "Email", "url": "Website", "comment": "Comment", "post_id": "Post id",
          "parent_id": "Parent id", "redirect_to": "Redirect address", "notify_replies": "Email me about replies"}
MAX_REDIRECT = 2000
MAX_ID = 2**31 - 1
"""Comment ids are 32-bit integers in both databases."""

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
"""C0 controls but tab, newline and carriage return: never meaningful in a comment, NUL breaks PostgreSQL."""


@dataclass
class Submission:
    """A validated submission; `errors` maps a field name to one sentence about it."""

    author: str = ""
    email: str = ""
    url: str | None = None
    comment: str = ""
    post_id: str = ""
    parent_id: int | None = None
    redirect_to: str | None = None
    honeypot_filled: bool = False
    notify_replies: bool = False
    token: str | None = None
    errors: dict[str, str] = field(default_factory=dict)


def read_body(mimetype: str, content_type: str, body: bytes) -> dict[str, list[Any]]:
    """Decode a request body into field -> values; raise 400 for bad bytes or syntax, 415 for other types."""
    if mimetype == JSON_TYPE:
        return _read_json(body)
    if mimetype == FORM_TYPES[0]:
        return _read_urlencoded(body)
    if mimetype == FORM_TYPES[1]:
        return _read_multipart(content_type, body)
    raise UnsupportedMediaType(f"Send the comment as {', '.join(FORM_TYPES)} or {JSON_TYPE}.")


def _utf8(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadRequest(f"The body is not valid UTF-8 (byte {error.start}).") from None


def _read_json(body: bytes) -> dict[str, list[Any]]:
    try:
        data = json.loads(_utf8(body))
    except json.JSONDecodeError as error:
        raise BadRequest(f"The body is not valid JSON: {error.msg} (line {error.lineno}).") from None
    if not isinstance(data, dict):
        raise BadRequest("The JSON body must be an object of fields.")
    return {key: [value] for key, value in data.items()}


def _read_urlencoded(body: bytes) -> dict[str, list[Any]]:
    try:
        pairs = parse_qsl(_utf8(body), keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise BadRequest("A percent-encoded field is not valid UTF-8.") from None
    fields: dict[str, list[Any]] = {}
    for key, value in pairs:
        fields.setdefault(key, []).append(value)
    return fields


def _read_multipart(content_type: str, body: bytes) -> dict[str, list[Any]]:
    boundary = parse_options_header(content_type)[1].get("boundary")
    if not boundary:
        raise BadRequest("The multipart body has no boundary.")
    decoder = MultipartDecoder(boundary.encode("latin-1", "replace"), max_form_memory_size=len(body) + 1)
    decoder.receive_data(body)
    decoder.receive_data(None)
    fields: dict[str, list[Any]] = {}
    name, is_file = "", False
    chunks: list[bytes] = []
    try:
        while not isinstance(event := decoder.next_event(), Epilogue | NeedData):
            if isinstance(event, Field | File):
                name, chunks, is_file = event.name, [], isinstance(event, File)
            elif isinstance(event, Data):
                chunks.append(event.data)
                if not event.more_data and not is_file:
                    fields.setdefault(name, []).append(_utf8(b"".join(chunks)))
    except ValueError as error:
        raise BadRequest(f"The multipart body is malformed: {error}.") from None
    if isinstance(event, NeedData):
        raise BadRequest("The multipart body ends early.")
    return fields


def _single_text(fields: dict[str, list[Any]], name: str, errors: dict[str, str]) -> str:
    """The one text value of a field; records an error for repeated, non-text or control-laden values."""
    values = fields.get(name, [])
    label = LABELS.get(name, name)
    if len(values) > 1:
        errors[name] = f"{label} was given {len(values)} times; send it once."
        return ""
    if not values or values[0] is None:
        return ""
    value = values[0]
    if isinstance(value, int) and not isinstance(value, bool) and name in ("post_id", "parent_id"):
        value = str(value)
    if not isinstance(value, str):
        errors[name] = f"{label} must be text."
        return ""
    if match := CONTROL.search(value):
        errors[name] = f"{label} contains a control character (U+{ord(match.group()):04X})."
        return ""
    return value.strip()


def _canonical(fields: dict[str, list[Any]]) -> dict[str, list[Any]]:
    merged = dict(fields)
    for alias, name in ALIASES.items():
        if alias in merged:
            merged[name] = merged.get(name, []) + merged.pop(alias)
    return merged


def validate(raw: dict[str, list[Any]], honeypot: str, token_field: str) -> Submission:
    """Check every field top to bottom and collect one error sentence per bad field."""
    fields = _canonical(raw)
    errors: dict[str, str] = {}
    text = {name: _single_text(fields, name, errors) for name in TEXT_FIELDS}
    sub = Submission(errors=errors, redirect_to=text["redirect_to"] or None)
    sub.author = _required(text, "author", limits.AUTHOR, errors)
    sub.email = _email(_required(text, "email", limits.EMAIL, errors), errors)
    sub.url = _website(text["url"], errors)
    sub.comment = _comment(text["comment"], errors)
    sub.post_id = _required(text, "post_id", limits.POST_ID, errors)
    sub.parent_id = _parent(text["parent_id"], errors)
    if sub.redirect_to and len(sub.redirect_to) > MAX_REDIRECT:
        errors["redirect_to"] = f"Redirect address is longer than {MAX_REDIRECT:,} characters."
    sub.notify_replies = _yes_or_no(fields, "notify_replies", errors)
    sub.honeypot_filled = any(str(value).strip() for value in fields.get(honeypot, []))
    tokens = fields.get(token_field, [])
    sub.token = tokens[0] if len(tokens) == 1 and isinstance(tokens[0], str) else None
    return sub


def sanitized(text: str, engine: str, errors: dict[str, str]) -> str:
    """The comment's HTML cut to the allowed set ("" once a field is in error); an error if nothing is left."""
    if errors:
        return ""
    content = sanitize.sanitize(text, engine)
    if not content.strip():
        errors["comment"] = "Comment is empty once markup outside the allowed tags is removed."
    return content


def edited_comment(raw: dict[str, list[Any]]) -> tuple[str, dict[str, str]]:
    """The `comment` of an author's edit, checked as a submission's is, and the error about it if any."""
    errors: dict[str, str] = {}
    text = _comment(_single_text(raw, "comment", errors), errors)
    return text, errors


YES = frozenset({"1", "on", "yes", "true"})
NO = frozenset({"", "0", "off", "no", "false"})


def _yes_or_no(fields: dict[str, list[Any]], name: str, errors: dict[str, str]) -> bool:
    """An optional checkbox: absent or unticked is no; a form sends "on", JSON may send true."""
    values = fields.get(name, [])
    if len(values) > 1:
        errors[name] = f"{LABELS[name]} was given {len(values)} times; send it once."
        return False
    value = values[0] if values else None
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in YES | NO:
        return value.strip().lower() in YES
    errors[name] = f"{LABELS[name]} must be yes or no (on, 1, true, yes; or off, 0, false, no, empty)."
    return False


def _required(text: dict[str, str], name: str, limit: int, errors: dict[str, str]) -> str:
    value = text[name]
    if name in errors:
        return ""
    if not value:
        errors[name] = f"{LABELS[name]} is required."
    elif len(value) > limit:
        errors[name] = f"{LABELS[name]} is longer than {limit:,} characters."
    return value


def _email(value: str, errors: dict[str, str]) -> str:
    if not value or "email" in errors:
        return value
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as error:
        errors["email"] = f"Email is not valid: {error}"
        return value


def _website(value: str, errors: dict[str, str]) -> str | None:
    """Optional; a bare host gets http:// as WordPress does; anything but http(s) is refused."""
    if not value or "url" in errors:
        return None
    if len(value) > limits.URL:
        errors["url"] = f"Website is longer than {limits.URL:,} characters."
        return None
    if "://" not in value and not value.lower().startswith(("javascript:", "data:", "mailto:")):
        value = "http://" + value
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:  # e.g. an unclosed IPv6 bracket
        host = None
    if not host or parts.scheme.lower() not in ("http", "https") or " " in value:
        errors["url"] = "Website must be an http:// or https:// address."
        return None
    return value


def _comment(value: str, errors: dict[str, str]) -> str:
    if "comment" in errors:
        return ""
    if not value:
        errors["comment"] = "Comment is required."
    elif len(value) > limits.COMMENT:
        errors["comment"] = f"Comment is longer than {limits.COMMENT:,} characters."
    elif problem := sanitize.complexity_error(value):
        errors["comment"] = problem
    return value


def _parent(value: str, errors: dict[str, str]) -> int | None:
    """Empty or 0 means a top-level comment; whether the parent is approved is checked against the store."""
    if not value or value == "0" or "parent_id" in errors:
        return None
    if not value.isdigit() or len(value) > 10 or int(value) > MAX_ID:
        errors["parent_id"] = "Parent id must be the number of a comment."
        return None
    return int(value)
