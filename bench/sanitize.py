"""Worst-case CPU cost of complexity_error() + sanitize() per engine, against the 100 ms budget.

Run as `python bench/sanitize.py`; exits 1 if any input accepted by complexity_error() costs more than
the budget. Inputs are built just under the caps (MAX_TAGS, MAX_DEPTH, MAX_ENTITIES, MAX_MARKUP, the
comment length), since anything over them is refused by the cheap pre-scan before any parse, or slip
past the pre-scan (a quoted '>') to reach bleach's backstops (MAX_TOKENIZER_STEPS, MAX_CLONES).
"""

from __future__ import annotations

import logging
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from service import limits  # noqa: E402
from service.sanitize import (  # noqa: E402
    COMMENT_DASH_WEIGHT,
    ENGINES,
    MAX_DEPTH,
    MAX_ENTITIES,
    MAX_MARKUP,
    MAX_TAGS,
    complexity_error,
    sanitize,
)

BUDGET_MS = 100.0
REPEATS = 5
LENGTH = limits.COMMENT
DASHES = MAX_MARKUP // COMMENT_DASH_WEIGHT - 10
"""The most dashes an HTML comment may hold and pass the pre-scan (each counts three times as markup)."""
WORDS = "the quick brown fox jumps over a lazy dog and keeps on running "
FORMATTING = ["b", "i", "em", "strong", "code", "a", "strike", "u", "s", "small", "big", "tt", "font", "nobr"]


def fill(body: str, unit: str = WORDS, length: int = LENGTH) -> str:
    """Pad body with plain words up to the comment length limit, so every input is as long as allowed."""
    padding = (unit * (length // len(unit) + 1))[: max(0, length - len(body))]
    return body + padding


def repeat(unit: str, length: int = LENGTH) -> str:
    return (unit * (length // len(unit) + 1))[:length]


def tag_soup() -> str:
    """Every kind of markup the parser treats specially, each closed again so the depth cap is not hit."""
    kinds = [
        "<b>x</b>",
        "<i><b>x</i></b>",
        "<a href='http://x.example/' onclick=y>x</a>",
        "<p>x",
        "<div>x</div>",
        "<table><tr><td>x<td>y</table>",
        "<ul><li>x<li>y</ul>",
        "<select><option>x</select>",
        "<script>x</script>",
        "<style>x</style>",
        "<svg><g>x</g></svg>",
        "<img src=x onerror=alert(1)>",
        "<br>",
        "<!-- c -->",
        "<q cite='javascript:x'>x</q>",
        "<font color=red>x</font>",
        "<textarea>x</textarea>",
        "<xmp>x</xmp>",
        "<noscript>x</noscript>",
        "<iframe>x</iframe>",
        "<math><mi>x</mi></math>",
        "<code>x</code>",
        "<blockquote>x</blockquote>",
        "<u><s>x</u></s>",
        "<template>x</template>",
        "<object>x</object>",
        "<title>x</title>",
        "</nope>",
        "<!doctype html>",
        "<?php x ?>",
        "<a><a>x</a></a>",
        "<table><b>x</b></table>",
    ]
    tags_per_round = sum(kind.count("<") for kind in kinds)
    return fill("".join(f"{kind} w{n} " for n in range(MAX_TAGS // tags_per_round) for kind in kinds))


def reconstruct_clones() -> str:
    """Unclosed formatting elements that html5lib re-creates for every later block: the quadratic case."""
    opened = "".join(f"<{FORMATTING[n % 14]} title={n}>" for n in range(MAX_DEPTH - 1))
    blocks = "<div>x</div>" * ((MAX_TAGS - MAX_DEPTH - 1) // 2)
    return fill("<div>" + opened + "</div>" + blocks)


def reopened_per_paragraph() -> str:
    """Each <p> closes the last one, and the formatting elements re-created in it, which it re-creates."""
    opened = "<p>" + "".join(f"<{FORMATTING[n % 14]} title={n}>" for n in range(MAX_DEPTH))
    return fill(opened + "<p>x" * (MAX_TAGS - MAX_DEPTH - 1))


def kept_open_across_barriers() -> str:
    """End tags behind a <table> close nothing, so formatting elements stay listed while looking closed."""
    leaks = MAX_TAGS // 12
    kept = "".join(f"<b title={n}><table></b></table>" for n in range(leaks))
    return fill("<div>" + kept + "</div>" + "<p>x" * (MAX_TAGS - 4 * leaks - 2))


def misnested() -> str:
    pairs = MAX_TAGS // 4
    return fill("".join(f"<b title={n}><i>x</b>y</i>" for n in range(pairs)))


def attribute_flood() -> str:
    attributes = "".join(f" a{n}=v" for n in range(LENGTH // 8))
    return ("<b" + attributes)[: LENGTH - 4] + ">x</b>"


def duplicate_attributes() -> str:
    return ("<a" + " title" * (LENGTH // 6))[: LENGTH - 6] + ">x</a>"


def long_attribute() -> str:
    return '<a href="http://x.example/' + "y" * (LENGTH - 60) + '" title="t">link</a>'


def entity_flood(entity: str) -> str:
    return fill(entity * MAX_ENTITIES, " x ")


def url_text() -> str:
    return repeat("see http://example.com/a/b?c=d, or www.example.org. ")


def normal_comment() -> str:
    """About 1 KB of what commenters write: a few allowed tags, a link, a quote, an entity."""
    return (
        "<p>Thanks for the write-up! I tried the <code>--fast</code> flag on our build and it went from "
        "<b>12 minutes</b> to <i>about four</i>. A few notes:</p>\n"
        '<blockquote cite="https://example.com/post">Caching is the only honest optimisation.</blockquote>\n'
        "I'd disagree a little &mdash; see https://example.org/blog/caching-considered-harmful for the "
        'counter-argument, and <a href="https://docs.example.net/cache" title="docs">the docs</a>. '
        'Also <abbr title="Continuous Integration">CI</abbr> runners don\'t keep the cache between jobs '
        'unless you ask, which <em>nobody</em> does. <del datetime="2024-01-01">It\'s fine.</del> '
        'It\'s <strong>mostly</strong> fine. Anyway: <q cite="http://example.com">measure first</q>.\n'
        "P.S. www.example.com/faq answers the Windows question. <script>alert('hi')</script>"
    )


CASES: dict[str, Callable[[], str]] = {
    "plain text 64 KB": lambda: repeat(WORDS),
    "one word 64 KB": lambda: repeat("x"),
    "'<' x 64 KB (over the cap)": lambda: repeat("<"),
    "'<1' x 32 K (over the cap)": lambda: repeat("<1"),
    "'&' x 64 KB (over the cap)": lambda: repeat("&"),
    f"'<' x {MAX_TAGS} and words": lambda: fill("<" * MAX_TAGS),
    f"'a < b' x {MAX_TAGS}": lambda: fill("a < b; " * MAX_TAGS),
    f"'&' x {MAX_ENTITIES} and words": lambda: fill("&" * MAX_ENTITIES),
    "URL-laden text 64 KB": url_text,
    f"tag soup, {MAX_TAGS} tags": tag_soup,
    f"allowed tags x {MAX_TAGS}": lambda: fill(
        "<b>x</b> <a href='https://e.example/'>y</a> " * (MAX_TAGS // 4)
    ),
    f"nested unclosed x {MAX_DEPTH}": lambda: fill(
        "".join(f"<{FORMATTING[n % 14]}>" for n in range(MAX_DEPTH))
    ),
    f"nested divs x {MAX_DEPTH}, closed": lambda: fill("<div>" * MAX_DEPTH + "x" + "</div>" * MAX_DEPTH),
    "re-created formatting, <div>": reconstruct_clones,
    "re-created formatting, <p>": reopened_per_paragraph,
    "formatting kept across <table>": kept_open_across_barriers,
    "misnested <b><i></b></i>": misnested,
    "attribute flood, 1 tag": attribute_flood,
    "duplicate attributes, 1 tag": duplicate_attributes,
    "64 KB attribute value": long_attribute,
    "'/' between attributes (over the cap)": lambda: "<b" + repeat("/", LENGTH - 2),
    f"'/' x {MAX_MARKUP} in a tag": lambda: fill("<b" + "/" * (MAX_MARKUP - 3) + ">"),
    "quoted '>', then '/' x 64 K": lambda: '<b title=">" ' + repeat("/a", LENGTH - 14),
    "quoted '>', then '=' x 64 K": lambda: '<b title=">" ' + repeat("= ", LENGTH - 14),
    "'-' x 64 K in a comment": lambda: "<!--" + repeat("-", LENGTH - 4),
    f"'-' x {DASHES} in a comment": lambda: fill("<!--" + "-" * DASHES + "-->"),
    "'>' in a comment, then '-' x 64 K": lambda: "<!-- > " + repeat("-", LENGTH - 7),
    f"attribute flood, {MAX_MARKUP // 1000} KB tag": lambda: fill(attribute_flood()[: MAX_MARKUP - 10] + ">"),
    "quoted '>', then a 64 KB name": lambda: "<b title='>' " + repeat("a1", LENGTH - 14),
    f"'&lt;' x {MAX_ENTITIES}": lambda: entity_flood("&lt;"),
    f"'&#x61;' x {MAX_ENTITIES}": lambda: entity_flood("&#x61;"),
    "'&amp' x 16 K (over the cap)": lambda: repeat("&amp"),
    f"comments x {MAX_TAGS}": lambda: fill("<!-- c -->x" * MAX_TAGS),
    f"end tags x {MAX_TAGS}": lambda: fill("</b>x" * MAX_TAGS),
}


def cpu_ms(function: Callable[[], object], repeats: int = REPEATS) -> float:
    """Median process CPU time of function() in milliseconds."""
    samples = []
    for _ in range(repeats):
        start = time.process_time()
        function()
        samples.append((time.process_time() - start) * 1000)
    return statistics.median(samples)


def guarded(text: str, engine: str) -> Callable[[], object]:
    """What the submission layer does: the pre-scan, then sanitize only if the pre-scan passes."""
    return lambda: complexity_error(text) or sanitize(text, engine)


def main() -> int:
    logging.disable(logging.WARNING)  # the backstops log each time they cut a comment
    print(
        f"{'input':38} {'chars':>7} {'refused':>8} " + " ".join(f"{engine + ' ms':>10}" for engine in ENGINES)
    )
    worst = {engine: (0.0, "") for engine in ENGINES}
    for name, build in CASES.items():
        text = build()
        refused = complexity_error(text) is not None
        row = f"{name:38} {len(text):>7} {'yes' if refused else 'no':>8} "
        for engine in ENGINES:
            ms = cpu_ms(guarded(text, engine))
            worst[engine] = max(worst[engine], (ms, name))
            row += f"{ms:>10.1f} "
        print(row.rstrip())
    failed = False
    print()
    for engine, (ms, name) in worst.items():
        verdict = "PASS" if ms <= BUDGET_MS else "FAIL"
        failed |= verdict == "FAIL"
        print(f"worst {engine:6} {ms:6.1f} ms ({name}) -> {verdict} against {BUDGET_MS:.0f} ms")
    comment = normal_comment()
    times = {engine: cpu_ms(lambda e=engine: sanitize(comment, e), 51) for engine in ENGINES}
    print(
        f"normal {len(comment)}-char comment: bleach {times['bleach']:.2f} ms, nh3 {times['nh3']:.3f} ms, "
        f"bleach/nh3 = {times['bleach'] / times['nh3']:.0f}x"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
