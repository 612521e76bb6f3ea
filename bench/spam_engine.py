"""Leave-one-video-out quality of the whole spam engine, with its thresholds chosen by nested cross-validation.

Run: python bench/spam_engine.py [--data DIR]

For each of the four videos: a classifier is trained on the other three, and every comment of the held-out
video goes through workers.evaluation.evaluate(): the sanitizer, a scratch SQLite database and every
production check, as a worker decides. The engine's classifier thresholds (COMMENTS_CLASSIFIER_HOLD and
COMMENTS_CLASSIFIER_SPAM) for that fold are chosen by a second leave-one-video-out inside the three training
videos only. The same run measures the classifier alone and a TF-IDF logistic regression with the same
nested thresholds, and prints the engine's pooled F1 against both.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.spam_quality import fit_baseline  # noqa: E402
from service import config as settings  # noqa: E402
from service import sanitize, status, store  # noqa: E402
from service.db import make_engine, upgrade  # noqa: E402
from workers.checks.context import Context  # noqa: E402
from workers.classifier import BUNDLED_DIR, Sample, read_labelled, train  # noqa: E402
from workers.evaluation import Report, evaluate, sender  # noqa: E402
from workers.verdict import SEVERITY, run_checks  # noqa: E402

HAM_AS_SPAM_BUDGET = 0.01
"""The goal's false-positive rate: the thresholds must keep ham filed as spam at or under this, inside."""
SPAM_PUBLISHED_BUDGET = 0.02
GRID = [1 / (1 + math.exp(-x)) for x in np.arange(-4.0, 16.01, 0.1)]
"""Candidate classifier thresholds, evenly spaced in log-odds (the model's scores are far from 0.5)."""


@dataclass
class Scored:
    """What the engine needs to decide one video's comments under any classifier thresholds."""

    spam: np.ndarray  # actual label
    other: np.ndarray  # sum of every other check's score
    forced: np.ndarray  # strictest verdict another check forces (0 approved, 1 held, 2 spam)

    def verdicts(self, p: np.ndarray, hold: float, spam: float, config: Mapping[str, Any]) -> np.ndarray:
        """0/1/2 for approved/held/spam, as workers.verdict.combine() with content.check()'s mapping."""
        span = max(spam - hold, 1e-12)
        contribution = np.where(p >= spam, 1.0, np.where(p >= hold, np.round(0.5 + 0.49 * (p - hold) / span, 3), 0))
        total = np.round(self.other + contribution, 4)
        verdict = np.where(total >= config["SPAM_SCORE"], 2, np.where(total >= config["HOLD_SCORE"], 1, 0))
        return np.maximum(verdict, self.forced)


def other_checks(samples: list[Sample], config: Mapping[str, Any]) -> Scored:
    """Every check but the classifier, per comment, in a scratch database as evaluate() builds it."""
    other, forced = [], []
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'engine.sqlite3'}"
        upgrade(url)
        engine = make_engine(url)
        for index, sample in enumerate(samples):
            content = sanitize.sanitize(sample.text, config["SANITIZER"]) or "(empty)"
            values = {"post_id": "evaluation", "author": sample.author or f"Sample {index}", "url": sample.url,
                      "content": content, "original": sample.text, "page": sample.page, **sender(index)}
            with engine.begin() as conn:
                comment = store.get_comment(conn, store.insert_comment(conn, values, status.PENDING))
                assert comment is not None
                findings = run_checks(Context(dict(comment), conn, config, classifier=None))
            other.append(sum(f.score for f in findings))
            forced.append(max([SEVERITY[f.verdict] for f in findings if f.verdict] or [0]))
        engine.dispose()
    return Scored(np.array([s.spam for s in samples]), np.array(other), np.array(forced))


def measures(y: np.ndarray, verdict: np.ndarray) -> dict[str, float]:
    spam_pred = verdict == 2
    tp, fp = int((spam_pred & y).sum()), int((spam_pred & ~y).sum())
    fn = int(y.sum()) - tp
    precision, recall = tp / max(tp + fp, 1), tp / max(tp + fn, 1)
    return {"f1": 2 * precision * recall / max(precision + recall, 1e-12), "fpr": fp / max(int((~y).sum()), 1),
            "held": float((verdict == 1).mean()), "published": float(((verdict == 0) & y).sum() / max(y.sum(), 1))}


def choose(scored: Scored, p: np.ndarray, config: Mapping[str, Any]) -> tuple[float, float, dict[str, float]]:
    """(hold, spam): the best F1 with FPR within budget and published spam within budget, then the fewest held.

    If no pair keeps published spam within budget, that condition is dropped (and the report shows it).
    """
    best: tuple[tuple[float, ...], float, float, dict[str, float]] | None = None
    for spam in GRID:
        for hold in GRID:
            if hold > spam:
                break
            m = measures(scored.spam, scored.verdicts(p, hold, spam, config))
            if m["fpr"] > HAM_AS_SPAM_BUDGET:
                continue
            key = (m["published"] <= SPAM_PUBLISHED_BUDGET, round(m["f1"], 4), -m["held"])
            if best is None or key > best[0]:
                best = (key, hold, spam, m)
    assert best is not None
    return best[1], best[2], best[3]


def joined(parts: list[Scored]) -> Scored:
    return Scored(*(np.concatenate([getattr(s, f) for s in parts]) for f in ("spam", "other", "forced")))


Fit = Callable[[list[Sample]], Callable[[list[Sample]], np.ndarray]]


def inner_probabilities(fit: Fit, videos: dict[str, list[Sample]]) -> np.ndarray:
    """Every training comment's probability from a model that did not see its video."""
    parts = []
    for held in videos:
        predict = fit([s for v, rows in videos.items() if v != held for s in rows])
        parts.append(predict(videos[held]))
    return np.concatenate(parts)


def classifier_fit(rows: list[Sample]) -> Callable[[list[Sample]], np.ndarray]:
    return train(rows).spam_probabilities


def alone(y: np.ndarray, p: np.ndarray, inner_y: np.ndarray, inner_p: np.ndarray) -> np.ndarray:
    """A classifier on its own: spam at the lowest inner threshold within the ham budget (as spam_quality)."""
    ham = np.sort(inner_p[~inner_y])[::-1]
    threshold = float(np.nextafter(ham[int(HAM_AS_SPAM_BUDGET * len(ham))], 1))
    return np.where(p >= threshold, 2, 0)


def confusion_row(name: str, report: Report, hold: float, spam: float) -> str:
    m = report.measures()
    tp, fp, tn, fn = report.confusion
    cells = " | ".join(str(report.n(actual, v)) for actual in (False, True)
                       for v in (status.APPROVED, status.HELD, status.SPAM))
    return (f"| {name} | {cells} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} | {m['mcc']:.3f} | "
            f"{m['fpr']:.2%} | {m['held']:.1%} | {m['spam_published']:.1%} | {hold:.4f} | {spam:.4f} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=BUNDLED_DIR, help="folder of the labelled CSV files")
    args = parser.parse_args()
    started = time.perf_counter()
    base = settings.from_environment({})
    videos = {path.stem.split("-")[-1]: list(read_labelled(path)) for path in sorted(args.data.glob("*.csv"))}
    scored = {video: other_checks(rows, base) for video, rows in videos.items()}
    print("| fold | ham approved | ham held | ham spam | spam approved | spam held | spam spam | precision | "
          "recall | F1 | MCC | FPR | held | spam published | classifier hold | classifier spam |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    reports, alone_verdicts, baseline_verdicts, truth, inner_fits, shipped = [], [], [], [], [], []
    for test in videos:
        training = {v: rows for v, rows in videos.items() if v != test}
        inner_scored = joined([scored[v] for v in training])
        inner_p = inner_probabilities(classifier_fit, training)
        hold, spam, inner = choose(inner_scored, inner_p, base)
        inner_fits.append(inner)
        config = {**base, "CLASSIFIER_HOLD": hold, "CLASSIFIER_SPAM": spam}
        classifier = train([s for rows in training.values() for s in rows])
        report = evaluate(videos[test], config, classifier)
        reports.append(report)
        print(confusion_row(test, report, hold, spam), flush=True)
        y = scored[test].spam
        truth.append(y)
        predicted = scored[test].verdicts(classifier.spam_probabilities(videos[test]), hold, spam, base)
        if [int((predicted == k).sum()) for k in (0, 1, 2)] != [
                report.n(False, s) + report.n(True, s) for s in (status.APPROVED, status.HELD, status.SPAM)]:
            print(f"  note: the threshold replay disagrees with evaluate() on {test}", file=sys.stderr)
        shipped.append(scored[test].verdicts(classifier.spam_probabilities(videos[test]),
                                             float(base["CLASSIFIER_HOLD"]), float(base["CLASSIFIER_SPAM"]), base))
        alone_verdicts.append(alone(y, classifier.spam_probabilities(videos[test]), inner_scored.spam, inner_p))
        baseline_inner = inner_probabilities(fit_baseline, training)
        baseline_p = fit_baseline([s for rows in training.values() for s in rows])(videos[test])
        baseline_verdicts.append(alone(y, baseline_p, inner_scored.spam, baseline_inner))
    pooled = Report(sum((r.counts for r in reports), start=Counter()))
    print(confusion_row("**pooled**", pooled, float("nan"), float("nan")).replace("nan", "—"))
    y = np.concatenate(truth)
    engine_f1 = pooled.measures()["f1"]
    classifier_only = measures(y, np.concatenate(alone_verdicts))
    baseline = measures(y, np.concatenate(baseline_verdicts))
    print(f"\nclassifier alone (nested threshold): F1 {classifier_only['f1']:.3f} at FPR {classifier_only['fpr']:.2%}")
    print(f"TF-IDF + logistic regression alone (nested): F1 {baseline['f1']:.3f} at FPR {baseline['fpr']:.2%}")
    print(f"engine/classifier F1 ratio {engine_f1 / classifier_only['f1']:.3f}, "
          f"engine/baseline F1 ratio {engine_f1 / baseline['f1']:.3f}")
    m = pooled.measures()
    verdict = "PASS" if m["f1"] >= 0.95 and m["fpr"] <= 0.01 else "FAIL"
    print(f"goal F1 >= 0.95 at FPR <= 1 %: {verdict} (F1 {m['f1']:.3f}, FPR {m['fpr']:.2%})")
    fixed = measures(y, np.concatenate(shipped))
    print(f"not nested, for reference only: the shipped defaults (classifier hold {base['CLASSIFIER_HOLD']:g}, "
          f"spam {base['CLASSIFIER_SPAM']:g}, chosen on all four videos) on every fold: F1 {fixed['f1']:.3f}, "
          f"FPR {fixed['fpr']:.2%}, held {fixed['held']:.1%}, spam published {fixed['published']:.1%}")
    hold, spam, inner = choose(joined(list(scored.values())), inner_probabilities(classifier_fit, videos), base)
    print(f"recommended defaults for a model trained on all four videos (same rule, leave-one-video-out over "
          f"the four): COMMENTS_CLASSIFIER_HOLD={hold:.4f} COMMENTS_CLASSIFIER_SPAM={spam:.4f} "
          f"(inside: F1 {inner['f1']:.3f}, FPR {inner['fpr']:.2%}, held {inner['held']:.1%}, "
          f"spam published {inner['published']:.1%})")
    print(f"elapsed {time.perf_counter() - started:.0f} s")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
