"""The OpenAPI description of the public and admin API, served at /openapi.json.

Kept true by tests: every API route of the app is described here and every path here is
a route; schemathesis checks the answers against the schemas.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from . import limits, public, status, word_lists
from .admin.decisions import MAX_BULK
from .config import MODERATION_POLICIES

bp = Blueprint("openapi", __name__)

ERROR = {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}}
FIELD_ERRORS = {"type": "object", "required": ["errors"],
                "properties": {"errors": {"type": "object", "additionalProperties": {"type": "string"}}}}
PUBLIC_COMMENT: dict[str, Any] = {
    "type": "object",
    "required": ["id", "post_id", "parent_id", "author", "url", "content", "created_at", "status"],
    "properties": {
        "id": {"type": "integer"},
        "post_id": {"type": "string"},
        "parent_id": {"type": ["integer", "null"]},
        "author": {"type": "string"},
        "url": {"type": ["string", "null"]},
        "content": {"type": "string", "description": "Sanitized HTML, safe to render."},
        "created_at": {"type": "string", "format": "date-time"},
        "status": {"type": "string", "enum": list(status.ALL)},
        "depth": {"type": "integer"},
    },
}
TEXT = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
"""Some text other than white space, and no control character but tab and line breaks."""
COMMENT_TEXT = {"type": "string", "minLength": 1, "maxLength": limits.COMMENT, "pattern": TEXT}
SUBMISSION = {
    "type": "object",
    "required": ["author", "email", "comment", "post_id"],
    "properties": {
        "author": {"type": "string", "minLength": 1, "maxLength": limits.AUTHOR, "pattern": TEXT},
        "email": {"type": "string", "format": "email", "maxLength": limits.EMAIL},
        "url": {"type": "string", "maxLength": limits.URL},
        "comment": COMMENT_TEXT,
        "post_id": {"type": "string", "minLength": 1, "maxLength": limits.POST_ID, "pattern": TEXT},
        "parent_id": {"type": ["integer", "string"]},
        "redirect_to": {"type": "string", "description": "The page the form is on: a form post returns there, "
                        "and the spam engine reads a link to it as a reader's (kept on an allowed origin only)."},
        "form_token": {"type": "string"},
        "notify_replies": {"type": ["boolean", "string"],
                           "description": "Email me about replies: true, on, 1, yes; or false, off, 0, no, empty."},
    },
}


def answer(description: str, schema: dict[str, Any] | None = None, headers: dict[str, Any] | None = None,
           media: str = "application/json") -> dict[str, Any]:
    response: dict[str, Any] = {"description": description}
    if schema is not None:
        response["content"] = {media: {"schema": schema}}
    if headers:
        response["headers"] = headers
    return response


def form_or_json(description: str, schema: dict[str, Any], headers: dict[str, Any] | None = None) -> dict[str, Any]:
    """POST /comments answers a form post with a small HTML page, JSON clients with JSON."""
    response = answer(description, schema, headers)
    response["content"]["text/html"] = {"schema": {"type": "string"}}
    return response


RETRY_AFTER = {"Retry-After": {"schema": {"type": "string"}}}
UNAVAILABLE = answer("The database is unavailable; try again later.", ERROR, RETRY_AFTER)


def email_link(summary: str, done: str, posting: bool = False, one_click: bool = False) -> dict[str, Any]:
    """GET and POST of a link in a reply email: pages, with the token in the query (or, posted, in the form)."""
    operation: dict[str, Any] = {
        "summary": summary,
        "parameters": [{"name": "token", "in": "query", "required": False, "schema": {"type": "string"},
                        "description": "The signed token of the link in the email."}],
        "responses": {
            "200": answer(done, {"type": "string"}, media="text/html"),
            "400": form_or_json("The token is missing or not valid.", ERROR),
        },
    }
    if posting:
        fields = {"token": {"type": "string"}, **({"List-Unsubscribe": {"const": "One-Click"}} if one_click else {})}
        form = {"application/x-www-form-urlencoded": {"schema": {"type": "object", "properties": fields}}}
        operation["requestBody"] = {"required": False, "content": form}
        operation["responses"]["503"] = form_or_json("The database is unavailable; try again later.", ERROR,
                                                     RETRY_AFTER)
    return operation


MODERATE_IT = {
    name: {"operationRef": f"#/paths/{path.replace('/', '~1')}/{method}",
           "parameters": {"comment_id": "$response.body#/id"}}
    for name, path, method in (
        ("Review", "/admin/api/comments/{comment_id}", "get"),
        ("Edit", "/admin/api/comments/{comment_id}", "patch"),
        ("Decide", "/admin/api/comments/{comment_id}/{action}", "post"),
        ("Reply", "/admin/api/comments/{comment_id}/replies", "post"),
        ("Delete", "/admin/api/comments/{comment_id}", "delete"),
    )
}
"""What a moderator can do with the comment a 202 names (OpenAPI links: schemathesis follows them)."""

AUTHOR_TOKEN = {
    "author_token": {"type": "string", "description": "The author's key to GET, PUT and DELETE "
                     "/comments/{id} (Authorization: Bearer) until editable_until; absent when "
                     "COMMENTS_EDIT_SECONDS is 0."},
    "editable_until": {"type": "string", "format": "date-time"},
}
AUTHOR_VIEW = {"type": "object", "required": ["id", "status", "comment", "editable_until"], "properties": {
    "id": {"type": "integer"}, "status": {"type": "string", "enum": [status.APPROVED, status.PENDING]},
    "comment": PUBLIC_COMMENT, "editable_until": AUTHOR_TOKEN["editable_until"]}}
AUTHOR_EDIT = {"required": True, "content": {
    media: {"schema": {"type": "object", "required": ["comment"], "properties": {"comment": COMMENT_TEXT}}}
    for media in ("application/json", "application/x-www-form-urlencoded")}}


def author_operation(summary: str, responses: dict[str, Any], body: dict[str, Any] | None = None) -> dict[str, Any]:
    """One of the author's operations on their own comment: the token, and the refusals every one shares."""
    operation: dict[str, Any] = {
        "summary": summary,
        "parameters": [{"name": "comment_id", "in": "path", "required": True,
                        "schema": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}}],
        "security": [{"author": []}],
        "responses": {
            **responses,
            "401": answer("No bearer token.", FIELD_ERRORS, {"WWW-Authenticate": {"schema": {"type": "string"}}}),
            "403": answer("The token is not this comment's, or its time is over.", FIELD_ERRORS),
            "404": answer("No such comment, or deleted.", ERROR),
            "503": UNAVAILABLE,
        },
    }
    if body is not None:
        operation["requestBody"] = body
    return operation


PUBLIC_PATHS: dict[str, Any] = {
    "/comments": {
        "post": {
            "summary": "Submit a comment",
            "requestBody": {"required": True, "content": {
                "application/json": {"schema": SUBMISSION},
                "application/x-www-form-urlencoded": {"schema": SUBMISSION},
                "multipart/form-data": {"schema": SUBMISSION}}},
            "responses": {
                "202": {**form_or_json("Stored, awaiting its spam check.", {
                    "type": "object", "required": ["id", "status", "comment"],
                    "properties": {"id": {"type": "integer"}, "status": {"const": "pending"},
                                   "comment": PUBLIC_COMMENT, **AUTHOR_TOKEN}}), "links": MODERATE_IT},
                "303": answer("Form post: back to the page the form was on."),
                "400": form_or_json("Malformed JSON, multipart or invalid UTF-8.", ERROR),
                "403": form_or_json("Comments are closed on this post (errors.post_id).", FIELD_ERRORS),
                "409": form_or_json("The same comment again.", FIELD_ERRORS),
                "413": form_or_json("Body over the limit.", ERROR),
                "415": form_or_json("Unsupported content type.", ERROR),
                "422": form_or_json("Missing or invalid fields, one sentence each.", FIELD_ERRORS),
                "429": form_or_json("Posting too quickly.", FIELD_ERRORS, RETRY_AFTER),
                "503": form_or_json("The database is unavailable; try again later.", ERROR, RETRY_AFTER),
            },
        },
    },
    "/comments/{comment_id}": {
        "get": author_operation("The author's own comment, published or not", {
            "200": answer("The comment; anything not published reads as pending.", AUTHOR_VIEW)}),
        "put": author_operation("The author's new text; a published comment waits for a new spam check", {
            "200": answer("The comment as edited.", AUTHOR_VIEW),
            "400": answer("Malformed JSON, multipart or invalid UTF-8.", ERROR),
            "413": answer("Body over the limit.", ERROR),
            "415": answer("Unsupported content type.", ERROR),
            "422": answer("No comment, or one that cannot be kept.", FIELD_ERRORS)}, AUTHOR_EDIT),
        "delete": author_operation("The author deletes their own comment (into the trash)", {
            "204": answer("Deleted.")}),
    },
    "/posts/{post_id}/comments": {
        "get": {
            "summary": "The approved comments of a post, in thread order",
            "description": "The whole thread; with `per_page`, one page of that many top-level comments, each "
                           "with all its replies, and the number of pages.",
            "parameters": [
                {"name": "post_id", "in": "path", "required": True, "schema": {"type": "string"}},
                {"name": "per_page", "in": "query", "required": False,
                 "schema": {"type": "integer", "minimum": 1, "maximum": public.MAX_PER_PAGE}},
                {"name": "page", "in": "query", "required": False,
                 "schema": {"type": "integer", "minimum": 1, "maximum": public.MAX_PAGE}},
                {"name": "order", "in": "query", "required": False,
                 "schema": {"type": "string", "enum": list(public.ORDERS)},
                 "description": "Top-level comments oldest (default) or newest first; replies follow their "
                                "parent, oldest first."},
            ],
            "responses": {
                "200": answer("The thread, or one page of it.", {
                    "type": "object", "required": ["post_id", "open", "comments"], "properties": {
                        "post_id": {"type": "string"},
                        "open": {"type": "boolean", "description": "Whether the post takes new comments."},
                        "comments": {"type": "array", "items": PUBLIC_COMMENT},
                        "page": {"type": "integer", "minimum": 1}, "pages": {"type": "integer", "minimum": 1}}}),
                "304": answer("Not modified (ETag)."),
                "422": answer("`per_page` or `page` not a whole number in range, `page` without `per_page`, "
                              "or an `order` other than oldest or newest.", FIELD_ERRORS),
                "503": UNAVAILABLE,
            },
        },
    },
    "/comment-counts": {
        "get": {
            "summary": "How many approved comments each post has",
            "parameters": [{"name": "post_id", "in": "query", "required": True, "style": "form", "explode": True,
                            "schema": {"type": "array", "minItems": 1, "maxItems": 100,
                                       "items": {"type": "string", "maxLength": limits.POST_ID}}}],
            "responses": {
                "200": answer("Every post asked for, with its count (0 for none).", {
                    "type": "object", "required": ["counts"], "properties": {
                        "counts": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}}}}),
                "304": answer("Not modified (ETag)."),
                "414": answer("The request line is over 4,094 bytes (gunicorn's limit): ask for fewer posts at once."),
                "422": answer("No post id, more than 100, or one too long.", FIELD_ERRORS),
                "503": UNAVAILABLE,
            },
        },
    },
    "/feed": {
        "get": {
            "summary": "An Atom feed of the newest approved comments, of one post or of the whole site",
            "parameters": [{"name": "post_id", "in": "query", "required": False,
                            "schema": {"type": "string", "maxLength": limits.POST_ID}}],
            "responses": {
                "200": answer("Atom 1.0, newest first, at most 50 entries.", {"type": "string"},
                              media="application/atom+xml"),
                "304": answer("Not modified (ETag)."),
                "422": answer("More than one post id, or one too long.", FIELD_ERRORS),
                "503": UNAVAILABLE,
            },
        },
    },
    "/allowed-tags": {"get": {"summary": "The allowed tags and attributes", "responses": {"200": answer(
        "The allowed set.", {"type": "object", "required": ["tags", "sentence"], "properties": {
            "tags": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
            "sentence": {"type": "string"}}})}}},
    "/form-token": {"get": {"summary": "A signed form token", "responses": {"200": answer(
        "Which field carries the token and which must stay empty.", {
            "type": "object", "required": ["field", "token", "honeypot"],
            "properties": {"field": {"type": "string"}, "token": {"type": "string"},
                           "honeypot": {"type": "string"}}})}}},
    "/unsubscribe": {
        "get": email_link("The page behind a reply email's unsubscribe link", "Asks before it changes anything."),
        "post": email_link("Stop reply emails to this address (RFC 8058 one-click too)",
                           "Done; saying so again is fine.", posting=True, one_click=True),
    },
    "/confirm-replies": {
        "get": email_link("The page behind the confirmation link (double opt-in)", "Asks before it changes anything."),
        "post": email_link("Confirm reply emails for this address", "Confirmed; saying so again is fine.",
                           posting=True),
    },
    "/healthz": {"get": {"summary": "The process is up", "responses": {"200": answer("Up.", {"type": "object"})}}},
    "/readyz": {"get": {"summary": "Database and Redis answer", "responses": {
        "200": answer("Ready.", {"type": "object"}),
        "503": answer("Not ready; names what fails.", {"type": "object", "properties": {
            "failing": {"type": "array", "items": {"type": "string", "enum": ["database", "redis"]}}}})}}},
}

ADMIN_COMMENT = {
    "type": "object",
    "required": ["id", "post_id", "author", "email", "content", "original", "status", "reasons", "created_at"],
    "properties": {
        **PUBLIC_COMMENT["properties"],
        "email": {"type": "string"}, "ip": {"type": ["string", "null"]},
        "user_agent": {"type": ["string", "null"]}, "referrer": {"type": ["string", "null"]},
        "page": {"type": ["string", "null"], "description": "The site's page the form was on (redirect_to, else "
                 "the Referer), when on an allowed origin."},
        "original": {"type": "string"}, "spam_score": {"type": ["number", "null"]},
        "notify_replies": {"type": "boolean", "description": "The author asked for emails about replies."},
        "reasons": {"type": "array", "items": {"type": "object", "properties": {
            "check": {"type": "string"}, "score": {"type": "number"}, "reason": {"type": "string"},
            "verdict": {"type": "string"}}}},
        "updated_at": {"type": "string", "format": "date-time"},
        "history": {"type": "array", "items": {"type": "object"}},
    },
}
POST_CHOICE = {"type": "object", "required": ["post_id", "comments_open", "changed_at", "changed_by"], "properties": {
    "post_id": {"type": "string"}, "comments_open": {"type": "boolean"},
    "changed_at": {"type": "string", "format": "date-time"}, "changed_by": {"type": "string"}}}
SECURED: list[dict[str, list[str]]] = [{"bearer": []}]
UNAUTHORIZED = answer("No valid bearer token.", ERROR, {"WWW-Authenticate": {"schema": {"type": "string"}}})
COMMENT_ID = {"name": "comment_id", "in": "path", "required": True,
              "schema": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}}
NOT_FOUND = answer("No such comment.", ERROR)
TOO_LARGE = answer("Body over the limit (COMMENTS_MAX_BODY_BYTES).", ERROR)
SETTINGS = {"type": "object", "required": ["moderation"], "properties": {"moderation": {
    "type": "string", "enum": list(MODERATION_POLICIES), "description": "auto: the spam check decides; first-time: "
    "hold authors never approved before; all: hold everything (COMMENTS_MODERATION until set)."}}}
MODERATOR_TEXT = {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "required": ["text"],
    "properties": {"text": {"type": "string", "minLength": 1, "maxLength": limits.COMMENT}}}}}}


def secured(operation: dict[str, Any]) -> dict[str, Any]:
    return {**operation, "security": SECURED, "responses": {**operation["responses"], "401": UNAUTHORIZED}}


ADMIN_PATHS: dict[str, Any] = {
    "/admin/api/comments": {"get": secured({
        "summary": "A page of the review queue",
        "parameters": [
            {"name": "status", "in": "query", "schema": {"type": "string", "enum": list(status.ALL)}},
            *({"name": name, "in": "query", "schema": {"type": "string"}}
              for name in ("post_id", "author", "email", "ip", "q")),
            {"name": "order", "in": "query", "schema": {"type": "string", "enum": ["newest", "oldest"]}},
            {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
            {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200}},
        ],
        "responses": {
            "200": answer("The page.", {"type": "object", "required": ["comments", "page", "per_page", "total"],
                                        "properties": {"comments": {"type": "array", "items": ADMIN_COMMENT},
                                                       "page": {"type": "integer"},
                                                       "per_page": {"type": "integer"},
                                                       "total": {"type": "integer"}}}),
            "422": answer("Bad filters.", FIELD_ERRORS),
        }})},
    "/admin/api/comments/{comment_id}": {
        "get": secured({"summary": "One comment with its history", "parameters": [COMMENT_ID],
                        "responses": {"200": answer("The comment.", ADMIN_COMMENT), "404": NOT_FOUND}}),
        "delete": secured({"summary": "Delete for ever", "parameters": [COMMENT_ID],
                           "responses": {"204": answer("Deleted."), "404": NOT_FOUND}}),
        "patch": secured({"summary": "A moderator's new text, sanitized as a submission is",
                          "parameters": [COMMENT_ID], "requestBody": MODERATOR_TEXT,
                          "responses": {"200": answer("The comment as edited.", ADMIN_COMMENT), "404": NOT_FOUND,
                                        "413": TOO_LARGE,
                                        "422": answer("No text, or one that cannot be kept.", FIELD_ERRORS)}}),
    },
    "/admin/api/comments/{comment_id}/replies": {"post": secured({
        "summary": "A moderator's reply, published at once; a held or pending comment is approved first",
        "parameters": [COMMENT_ID], "requestBody": MODERATOR_TEXT,
        "responses": {"201": answer("The reply.", ADMIN_COMMENT), "404": NOT_FOUND, "413": TOO_LARGE,
                      "422": answer("No text, one that cannot be kept, or a comment in spam or trash.",
                                    FIELD_ERRORS)}})},
    "/admin/api/comments/{comment_id}/{action}": {"post": secured({
        "summary": "approve, unapprove, spam, ham, trash or restore",
        "parameters": [COMMENT_ID, {"name": "action", "in": "path", "required": True, "schema": {
            "type": "string", "enum": ["approve", "unapprove", "spam", "ham", "trash", "restore"]}}],
        "responses": {
            "200": answer("Done.", {"type": "object", "required": ["id", "action", "from", "to", "comment"],
                                    "properties": {"id": {"type": "integer"}, "action": {"type": "string"},
                                                   "from": {"type": "string"}, "to": {"type": "string"},
                                                   "comment": ADMIN_COMMENT}}),
            "404": NOT_FOUND, "422": answer("Unknown action.", FIELD_ERRORS)}})},
    "/admin/api/comments/bulk": {"post": secured({
        "summary": "One action on many comments",
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["action", "ids"],
            "properties": {"action": {"type": "string", "enum": ["approve", "unapprove", "spam", "ham", "trash",
                                                                 "restore", "delete"]},
                           "ids": {"type": "array", "minItems": 1, "maxItems": MAX_BULK,
                                   "items": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}}}}}}},
        "responses": {
            "200": answer("One result per id.", {"type": "object", "required": ["action", "results"],
                                                 "properties": {"action": {"type": "string"},
                                                                "results": {"type": "array",
                                                                            "items": {"type": "object"}}}}),
            "422": answer("Bad action or ids.", FIELD_ERRORS)}})},
    "/admin/api/lists": {"get": secured({
        "summary": "The word lists: a moderation-list hit holds a comment, a disallowed-list hit files it as spam",
        "responses": {"200": answer("Both lists, their terms lower-cased.", {
            "type": "object", "required": list(word_lists.LISTS),
            "properties": {name: {"type": "array", "items": {"type": "string"}}
                           for name in word_lists.LISTS}})}})},
    "/admin/api/lists/{list_name}": {"post": secured({
        "summary": "Add and remove terms of one list, all or nothing",
        "parameters": [{"name": "list_name", "in": "path", "required": True,
                        "schema": {"type": "string", "enum": list(word_lists.LISTS)}}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "properties": {
                key: {"type": "array", "maxItems": MAX_BULK,
                      "items": {"type": "string", "minLength": 1, "maxLength": word_lists.MAX_TERM}}
                for key in ("add", "remove")}}}}},
        "responses": {
            "200": answer("What changed, and the list.", {
                "type": "object", "required": ["list", "added", "removed", "terms"], "properties": {
                    "list": {"type": "string"}, **{key: {"type": "array", "items": {"type": "string"}}
                                                   for key in ("added", "removed", "terms")}}}),
            "404": answer("No such list.", ERROR), "413": TOO_LARGE,
            "422": answer("Not an object with add or remove, or a bad term.", FIELD_ERRORS)}})},
    "/admin/api/settings": {
        "get": secured({
            "summary": "What the settings page sets: the moderation policy",
            "responses": {"200": answer("The settings.", SETTINGS)}}),
        "patch": secured({
            "summary": "Change the moderation policy, as the settings page does",
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["moderation"], "properties": SETTINGS["properties"]}}}},
            "responses": {"200": answer("The settings, changed.", SETTINGS), "413": TOO_LARGE,
                          "422": answer("Not an object with a known policy.", FIELD_ERRORS)}})},
    "/admin/api/posts": {"get": secured({
        "summary": "The posts a moderator closed or kept open, and the age rule for the others",
        "responses": {"200": answer("Every choice, newest first.", {
            "type": "object", "required": ["posts", "close_after_days"], "properties": {
                "posts": {"type": "array", "items": POST_CHOICE},
                "close_after_days": {"type": "integer", "minimum": 0,
                                     "description": "COMMENTS_CLOSE_AFTER_DAYS; 0: posts never close by age."}}})}})},
    "/admin/api/posts/{post_id}": {"put": secured({
        "summary": "Close a post to new comments, keep it open whatever its age, or leave it to the age rule",
        "parameters": [{"name": "post_id", "in": "path", "required": True,
                        "schema": {"type": "string", "minLength": 1, "maxLength": limits.POST_ID}}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["comments_open"],
            "properties": {"comments_open": {"type": ["boolean", "null"]}}}}}},
        "responses": {
            "200": answer("The choice, and whether the post now takes comments.", {
                "type": "object", "required": ["post_id", "comments_open", "open"], "properties": {
                    "post_id": {"type": "string"}, "comments_open": {"type": ["boolean", "null"]},
                    "open": {"type": "boolean"}}}),
            "413": TOO_LARGE,
            "422": answer("A post id that cannot be one, or no comments_open of true, false or null.",
                          FIELD_ERRORS)}})},
    "/admin/api/privacy": {"get": secured({
        "summary": "A commenter's personal data: every comment stored under an email",
        "parameters": [{"name": "email", "in": "query", "required": True,
                        "schema": {"type": "string", "minLength": 1, "maxLength": limits.EMAIL}}],
        "responses": {"200": answer("The comments, with all that is kept about their author.", {
            "type": "object", "required": ["email", "exported_at", "comments"], "properties": {
                "email": {"type": "string"}, "exported_at": {"type": "string", "format": "date-time"},
                "comments": {"type": "array", "items": {"type": "object"}},
                "reply_emails": {"type": ["object", "null"], "description": "When the address was asked to "
                                 "confirm reply emails and when it did (asked_at, confirmed_at), if ever."}}}),
                      "422": answer("No email, or not one that could be stored.", FIELD_ERRORS)}})},
    "/admin/api/privacy/erase": {"post": secured({
        "summary": "Anonymise every comment stored under an email; the texts stay",
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["email"],
            "properties": {"email": {"type": "string", "minLength": 1, "maxLength": limits.EMAIL}}}}}},
        "responses": {"200": answer("The ids of the comments anonymised.", {
            "type": "object", "required": ["email", "erased"], "properties": {
                "email": {"type": "string"}, "erased": {"type": "array", "items": {"type": "integer"}}}}),
                      "422": answer("No email, or not one that could be stored.", FIELD_ERRORS)}})},
    "/admin/api/stats": {"get": secured({
        "summary": "Counts per status and comments per day",
        "responses": {"200": answer("The figures.", {
            "type": "object", "required": ["counts", "per_day"], "properties": {
                "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
                "per_day": {"type": "array", "items": {"type": "object"}}}})}})},
}


def document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "comments", "version": "1", "description": "Comment intake, moderation and reading."},
        "paths": {**PUBLIC_PATHS, **ADMIN_PATHS},
        "components": {"securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer", "description": "A moderator's API token."},
            "author": {"type": "http", "scheme": "bearer",
                       "description": "The author_token that POST /comments gave for that comment."}}},
    }


@bp.get("/openapi.json")
def openapi() -> ResponseReturnValue:
    return jsonify(document())
