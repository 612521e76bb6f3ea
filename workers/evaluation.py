"""Evaluating the whole engine on labelled comments, deciding exactly as in production.

Each sample goes through the intake's sanitizer into a scratch database, then through
every check and the verdict; only the sender is made up (a distinct address and email
per sample, and a valid form token sent at human speed), because labelled data has none.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sklearn.metrics import matthews_corrcoef

from service import sanitize, status, store, word_lists
from service.db import make_engine, upgrade

from .checks.context import Context
from .classifier import Classifier, Sample
from .verdict import decide

POST_ID = "evaluation"


@dataclass
class Report:
    """Counts of (actual, verdict) pairs and the measures derived from them; spam is the positive class."""

    counts: Counter[tuple[bool, str]]

    def n(self, spam: bool, verdict: str | None = None) -> int:
        return sum(c for (actual, v), c in self.counts.items() if actual == spam and verdict in (None, v))

    @property
    def confusion(self) -> tuple[int, int, int, int]:
        """(tp, fp, tn, fn) with `spam` verdicts as positive predictions (held counts as not spam)."""
        tp, fp = self.n(True, status.SPAM), self.n(False, status.SPAM)
        return tp, fp, self.n(False) - fp, self.n(True) - tp

    def measures(self) -> dict[str, float]:
        tp, fp, tn, fn = self.confusion
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        actual = [True] * (tp + fn) + [False] * (fp + tn)
        predicted = [True] * tp + [False] * fn + [True] * fp + [False] * tn
        total = tp + fp + tn + fn
        return {
            "precision": precision,
            "recall": recall,
            "f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
            "mcc": float(matthews_corrcoef(actual, predicted)) if total else 0.0,
            "accuracy": (tp + tn) / total if total else 0.0,
            "fpr": fp / (fp + tn) if fp + tn else 0.0,
            "held": (self.n(True, status.HELD) + self.n(False, status.HELD)) / total if total else 0.0,
            "spam_published": self.n(True, status.APPROVED) / self.n(True) if self.n(True) else 0.0,
        }

    def lines(self) -> list[str]:
        m = self.measures()
        tp, fp, tn, fn = self.confusion
        rows = [f"{'':>12} {'approved':>9} {'held':>6} {'spam':>6}"]
        for label, spam in (("actual ham", False), ("actual spam", True)):
            rows.append(f"{label:>12} " + " ".join(f"{self.n(spam, v):>{w}}" for v, w in
                                                   ((status.APPROVED, 9), (status.HELD, 6), (status.SPAM, 6))))
        rows.append(f"TP {tp}  FP {fp}  TN {tn}  FN {fn}")
        rows.append("precision {precision:.3f}  recall {recall:.3f}  F1 {f1:.3f}  MCC {mcc:.3f}  "
                    "accuracy {accuracy:.3f}".format(**m))
        rows.append("false-positive rate {fpr:.2%}  held {held:.2%}  spam published {spam_published:.2%}".format(**m))
        return rows


def sender(index: int) -> dict[str, Any]:
    """A distinct, made-up sender per sample, so reputation and burst checks see strangers."""
    return {"ip": f"198.18.{index // 250}.{index % 250 + 1}", "email": f"sample-{index}@example.invalid",
            "user_agent": "Mozilla/5.0 (evaluation)", "signals": {"token": "valid", "age": 60.0}}


def evaluate(samples: Iterable[Sample], config: Mapping[str, Any], classifier: Classifier,
             lists: Mapping[str, list[str]] | None = None,
             progress: Callable[[int], None] | None = None,
             decided: Callable[[Sample, str], None] | None = None) -> Report:
    """Decide every sample with the production checks (and word lists) against a scratch SQLite database.

    `decided(sample, verdict)` runs after each verdict, before the next sample: a moderator's turn, say.
    """
    counts: Counter[tuple[bool, str]] = Counter()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'evaluation.sqlite3'}"
        upgrade(url)
        engine = make_engine(url)
        with engine.begin() as conn:
            for list_name, terms in (lists or {}).items():
                for term in terms:
                    word_lists.add(conn, list_name, term)
        for index, sample in enumerate(samples):
            content = sanitize.sanitize(sample.text, config["SANITIZER"]) or "(empty)"
            values = {"post_id": POST_ID, "author": sample.author or f"Sample {index}", "url": sample.url,
                      "content": content, "original": sample.text, "page": sample.page, **sender(index)}
            if sample.email:
                values["email"] = sample.email
            with engine.begin() as conn:
                comment_id = store.insert_comment(conn, values, status.PENDING)
                comment = store.get_comment(conn, comment_id)
                assert comment is not None
                verdict, score, findings = decide(Context(dict(comment), conn, config, classifier),
                                                  str(config["MODERATION"]))
                store.set_verdict(conn, comment_id, verdict, score, findings, store.SPAM_CHECK)
            counts[(sample.spam, verdict)] += 1
            if decided:
                decided(sample, verdict)
            if progress:
                progress(1)
        engine.dispose()
    return Report(counts)
