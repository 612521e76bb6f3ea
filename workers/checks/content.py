"""The content classifier: what the words say, learned from labelled data and moderators' decisions."""

from __future__ import annotations

from . import Finding
from .context import Context


def check(ctx: Context) -> Finding | None:
    """Below the hold threshold nothing is added; between the thresholds it holds; above, it files as spam.

    The probability is always reported, so a moderator sees what the words alone suggested.
    """
    if ctx.classifier is None:
        return None
    comment = ctx.comment
    probability, telling = ctx.classifier.explain(comment["original"], author=comment["author"],
                                                  email=comment["email"], url=comment.get("url"),
                                                  page=comment.get("page"))
    hold, spam = float(ctx.config["CLASSIFIER_HOLD"]), float(ctx.config["CLASSIFIER_SPAM"])
    if probability >= spam:
        score = 1.0
    elif probability >= hold:
        score = 0.5 + 0.49 * (probability - hold) / (spam - hold)
    else:
        score = 0.0
    because = f" ({', '.join(telling)})" if score and telling else ""
    return Finding("classifier", round(score, 3), f"classifier: {probability:.2f} spam{because}")
