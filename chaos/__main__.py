"""Run every chaos scenario (`python -m chaos`) or the named ones (`python -m chaos load redis-down`).

Exits non-zero when any check of any scenario fails.
"""

from __future__ import annotations

import os
import sys
import time
import traceback
from types import ModuleType

from . import database_down, duplicates, load, redis_down, worker_kill
from .harness import Report, folder

SCENARIOS: dict[str, ModuleType] = {
    "load": load,
    "redis-down": redis_down,
    "worker-kill": worker_kill,
    "database-down": database_down,
    "duplicates": duplicates,
}


def main(names: list[str]) -> int:
    unknown = [name for name in names if name not in SCENARIOS]
    if unknown:
        print(f"unknown scenario {', '.join(unknown)}; choose from {', '.join(SCENARIOS)}")
        return 2
    from workers.classifier import default_model

    results: dict[str, tuple[bool, float]] = {}
    with folder() as shared:
        model_path = os.path.join(shared, "classifier.joblib")
        default_model().save(model_path)  # trained once, shared by every worker of every scenario
        for name in names or list(SCENARIOS):
            module = SCENARIOS[name]
            print(f"== {name}: {(module.__doc__ or '').splitlines()[0]}", flush=True)
            report, started = Report(name), time.monotonic()
            try:
                module.run(report, model_path)
            except Exception:  # noqa: BLE001 - a scenario that crashes is a failed scenario, the others still run
                traceback.print_exc()
                report.check("scenario ran to the end", False)
            results[name] = (report.ok, time.monotonic() - started)
            print(f"== {name}: {'PASS' if report.ok else 'FAIL'} in {results[name][1]:.0f} s\n", flush=True)
    for name, (ok, seconds) in results.items():
        print(f"{'PASS' if ok else 'FAIL'}  {name:<14} {seconds:6.0f} s")
    return 0 if all(ok for ok, _ in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
