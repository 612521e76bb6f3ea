"""The review queue at /admin: plain forms that work without JavaScript; admin.js makes them instant."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from sqlalchemy import Connection

from .. import moderation, posts, privacy, status, word_lists
from ..db import get_engine
from . import accounts, decisions, queries, settings
from .auth import csrf_token, login_failed, login_wait, require_session

bp = Blueprint("admin_pages", __name__, url_prefix="/admin")
bp.before_request(require_session)
COMMENT = "/comments/<comment_id:comment_id>"
TABS = (status.HELD, status.PENDING, status.APPROVED, status.SPAM, status.TRASH)
"""The held tab first: that is the work."""


@bp.app_context_processor
def inject() -> dict[str, Any]:
    return {"csrf_token": csrf_token}


def wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


def back() -> ResponseReturnValue:
    """Where a plain form returns to: the queue page it came from (only paths under /admin)."""
    target = request.form.get("next", "")
    return redirect(target if target.startswith("/admin") and not target.startswith("//") else url_for(".queue"))


def done(result: dict[str, Any], message: str) -> ResponseReturnValue:
    if wants_json():
        with get_engine().connect() as conn:
            return jsonify(**result, counts=queries.counts(conn))
    flash(message)
    return back()


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    if request.method == "GET":
        return render_template("admin/login.html")
    name, password = request.form.get("name", "")[:80].replace("\x00", ""), request.form.get("password", "")[:1000]
    if wait := login_wait(name):
        return render_template("admin/login.html", error=f"Too many attempts; try again in {wait} s."), 429, {
            "Retry-After": str(wait)}
    with get_engine().connect() as conn:
        valid = accounts.check_password(conn, name, password)
    if not valid:
        login_failed(name)
        return render_template("admin/login.html", error="Wrong name or password."), 401
    with get_engine().begin() as conn:
        token = accounts.open_session(conn, name, current_app.permanent_session_lifetime)
    session.clear()
    session.permanent = True  # the cookie and the server-side session both end after SESSION_HOURS
    session["sid"] = token
    csrf_token()
    target = request.args.get("next", "")
    return redirect(target if target.startswith("/admin") and not target.startswith("//") else url_for(".queue"))


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """Ends the session on the server too, so a copy of the cookie is worthless from now on."""
    if isinstance(token := session.get("sid"), str):
        with get_engine().begin() as conn:
            accounts.close_session(conn, token)
    session.clear()
    return redirect(url_for(".login"))


@bp.get("/")
def queue() -> ResponseReturnValue:
    filters, errors = queries.parse_filters(request.args)
    with get_engine().connect() as conn:
        rows, total = queries.page_of_comments(conn, filters)
        counts = queries.counts(conn)
    pages = max(1, -(-total // filters.per_page))
    return render_template("admin/queue.html", rows=rows, total=total, counts=counts, filters=filters,
                           errors=errors, tabs=TABS, pages=pages, actions=actions_for)


def actions_for(state: str) -> list[tuple[str, str]]:
    """The buttons a comment in `state` gets: (action, label)."""
    labels = {"approve": "Approve", "unapprove": "Unapprove", "spam": "Spam", "ham": "Not spam",
              "trash": "Trash", "restore": "Restore"}
    wanted = {status.HELD: ("approve", "spam", "trash"), status.PENDING: ("approve", "spam", "trash"),
              status.APPROVED: ("unapprove", "spam", "trash"), status.SPAM: ("ham", "trash"),
              status.TRASH: ("restore", "spam")}[state]
    return [(action, labels[action]) for action in wanted]


@bp.post(COMMENT + "/<action>")
def act(comment_id: int, action: str) -> ResponseReturnValue:
    if action not in moderation.ACTIONS:
        abort(404)
    decision = decisions.decide(comment_id, action, g.moderator)
    if decision is None:
        abort(404, f"Comment {comment_id} does not exist.")
    result = {"id": comment_id, "from": decision.from_status, "to": decision.to_status}
    return done(result, f"Comment {comment_id}: {decision.from_status} → {decision.to_status}.")


@bp.post("/comments/bulk")
def bulk() -> ResponseReturnValue:
    action = request.form.get("action", "")
    ids = [int(i) for i in request.form.getlist("ids") if i.isascii() and i.isdigit() and len(i) < 10]
    if action not in decisions.BULK_ACTIONS or action == "delete" or not ids:
        flash("Choose some comments and an action.")
        return back()
    results = decisions.bulk(ids[: decisions.MAX_BULK], action, g.moderator)
    return done({"action": action, "results": results}, f"{len(results)} comments: {action}.")


@bp.post(COMMENT + "/move")
def move(comment_id: int) -> ResponseReturnValue:
    """Undo: back to the status the comment had before the last action."""
    try:
        found = decisions.move_back(comment_id, request.form.get("status", ""), g.moderator)
    except ValueError as error:
        abort(400, str(error))
    if not found:
        abort(404)
    return done({"id": comment_id, "to": request.form["status"]}, f"Comment {comment_id} moved back.")


@bp.route(COMMENT + "/delete", methods=["GET", "POST"])
def delete(comment_id: int) -> ResponseReturnValue:
    """GET asks for confirmation (the no-JavaScript path); POST deletes for ever."""
    if request.method == "GET":
        with get_engine().connect() as conn:
            comment = queries.one_comment(conn, comment_id)
        return render_template("admin/delete.html", comment=comment) if comment else abort(404)
    if not decisions.delete(comment_id, g.moderator):
        abort(404)
    return done({"id": comment_id, "deleted": True}, f"Comment {comment_id} deleted for ever.")


@bp.post(COMMENT + "/edit")
def edit(comment_id: int) -> ResponseReturnValue:
    try:
        found = decisions.edit(comment_id, request.form.get("text", ""), g.moderator, current_app.config["SANITIZER"])
    except decisions.Refused as refusal:
        flash(str(refusal))
        return back()
    if not found:
        abort(404)
    return done({"id": comment_id, "edited": True}, f"Comment {comment_id} edited.")


@bp.post(COMMENT + "/reply")
def reply(comment_id: int) -> ResponseReturnValue:
    """A moderator's reply is published at once; replying to a held comment approves it (as WordPress does)."""
    text = request.form.get("text", "").strip()
    try:
        reply_id = decisions.reply(comment_id, text, g.moderator, current_app.config["SANITIZER"])
    except decisions.Refused as refusal:
        flash(str(refusal))
        return back()
    if reply_id is None:
        abort(404)
    return done({"id": comment_id, "replied": True}, f"Replied to comment {comment_id}.")


@bp.route("/settings", methods=["GET", "POST"])
def settings_page() -> ResponseReturnValue:
    """The word lists and the moderation policy."""
    if request.method == "POST":
        change_settings(request.form)
        return redirect(url_for(".settings_page"))
    with get_engine().connect() as conn:
        lists = {name: word_lists.terms(conn, name) for name in word_lists.LISTS}
        policy = settings.policy(conn, current_app.config["MODERATION"])
        chosen = posts.choices(conn)
    return render_template("admin/settings.html", lists=lists, policy=policy, posts=chosen,
                           close_after_days=current_app.config["CLOSE_AFTER_DAYS"])


def change_settings(form: Any) -> None:
    """All or nothing; one message per list, since flashed messages ride in the session cookie (4 kB)."""
    try:
        with get_engine().begin() as conn:
            if "policy" in form:
                settings.set_policy(conn, form["policy"])
                flash(f"Moderation policy: {form['policy']}.")
            for name in word_lists.LISTS:
                # No stored text holds a NUL (PostgreSQL refuses it), so one can only be a stray byte.
                added = [term for term in form.get(f"add_{name}", "").replace("\x00", "").splitlines()
                         if term.strip() and word_lists.add(conn, name, term)]
                removed = [term for term in form.getlist(f"remove_{name}")
                           if word_lists.remove(conn, name, term.replace("\x00", ""))]
                if added or removed:
                    flash(f"The {name} list: {len(added)} added, {len(removed)} removed.")
            choose_posts(conn, form)
    except ValueError as error:
        flash(f"Nothing was changed: {error}.")


def choose_posts(conn: Connection, form: Any) -> None:
    """Close the posts named one per line; give the ticked ones back to the default rule."""
    closing = [line.strip() for line in form.get("close_posts", "").replace("\x00", "").splitlines() if line.strip()]
    defaults = [post_id for post_id in form.getlist("default_post") if post_id]
    for post_id in closing + defaults:
        if problem := posts.post_id_error(post_id):
            raise ValueError(problem[0].lower() + problem[1:-1])
    for post_id in closing:
        posts.choose(conn, post_id, False, moderation.actor(g.moderator))
    for post_id in defaults:
        posts.choose(conn, post_id, None, moderation.actor(g.moderator))
    if closing or defaults:
        flash(f"Posts: {len(closing)} closed, {len(defaults)} back to the default.")


@bp.get("/privacy")
def privacy_page() -> ResponseReturnValue:
    """A commenter's personal data: their comments found by email, to download or to anonymise."""
    email = request.args.get("email", "")
    problem = privacy.email_error(email) if email else None
    found = None
    if email and not problem:
        with get_engine().connect() as conn:
            found = privacy.personal_data(conn, email)
    return render_template("admin/privacy.html", email=email, problem=problem, found=found)


@bp.get("/privacy/export")
def privacy_download() -> ResponseReturnValue:
    email = request.args.get("email", "")
    if privacy.email_error(email):
        abort(404)
    with get_engine().connect() as conn:
        response = jsonify(privacy.personal_data(conn, email))
    response.headers["Content-Disposition"] = 'attachment; filename="personal-data.json"'
    return response


@bp.post("/privacy/erase")
def privacy_erase() -> ResponseReturnValue:
    email = request.form.get("email", "")
    if problem := privacy.email_error(email):
        flash(problem)
        return redirect(url_for(".privacy_page"))
    with get_engine().begin() as conn:
        erased = privacy.erase(conn, email, f"moderator {g.moderator}")
    flash(f"Anonymised {len(erased)} comments: their text stays, shown as by {privacy.ANONYMOUS!r}.")
    return redirect(url_for(".privacy_page"))


@bp.app_template_filter("local_time")
def local_time(value: str) -> str:
    return value[:16].replace("T", " ")

