"""Leave-one-video-out quality of workers.classifier against a TF-IDF logistic-regression baseline.

Run: python bench/spam_quality.py

Thresholds are chosen inside each training split (its own leave-one-video-out), never on the test video.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    matthews_corrcoef,
    precision_score,
    recall_score,
)
from sklearn.pipeline import make_pipeline, make_union

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from workers.classifier import (  # noqa: E402
    BUNDLED_DIR,
    HOLD_THRESHOLD,
    SPAM_THRESHOLD,
    Sample,
    normalize,
    read_labelled,
    train,
)

HAM_AS_SPAM_BUDGET = 0.01
SPAM_PUBLISHED_BUDGET = 0.02

Fit = Callable[[list[Sample]], Callable[[list[Sample]], np.ndarray]]


def fit_classifier(rows: list[Sample]) -> Callable[[list[Sample]], np.ndarray]:
    return train(rows).spam_probabilities


def fit_baseline(rows: list[Sample]) -> Callable[[list[Sample]], np.ndarray]:
    """Plain word 1-2 gram + char_wb 2-5 gram TF-IDF and logistic regression on the same clean text."""
    pipe = make_pipeline(
        make_union(
            TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
            TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True),
        ),
        LogisticRegression(C=10, max_iter=2000),
    )
    pipe.fit([normalize(s.text) for s in rows], [s.spam for s in rows])
    return lambda test: pipe.predict_proba([normalize(s.text) for s in test])[:, 1]


def out_of_video(fit: Fit, videos: dict[str, list[Sample]]) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities for every row from a model that never saw that row's video."""
    probs, labels = [], []
    for held in videos:
        predict = fit([s for v, rows in videos.items() if v != held for s in rows])
        probs.append(predict(videos[held]))
        labels.append(np.array([s.spam for s in videos[held]]))
    return np.concatenate(probs), np.concatenate(labels)


def choose_thresholds(p: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(T_spam, T_hold): lowest T_spam within the ham budget, highest T_hold within the missed-spam budget."""
    ham = np.sort(p[~y])[::-1]
    t_spam = float(np.nextafter(ham[int(HAM_AS_SPAM_BUDGET * len(ham))], 1))
    spam = np.sort(p[y])
    t_hold = float(spam[int(SPAM_PUBLISHED_BUDGET * len(spam))])
    return t_spam, min(t_hold, t_spam)


def scores(y: np.ndarray, p: np.ndarray, t_spam: float, t_hold: float) -> list[float]:
    pred = p >= t_spam
    tn, fp, fn, tp = confusion_matrix(y, pred, labels=[False, True]).ravel()
    held = (p >= t_hold) & ~pred
    return [
        tp,
        fp,
        tn,
        fn,
        precision_score(y, pred, zero_division=0),
        recall_score(y, pred),
        f1_score(y, pred),
        matthews_corrcoef(y, pred),
        accuracy_score(y, pred),
        fp / (fp + tn),
        held.mean(),
        (y & (p < t_hold)).sum() / y.sum(),
        (~y & pred).sum() / (~y).sum(),
    ]


HEAD = (
    "| fold | TP | FP | TN | FN | prec | recall | F1 | MCC | acc | FPR"
    " | held | spam pub. | ham as spam | T_spam | T_hold |"
)


def row(name: str, s: Sequence[float], t: tuple[float, float]) -> str:
    counts = " | ".join(str(int(v)) for v in s[:4])
    rates = " | ".join(f"{v:.3f}" for v in s[4:])
    return f"| {name} | {counts} | {rates} | {t[0]:.3f} | {t[1]:.3f} |"


def evaluate(name: str, fit: Fit, videos: dict[str, list[Sample]]) -> float:
    print(f"\n### {name}\n\n{HEAD}\n|" + "---|" * 16)
    all_y, all_p, all_t = [], [], []
    for test in videos:
        training = {v: rows for v, rows in videos.items() if v != test}
        t = choose_thresholds(*out_of_video(fit, training))
        p = fit([s for rows in training.values() for s in rows])(videos[test])
        y = np.array([s.spam for s in videos[test]])
        print(row(test, scores(y, p, *t), t))
        all_y.append(y)
        all_p.append(np.where(p >= t[0], 2, np.where(p >= t[1], 1, 0)))
        all_t.append(t)
    y, verdict = np.concatenate(all_y), np.concatenate(all_p)
    pooled = scores(y, verdict.astype(float), 2, 1)
    print(row("**pooled**", pooled, tuple(np.mean(all_t, axis=0))) + "  (mean thresholds)")
    return float(pooled[6])


def main() -> None:
    started = time.perf_counter()
    videos = {
        path.stem.split("-")[1]: list(read_labelled(path)) for path in sorted(BUNDLED_DIR.glob("*.csv"))
    }
    f1 = evaluate("workers.classifier", fit_classifier, videos)
    base = evaluate("baseline: TF-IDF word 1-2 + char_wb 2-5, LogisticRegression", fit_baseline, videos)
    t_spam, t_hold = choose_thresholds(*out_of_video(fit_classifier, videos))
    print(f"\npooled F1 ratio classifier/baseline: {f1 / base:.3f}")
    print(
        f"recommended for a model trained on all four videos: T_spam = {t_spam:.2f}, T_hold = {t_hold:.2f}"
        f" (in workers/classifier.py: {SPAM_THRESHOLD}, {HOLD_THRESHOLD})"
    )
    print(f"elapsed {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
