"""worker_kill."""

from __future__ import annotations

from .harness import Report


def run(report: Report, model_path: str) -> None:
    raise NotImplementedError
