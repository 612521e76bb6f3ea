"""A real server thread and a real headless Chromium (Debian's), instrumented to catch any script that runs."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from werkzeug.serving import make_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

TRAPS = """
window.__xss = [];
window.xss = (n) => window.__xss.push(String(n));
for (const name of ["alert", "confirm", "prompt", "print"]) {
  window[name] = (...args) => window.__xss.push(name + ":" + args.join(","));
}
"""
"""Installed before any page script: a payload that runs leaves a mark in window.__xss."""


@contextmanager
def live_server(app: Flask) -> Iterator[str]:
    """Serve the app on a free loopback port from a thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@dataclass
class Watch:
    """What a page did that it should not: dialogs, requests to other origins, navigations away."""

    origin: str
    dialogs: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    navigations: list[str] = field(default_factory=list)

    def attach(self, context: Any, page: Any) -> None:
        def route(route: Any) -> None:
            if route.request.url.startswith(self.origin):
                route.continue_()
            else:
                self.foreign_requests.append(route.request.url)
                route.abort()

        context.route("**/*", route)
        page.on("dialog", lambda dialog: (self.dialogs.append(dialog.message), dialog.dismiss()))
        page.on("framenavigated", lambda frame: None if frame.url.startswith((self.origin, "about:"))
                else self.navigations.append(frame.url))


@contextmanager
def watched_page(chromium: Any, base: str) -> Iterator[tuple[Any, Watch]]:
    """A page of a fresh context on `base`, watched, with TRAPS installed before any page script runs."""
    context = chromium.new_context(base_url=base)
    page = context.new_page()
    watch = Watch(base)
    watch.attach(context, page)
    page.add_init_script(TRAPS)
    try:
        yield page, watch
    finally:
        context.close()


def launch(playwright: Any) -> Any:
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
