"""The moderators' JSON API under /admin/api, for bearer tokens (`comments token create NAME`)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, g, jsonify, request
from flask.typing import ResponseReturnValue

from .. import moderation, posts, privacy, word_lists
from ..db import get_engine
from ..submission import MAX_ID
from . import decisions, queries, settings
from .auth import require_token

bp = Blueprint("admin_api", __name__, url_prefix="/admin/api")
COMMENT = "/comments/<comment_id:comment_id>"
"""Comment ids are 32-bit in both databases; a larger number is simply not found."""
bp.before_request(require_token)


def unprocessable(errors: dict[str, str]) -> ResponseReturnValue:
    return jsonify(errors=errors), 422


def not_found(comment_id: int) -> ResponseReturnValue:
    return jsonify(error=f"Comment {comment_id} does not exist."), 404


@bp.get("/comments")
def list_comments() -> ResponseReturnValue:
    filters, errors = queries.parse_filters(request.args)
    if errors:
        return unprocessable(errors)
    with get_engine().connect() as conn:
        rows, total = queries.page_of_comments(conn, filters)
    return jsonify(comments=rows, page=filters.page, per_page=filters.per_page, total=total)


@bp.get(COMMENT)
def get_comment(comment_id: int) -> ResponseReturnValue:
    with get_engine().connect() as conn:
        comment = queries.one_comment(conn, comment_id)
    return jsonify(comment) if comment else not_found(comment_id)


@bp.patch(COMMENT)
def edit(comment_id: int) -> ResponseReturnValue:
    """`{"text": …}`: a moderator's new text for the comment, sanitized as a submission is."""
    text, errors = text_of(request.get_json(silent=True))
    if errors:
        return unprocessable(errors)
    try:
        found = decisions.edit(comment_id, text, g.moderator, current_app.config["SANITIZER"])
    except decisions.Refused as refusal:
        return unprocessable({"text": str(refusal)})
    if not found:
        return not_found(comment_id)
    with get_engine().connect() as conn:
        return jsonify(queries.one_comment(conn, comment_id))


@bp.post(COMMENT + "/replies")
def reply(comment_id: int) -> ResponseReturnValue:
    """`{"text": …}`: a moderator's reply, published at once; a held or pending comment is approved first."""
    text, errors = text_of(request.get_json(silent=True))
    if errors:
        return unprocessable(errors)
    try:
        reply_id = decisions.reply(comment_id, text.strip(), g.moderator, current_app.config["SANITIZER"])
    except decisions.Refused as refusal:
        return unprocessable({"text": str(refusal)})
    if reply_id is None:
        return not_found(comment_id)
    with get_engine().connect() as conn:
        return jsonify(queries.one_comment(conn, reply_id)), 201


def text_of(body: Any) -> tuple[str, dict[str, str]]:
    """The `text` of a JSON body, or the error naming what is missing."""
    if not isinstance(body, dict):
        return "", {"body": 'Send a JSON object: {"text": …}.'}
    if not isinstance(body.get("text"), str):
        return "", {"text": "Text is required, as a string."}
    return body["text"], {}


@bp.post(COMMENT + "/<action>")
def act(comment_id: int, action: str) -> ResponseReturnValue:
    """approve, unapprove, spam, ham, trash or restore one comment."""
    if action not in moderation.ACTIONS:
        return unprocessable({"action": f"Action must be one of {', '.join(moderation.ACTIONS)}."})
    decision = decisions.decide(comment_id, action, g.moderator)
    if decision is None:
        return not_found(comment_id)
    with get_engine().connect() as conn:
        comment = queries.one_comment(conn, comment_id)
    return jsonify(id=comment_id, action=action, **{"from": decision.from_status, "to": decision.to_status},
                   comment=comment)


@bp.delete(COMMENT)
def delete(comment_id: int) -> ResponseReturnValue:
    return ("", 204) if decisions.delete(comment_id, g.moderator) else not_found(comment_id)


@bp.post("/comments/bulk")
def bulk() -> ResponseReturnValue:
    """`{"action": …, "ids": […]}`: one result per id."""
    body: Any = request.get_json(silent=True)
    errors = {}
    if not isinstance(body, dict):
        return unprocessable({"body": 'Send a JSON object: {"action": …, "ids": […]}.'})
    action, ids = body.get("action"), body.get("ids")
    if action not in decisions.BULK_ACTIONS:
        errors["action"] = f"Action must be one of {', '.join(decisions.BULK_ACTIONS)}."
    if not isinstance(ids, list) or not 1 <= len(ids) <= decisions.MAX_BULK or not all(map(comment_number, ids)):
        errors["ids"] = f"Ids must be a list of 1 to {decisions.MAX_BULK} comment numbers."
        ids = []
    if errors:
        return unprocessable(errors)
    return jsonify(action=action, results=decisions.bulk(ids, str(action), g.moderator))


def comment_number(value: object) -> bool:
    """A JSON integer that can be a comment id (true and false are ints to Python, not to a client)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


@bp.get("/stats")
def stats() -> ResponseReturnValue:
    with get_engine().connect() as conn:
        return jsonify(counts=queries.counts(conn), per_day=queries.per_day(conn))


@bp.get("/lists")
def lists() -> ResponseReturnValue:
    """Both word lists: a moderation-list hit holds a comment, a disallowed-list hit files it as spam."""
    with get_engine().connect() as conn:
        return jsonify({name: word_lists.terms(conn, name) for name in word_lists.LISTS})


@bp.post("/lists/<list_name>")
def change_list(list_name: str) -> ResponseReturnValue:
    """`{"add": [terms], "remove": [terms]}`, all or nothing, as the settings page changes a list."""
    if list_name not in word_lists.LISTS:
        return jsonify(error=f"No list {list_name!r}: use {' or '.join(word_lists.LISTS)}."), 404
    body: Any = request.get_json(silent=True)
    if not isinstance(body, dict) or not ({"add", "remove"} & body.keys()):
        return unprocessable({"body": 'Send a JSON object: {"add": [terms], "remove": [terms]}.'})
    errors = {key: problem for key in ("add", "remove") if (problem := terms_error(body.get(key, [])))}
    if errors:
        return unprocessable(errors)
    with get_engine().begin() as conn:
        added = [word_lists.normalize(t) for t in body.get("add", []) if word_lists.add(conn, list_name, t)]
        removed = [word_lists.normalize(t) for t in body.get("remove", []) if word_lists.remove(conn, list_name, t)]
        terms = word_lists.terms(conn, list_name)
    return jsonify({"list": list_name, "added": added, "removed": removed, "terms": terms})


def terms_error(terms: object) -> str | None:
    """Why these cannot be a list's terms (word_lists.checked says what a term may be), or None."""
    if not isinstance(terms, list) or len(terms) > decisions.MAX_BULK or not all(isinstance(t, str) for t in terms):
        return f"Send a list of at most {decisions.MAX_BULK} terms, each a string."
    try:
        for term in terms:
            word_lists.checked(term)
    except ValueError as error:
        return f"Nothing was changed: {error}."
    return None


@bp.get("/settings")
def get_settings() -> ResponseReturnValue:
    """What the settings page sets: the moderation policy (COMMENTS_MODERATION until a moderator sets one)."""
    with get_engine().connect() as conn:
        return jsonify(moderation=settings.policy(conn, current_app.config["MODERATION"]))


@bp.patch("/settings")
def change_settings() -> ResponseReturnValue:
    """`{"moderation": "auto" | "first-time" | "all"}`, as the settings page; every worker reads it per comment."""
    body: Any = request.get_json(silent=True)
    if not isinstance(body, dict) or "moderation" not in body:
        return unprocessable({"body": 'Send a JSON object: {"moderation": policy}.'})
    try:
        with get_engine().begin() as conn:
            settings.set_policy(conn, body["moderation"])
    except ValueError as error:
        return unprocessable({"moderation": f"{str(error).capitalize()}."})
    return get_settings()


@bp.get("/posts")
def list_posts() -> ResponseReturnValue:
    """The posts a moderator closed or kept open, and the age rule for the others."""
    with get_engine().connect() as conn:
        return jsonify(posts=posts.choices(conn), close_after_days=current_app.config["CLOSE_AFTER_DAYS"])


@bp.put("/posts/<path:post_id>")
def choose_post(post_id: str) -> ResponseReturnValue:
    """`{"comments_open": true | false | null}`: keep a post open, close it, or leave it to the age rule."""
    body: Any = request.get_json(silent=True)
    if problem := posts.post_id_error(post_id):
        return unprocessable({"post_id": problem})
    choice = body.get("comments_open", "missing") if isinstance(body, dict) else "missing"
    if not (choice is None or isinstance(choice, bool)):  # 1 == True, but 1 is not a choice
        return unprocessable({"comments_open": 'Send {"comments_open": true, false or null}.'})
    with get_engine().begin() as conn:
        posts.choose(conn, post_id, choice, moderation.actor(g.moderator))
        accepting = not posts.closed(conn, post_id, current_app.config["CLOSE_AFTER_DAYS"])
    return jsonify(post_id=post_id, comments_open=choice, open=accepting)


@bp.get("/privacy")
def privacy_export() -> ResponseReturnValue:
    """Every comment stored under `?email=`, with all that is kept about its author (a GDPR access request)."""
    email = request.args.get("email", "")
    if problem := privacy.email_error(email):
        return unprocessable({"email": problem})
    with get_engine().connect() as conn:
        return jsonify(privacy.personal_data(conn, email))


@bp.post("/privacy/erase")
def privacy_erase() -> ResponseReturnValue:
    """`{"email": …}`: anonymise every comment stored under it (a GDPR erasure request); the texts stay."""
    body: Any = request.get_json(silent=True)
    email = body.get("email") if isinstance(body, dict) else None
    if problem := privacy.email_error(email):
        return unprocessable({"email": problem})
    assert isinstance(email, str)
    with get_engine().begin() as conn:
        erased = privacy.erase(conn, email, f"moderator {g.moderator}")
    return jsonify(email=email.strip(), erased=erased)
