"""A local Akismet that speaks the documented protocol, for tests (the real service is not reachable here).

comment-check answers "true" for Akismet's documented test triggers (author `viagra-test-123`,
email `akismet-guaranteed-spam@example.com`) and adds `X-akismet-pro-tip: discard` for the
author `discard-test`; "invalid" with `X-akismet-debug-help` for a wrong key; `fail_next`
makes the next calls answer 503.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

VALID_KEY = "stub-key-123"


class AkismetStub:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, str]]] = []
        self.fail_next = 0
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length", 0))
                fields = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode("utf-8")).items()}
                method = self.path.rsplit("/", 1)[-1]
                stub.calls.append((method, fields))
                if stub.fail_next:
                    stub.fail_next -= 1
                    return self.answer(503, "Service Unavailable")
                if fields.get("api_key") != VALID_KEY:
                    return self.answer(200, "invalid", {"X-akismet-debug-help": "Empty or invalid API key"})
                if not fields.get("blog"):
                    return self.answer(200, "invalid", {"X-akismet-debug-help": "The blog parameter is required"})
                if method == "comment-check":
                    spam = (fields.get("comment_author") in ("viagra-test-123", "discard-test")
                            or fields.get("comment_author_email") == "akismet-guaranteed-spam@example.com")
                    extra = {"X-akismet-pro-tip": "discard"} if fields.get("comment_author") == "discard-test" else {}
                    return self.answer(200, "true" if spam else "false", extra)
                if method in ("submit-spam", "submit-ham"):
                    return self.answer(200, "Thanks for making the web a better place.")
                return self.answer(404, "Not found")

            def answer(self, code: int, body: str, headers: dict[str, str] | None = None) -> None:
                self.send_response(code)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.end_headers()
                self.wfile.write(body.encode("utf-8"))

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)

    def __enter__(self) -> AkismetStub:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def methods(self) -> list[str]:
        return [method for method, _ in self.calls]
