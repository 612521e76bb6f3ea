"""Combining the checks' findings into approved, held or spam, with the moderation policy on top."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection

from service import status, store

from .checks import Finding, links

HOLD_SCORE = 0.5
"""A total score at or above this holds the comment for a moderator."""
SPAM_SCORE = 1.0
"""A total score at or above this files the comment as spam."""
SEVERITY = {status.APPROVED: 0, status.HELD: 1, status.SPAM: 2}


def run_checks(conn: Connection, comment: Mapping[str, Any], config: Mapping[str, Any]) -> list[Finding]:
    findings = [links.check(comment, config["MAX_LINKS"])]
    return [finding for finding in findings if finding is not None]


def combine(findings: list[Finding]) -> tuple[str, float]:
    """Sum the scores against the thresholds; a finding's forced verdict can only make it stricter."""
    score = round(sum(finding.score for finding in findings), 4)
    verdict = status.SPAM if score >= SPAM_SCORE else status.HELD if score >= HOLD_SCORE else status.APPROVED
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


def decide(
    conn: Connection, comment: Mapping[str, Any], config: Mapping[str, Any]
) -> tuple[str, float, list[dict[str, Any]]]:
    """The verdict, the score and every reason, ready to store."""
    findings = run_checks(conn, comment, config)
    verdict, score = combine(findings)
    if policy := apply_policy(conn, comment, verdict, config["MODERATION"]):
        findings.append(policy)
        verdict = status.HELD
    return verdict, score, [finding.as_dict() for finding in findings]
