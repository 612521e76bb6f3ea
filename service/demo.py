"""The demo post: the page this product was made for (`seeds/`), with its approved thread and a comment form.

`make run` opens on it, and the browser tests render hostile comments through it as a site would.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, current_app, render_template, request
from flask.typing import ResponseReturnValue

from . import limits, posts, sanitize, store
from .db import get_engine

bp = Blueprint("demo", __name__)

SEEDS = Path(__file__).resolve().parents[1] / "seeds"
DEMO_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
            "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


def seed_posts() -> dict[str, Path]:
    """Post id -> seed file; the id is the file's stem, so the demo and the tests agree on it."""
    return {path.stem: path for path in sorted(SEEDS.glob("*.txt"))}


@bp.get("/")
@bp.get("/demo/<post_id>")
def post(post_id: str | None = None) -> ResponseReturnValue:
    seeds = seed_posts()
    post_id = post_id or next(iter(seeds), None)
    if post_id not in seeds:
        abort(404, "No such demo post.")
    title, _, body = seeds[post_id].read_text(encoding="utf-8").partition("\n")
    with get_engine().connect() as conn:
        thread = store.approved_thread(conn, post_id)
        closed = posts.closed(conn, post_id, current_app.config["CLOSE_AFTER_DAYS"])
    # WordPress's ?replytocom=<id>: the form answers that comment, without JavaScript.
    replying_to = next((c for c in thread if str(c["id"]) == request.args.get("replytocom")), None)
    page = render_template("demo/post.html", post_id=post_id, title=title.strip(), replying_to=replying_to,
                           paragraphs=[p.strip() for p in body.split("\n\n") if p.strip()], thread=thread,
                           limits=limits, sentence=sanitize.ALLOWED_SENTENCE, closed=closed,
                           honeypot=current_app.config["HONEYPOT_FIELD"])
    return page, 200, {"Content-Security-Policy": DEMO_CSP}
