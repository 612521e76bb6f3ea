"""Running the checks and combining their findings into approved, held or spam, with the policy on top."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Connection

from service import status, store

from .akismet import AkismetUnavailable
from .checks import Finding, akismet, bursts, content, form_traps, links, reputation, word_lists
from .checks.context import Context

logger = logging.getLogger(__name__)

Check = Callable[[Context], Finding | list[Finding] | None]
CHECKS: tuple[tuple[str, Check], ...] = (
    ("form", form_traps.check),
    ("links", links.check),
    ("word list", word_lists.check),
    ("reputation", reputation.check),
    ("bursts", bursts.check),
    ("classifier", content.check),
    ("akismet", akismet.check),
)
SEVERITY = {status.APPROVED: 0, status.HELD: 1, status.SPAM: 2}


def run_checks(ctx: Context) -> list[Finding]:
    """Every check's findings. A check that errs holds the comment with the error as its reason;
    only Akismet being unreachable is raised, so the job retries later."""
    findings: list[Finding] = []
    for name, check in CHECKS:
        try:
            result = check(ctx)
        except AkismetUnavailable:
            raise
        except Exception as error:  # noqa: BLE001 - any failure must hold, never approve or lose the comment
            logger.exception("comment %s: %s check failed", ctx.comment["id"], name)
            result = Finding(name, 0.0, f"{name} check failed: {type(error).__name__}: {error}"[:300], status.HELD)
        if isinstance(result, Finding):
            findings.append(result)
        elif result:
            findings.extend(result)
    return findings


def combine(findings: list[Finding], hold: float, spam: float) -> tuple[str, float]:
    """Sum the scores against the thresholds; a finding's forced verdict can only make it stricter."""
    score = round(sum(finding.score for finding in findings), 4)
    verdict = status.SPAM if score >= spam else status.HELD if score >= hold else status.APPROVED
    for finding in findings:
        if finding.verdict and SEVERITY[finding.verdict] > SEVERITY[verdict]:
            verdict = finding.verdict
    return verdict, score


def apply_policy(conn: Connection, comment: Mapping[str, Any], verdict: str, policy: str) -> Finding | None:
    """COMMENTS_MODERATION on top of the checks: `all` holds everything, `first-time` unknown authors."""
    if verdict != status.APPROVED:
        return None
    if policy == "all":
        return Finding("policy", 0.0, "moderation policy holds every comment", status.HELD)
    if policy == "first-time" and not store.has_approved_comment(conn, comment["email"]):
        return Finding("policy", 0.0, "first comment from this author", status.HELD)
    return None


def decide(ctx: Context, policy: str) -> tuple[str, float, list[dict[str, Any]]]:
    """The verdict, the score and every reason, ready to store."""
    findings = run_checks(ctx)
    verdict, score = combine(findings, float(ctx.config["HOLD_SCORE"]), float(ctx.config["SPAM_SCORE"]))
    if rule := apply_policy(ctx.conn, ctx.comment, verdict, policy):
        findings.append(rule)
        verdict = status.HELD
    return verdict, score, [finding.as_dict() for finding in findings]
