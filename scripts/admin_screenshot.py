"""Take docs/admin-queue.png: the review queue with made-up demo comments, in headless Chromium.

    .venv/bin/python scripts/admin_screenshot.py
"""

from __future__ import annotations

import secrets
import sys
import tempfile
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from service import create_app, sanitize, status, store  # noqa: E402
from service.admin import accounts  # noqa: E402
from service.db import get_engine, upgrade  # noqa: E402
from tests.browser import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from workers.checks import content  # noqa: E402
from workers.checks.context import Context  # noqa: E402
from workers.classifier import default_model  # noqa: E402

DEMO = [
    ("Maria Costa", "maria@example.org", "Thank you for posting the <b>full letter</b>. The point about the 287(g) "
     "agreement is the one most reports missed.", []),
    ("best-deals-online", "deals@example.net", "Great post!! Visit https://deals.example/pills and "
     "https://deals.example/watches for discounts", [("links", 0.5, "2 links (limit 1)")]),
    ("Tom Whitfield", "tom@example.com", "Does anyone know whether other states followed Massachusetts in "
     "opting out? <em>Illinois</em> did something similar, I believe.", [("policy", 0.0,
                                                                         "first comment from this author")]),
    ("J. Rivera", "jr@example.org", "The statistic about one in four deportees is striking. "
     '<a href="https://www.example.gov/report">Here is the report</a> it comes from.',
     [("word list", 0.5, "moderation list: 'deport' in the text")]),
]


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/demo.sqlite3"
        upgrade(url)
        app = create_app({"TESTING": True, "SECRET_KEY": secrets.token_urlsafe(24), "DATABASE_URL": url,
                          "MODEL_PATH": f"{folder}/model.joblib"})
        password = secrets.token_urlsafe(16)
        model = default_model()
        with app.app_context(), get_engine().begin() as conn:
            accounts.add(conn, "editor", password)
            for n, (author, email, text, reasons) in enumerate(DEMO):
                values = {"post_id": "000_fb4fb812671c1215", "author": author, "email": email, "url": None,
                          "content": sanitize.sanitize(text), "original": text, "ip": f"198.51.100.{10 + n}"}
                comment_id = store.insert_comment(conn, values, status.PENDING)
                findings = [{"check": check, "score": score, "reason": reason} for check, score, reason in reasons]
                # The classifier's finding is the bundled model's own, as a worker would write it.
                row = dict(store.get_comment(conn, comment_id) or {})
                if classified := content.check(Context(row, conn, app.config, classifier=model)):
                    findings.append(classified.as_dict())
                store.set_verdict(conn, comment_id, status.HELD, sum(f["score"] for f in findings), findings,
                                  store.SPAM_CHECK)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}"
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1200, "height": 900}, base_url=base)
            page.goto("/admin/login")
            page.fill("input[name=name]", "editor")
            page.fill("input[name=password]", password)
            page.click("button:text('Log in')")
            page.wait_for_selector("li.comment")
            page.locator("details.original summary").first.click()
            page.screenshot(path=str(ROOT / "docs" / "admin-queue.png"), full_page=True)
            browser.close()
        server.shutdown()
    print("wrote docs/admin-queue.png")


if __name__ == "__main__":
    main()
