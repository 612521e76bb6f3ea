"""Links: too many (WordPress's `comment_max_links`), BBCode links, text that is mostly links, a URL as name."""

from __future__ import annotations

import re

from . import Finding
from .context import Context

ANCHOR = re.compile(r"<a\s[^>]*>(.*?)</a>", re.IGNORECASE | re.DOTALL)
BBCODE = re.compile(r"\[url(?:=[^\]]*)?\]", re.IGNORECASE)
TAG = re.compile(r"<[^>]+>")
URLISH = re.compile(r"^(?:https?://|www\.)\S+$|^[\w-]+(?:\.[\w-]+)*\.(?:com|net|org|info|biz|ru|xyz|top)\b",
                    re.IGNORECASE)
MOSTLY_LINKS = 0.6
"""Share of visible text inside links above which a comment reads as a link drop."""


def count_links(content: str) -> int:
    """Links in the sanitized content; bare URLs were already turned into links by the sanitizer."""
    return len(ANCHOR.findall(content))


def check(ctx: Context) -> list[Finding]:
    content, original = ctx.comment["content"], ctx.comment["original"]
    limit = int(ctx.config["MAX_LINKS"])
    findings = []
    links = count_links(content)
    if limit and links >= limit:
        findings.append(Finding("links", 0.5, f"{links} links (limit {limit - 1})"))
    if bbcode := len(BBCODE.findall(original)):
        findings.append(Finding("links", 0.5, f"{bbcode} BBCode link{'s' * (bbcode > 1)} ([url])"))
    text = TAG.sub("", content).strip()
    linked = sum(len(TAG.sub("", inner)) for inner in ANCHOR.findall(content))
    if links and text and linked / len(text) > MOSTLY_LINKS:
        findings.append(Finding("links", 0.4, f"{round(100 * linked / len(text))} % of the text is links"))
    if URLISH.search(ctx.comment["author"].strip()):
        findings.append(Finding("links", 0.4, "the name is a web address"))
    return findings
