"""The allowed set and the one function that cleans comment HTML, behind two engines (bleach, nh3)."""

from __future__ import annotations

import html
import logging
import re
import threading
from collections import deque
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import nh3
from bleach import html5lib_shim
from bleach._vendor.html5lib.treebuilders import getTreeBuilder
from bleach.linkifier import LinkifyFilter
from bleach.sanitizer import BleachSanitizerFilter, Cleaner

from . import limits

logger = logging.getLogger(__name__)

ALLOWED_TAGS: dict[str, tuple[str, ...]] = {
    "a": ("href", "title"),
    "abbr": ("title",),
    "acronym": ("title",),
    "b": (),
    "blockquote": ("cite",),
    "cite": (),
    "code": (),
    "del": ("datetime",),
    "em": (),
    "i": (),
    "q": ("cite",),
    "strike": (),
    "strong": (),
}
"""Tags a comment may keep, each with the attributes it may keep; the form, /allowed-tags and docs read it."""

ALLOWED_SCHEMES = ("http", "https", "mailto")
"""The only URL schemes kept in href and cite; relative and protocol-relative URLs are dropped too."""

ALLOWED_SENTENCE = "You may use these HTML tags and attributes: " + ", ".join(
    " ".join((tag, *attributes)) for tag, attributes in ALLOWED_TAGS.items()
)
"""The sentence under the comment form, built from ALLOWED_TAGS so the two cannot drift apart."""

ENGINES = ("bleach", "nh3")
"""Engine names sanitize() accepts; bleach is the default because the product was specified with it."""

LINK_REL = "nofollow ugc"
"""The rel every link gets, replacing whatever the commenter wrote: search engines must not credit it."""

URL_ATTRIBUTES = frozenset({"href", "cite"})
"""Allowed attributes whose value is a URL and so must pass the scheme check."""

DROPPED_CONTENT_TAGS = frozenset(
    "script style template noscript iframe object applet embed textarea title xmp noembed noframes plaintext"
    " svg math".split()
)
"""Tags removed with everything inside: their content is code, raw text or foreign markup, not prose."""

MAX_TAGS = 1_000
"""Most '<' a comment may hold, tag or not; html5lib's cost grows with them, not only with bytes."""

MAX_DEPTH = 20
"""Most elements a comment may leave open at once; unclosed formatting tags make html5lib quadratic."""

MAX_MARKUP = 20_000
"""Most characters a comment may hold inside tags; html5lib reads those one at a time, text in runs."""

COMMENT_DASH_WEIGHT = 3
"""A '-' inside an HTML comment counts three times towards MAX_MARKUP: html5lib's comment states read
dashes about three times as slowly as other markup (bench/sanitize.py)."""

MAX_CLONES = 1_000
"""Most formatting elements bleach's parser re-opens per comment; beyond it they stay closed (see below)."""

MAX_TOKENIZER_STEPS = 15_000
"""Most state steps bleach's tokenizer takes per comment (text runs are one step; tags take ~6-9, a
1,000-tag comment ~9,000); beyond it the rest is dropped. A backstop, like MAX_CLONES."""

MAX_ENTITIES = 2_000
"""Most '&' a comment may hold, reference or not; bleach looks up and re-tokenizes around every one."""

# Elements that never hold content, and elements the parser closes by itself when a sibling starts:
# neither can pile up on the parser's stack, so neither counts towards MAX_DEPTH.
_NOT_NESTING = frozenset(
    "area base br col embed hr img input link meta param source track wbr keygen basefont bgsound frame image"
    " p li dt dd option optgroup rb rp rt rtc tr td th thead tbody tfoot caption colgroup".split()
)
# Elements that bound the scope in which an end tag finds its start tag (HTML's "default scope"); td, th
# and caption are left to the table they need around them.
_SCOPE_BARRIERS = frozenset(
    "applet table marquee object template svg math".split()
    + "mi mo mn ms mtext annotation-xml foreignobject desc title".split()  # inside svg and math
)
_MARKUP_START = re.compile(r"<[A-Za-z/!?]")
_TAG_LIKE = re.compile(r"<(/?)([A-Za-z][^\t\n\f\r />]*)")

# WHATWG URL parsing: strip leading/trailing C0 controls and spaces, drop tab/newline anywhere, then a
# scheme is an ASCII letter followed by letters, digits, '+', '-' or '.', ended by the first ':'.
_C0_AND_SPACE = "".join(chr(code) for code in range(0x21))
_TAB_OR_NEWLINE = re.compile("[\t\n\r]")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
_AUTHORITY_END = re.compile(r"[/\\?#]")

# Bare URLs worth a link: http(s):// or www. at a word start, then a whole host a browser accepts (an
# ASCII name whose last label starts with a letter, or an IPv4 address), an optional port and path,
# ending before whitespace, markup or closing punctuation; brackets only in pairs without a '/' (a[1] and
# ?a[]=1 stay, BBCode's ]text[/url] does not). Both engines use this one expression, and
# a link the URL parser would reject is never made (a second pass of nh3 would drop its href).
_URL = re.compile(
    r"""(?<![\w@./-])(?:https?://|www\.)
    (?>(?:[a-z0-9-]+\.)*[a-z][a-z0-9-]*|(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d))
    (?>:(?:6553[0-5]|655[0-2]\d|65[0-4]\d\d|6[0-4]\d{3}|[1-5]\d{4}|\d{1,4}))?(?![\w-]|[:.]\d)
    (?:[/?\#](?:(?:[^\s<>"`{}|\\^\[\]]|\[[^\s<>"`{}|\\^\[\]/]*\])*
                 (?:[^\s<>"`{}|\\^!?:;'*.,\[\]]|\[[^\s<>"`{}|\\^\[\]/]*\]))?)?""",
    re.IGNORECASE | re.VERBOSE,
)
_HAS_SCHEME = re.compile(r"^https?://", re.IGNORECASE)
_LINKIFY_SKIP = frozenset({"code"})
# Invisible control characters (all C0 but tab, newline, carriage return, and DEL): bleach turns them into
# '?' and html5ever keeps them, so both engines get the text without them.
_CONTROL_CHARACTERS = dict.fromkeys([*range(0, 9), 11, 12, *range(14, 32), 127])


def url_scheme(url: str) -> str | None:
    """The lower-cased scheme a browser would read from an (entity-decoded) URL, or None if relative."""
    match = _SCHEME.match(_TAB_OR_NEWLINE.sub("", url.strip(_C0_AND_SPACE)))
    return match.group(1).lower() if match else None


def is_allowed_url(url: str) -> bool:
    """Whether a URL may stay in href or cite: an allowed scheme (never relative), and a host for http(s)."""
    scheme = url_scheme(url)
    if scheme not in ALLOWED_SCHEMES:
        return False
    if scheme == "mailto":
        return True
    # "http:" or "https://:80" fail to parse in a browser (and in nh3), so no engine keeps them.
    rest = _TAB_OR_NEWLINE.sub("", url.strip(_C0_AND_SPACE))[len(scheme) + 1 :].lstrip("/\\")
    host = _AUTHORITY_END.split(rest, maxsplit=1)[0].rpartition("@")[2]
    return bool(host) and not host.startswith(":")


def allowed_tags_payload() -> dict[str, Any]:
    """The body of GET /allowed-tags: the allowed set and the sentence the form shows."""
    return {"tags": {tag: list(attrs) for tag, attrs in ALLOWED_TAGS.items()}, "sentence": ALLOWED_SENTENCE}


def complexity_error(text: str) -> str | None:
    """Why a comment is too costly to sanitize, as a sentence for the user, or None when it is fine.

    A linear scan without an HTML parse, so the guard itself stays cheap; where it cannot tell, it
    over-counts (a '<' in a code sample counts as a tag) rather than under-counts.

    Args:
        text: The comment as submitted.

    Returns:
        An error sentence naming the limit, or None.
    """
    if len(text) > limits.COMMENT:
        return f"Comment is longer than {limits.COMMENT:,} characters."
    # Every '<' costs html5lib a tokenizer round whether or not it starts a tag, every '&' an entity lookup.
    if text.count("<") > MAX_TAGS:
        return f"Comment has too many HTML tags or '<' signs (limit {MAX_TAGS:,})."
    if text.count("&") > MAX_ENTITIES:
        return f"Comment has too many '&' signs and character references (limit {MAX_ENTITIES:,})."
    # The scans below cannot find more markup than the characters plus the dashes' extra weight, nor
    # more open elements than start tags: most comments skip them.
    if len(text) + (COMMENT_DASH_WEIGHT - 1) * text.count("-") > MAX_MARKUP and _markup_length(text) > MAX_MARKUP:
        return (
            f"Comment has too much text inside HTML tags or <!-- --> comments (limit {MAX_MARKUP:,} characters);"
            " is a '<' missing its '>'?"
        )
    if text.count("<") - text.count("</") > MAX_DEPTH and _deepest(text) > MAX_DEPTH:
        return f"Comment nests HTML tags too deeply (limit {MAX_DEPTH:,})."
    return None


def _markup_length(text: str) -> int:
    """Characters from each '<' that starts markup to the next '>': html5lib's slow path, per character.

    An HTML comment runs to its '-->' (or to the end), whatever '>' it holds, and its dashes count
    COMMENT_DASH_WEIGHT times. Blind to quotes, so a quoted '>' can hide the rest of a tag from it;
    MAX_TOKENIZER_STEPS bounds that.
    """
    length = covered = 0
    end = -1
    for match in _MARKUP_START.finditer(text):
        start = match.start()
        if end <= start:
            if text.startswith("<!--", start):
                close = text.find("-->", start + 2)  # from the second '-': "<!-->" is a whole comment
                end = close + 3 if close >= 0 else len(text)
                length += (COMMENT_DASH_WEIGHT - 1) * text.count("-", start, end)
            else:
                end = text.find(">", start) + 1 or len(text)
        length += max(0, end - max(start, covered))
        covered = end
    return length


def _deepest(text: str) -> int:
    """The most elements left open at once, counting an end tag only where the parser would honour it.

    An end tag closes nothing across a scope barrier (table, object, template...) opened after its start
    tag, so such end tags are not counted; that is how unclosed formatting elements pile up unseen.
    """
    depth = deepest = 0
    barriers: list[str] = []
    opened: dict[str, list[int]] = {}  # name -> number of barriers open when each was opened
    for match in _TAG_LIKE.finditer(text):
        slash, name = match.groups()
        name = name.lower()
        if name in _NOT_NESTING:
            continue
        if not slash:
            opened.setdefault(name, []).append(len(barriers))
            if name in _SCOPE_BARRIERS:
                barriers.append(name)
            depth += 1
            deepest = max(deepest, depth)
            continue
        if name in _SCOPE_BARRIERS:
            if not barriers or barriers[-1] != name:
                continue
            barriers.pop()
        starts = opened.get(name)
        if starts and starts[-1] == len(barriers):
            starts.pop()
            depth -= 1
    return deepest


def sanitize(text: str, engine: str = "bleach") -> str:
    """Clean comment HTML down to the allowed set, link bare URLs and mark every link nofollow ugc.

    Args:
        text: The comment as submitted; call complexity_error() first to bound the cost.
        engine: One of ENGINES.

    Returns:
        HTML safe to render inside a page on another site.
    """
    try:
        clean = _ENGINE_FUNCTIONS[engine]
    except KeyError:
        raise ValueError(
            f"Unknown sanitizer engine {engine!r}; expected one of {', '.join(ENGINES)}."
        ) from None
    return clean(text.translate(_CONTROL_CHARACTERS))


# bleach ------------------------------------------------------------------------------------------------


def _bleach_attribute(tag: str, name: str, value: str) -> bool:
    # bleach's tokenizer leaves character references in attribute values; decode them as the browser
    # will before reading the scheme, so that jav&#x61;script: is seen as javascript:.
    if name not in ALLOWED_TAGS.get(tag, ()):
        return False
    return name not in URL_ATTRIBUTES or is_allowed_url(html.unescape(value))


def _drop_content(tokens: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Leave out DROPPED_CONTENT_TAGS and all they contain; the tree walker's tags are balanced."""
    inside = 0
    for token in tokens:
        kind = token["type"]
        if kind in ("StartTag", "EndTag", "EmptyTag") and token["name"] in DROPPED_CONTENT_TAGS:
            inside += {"StartTag": 1, "EndTag": -1}.get(kind, 0)
        elif not inside:
            yield token


class _Attributes(list):
    """A tag's attribute list on which html5lib's duplicate-name check (t[:-1]) sees nothing.

    That check compares each new attribute with all earlier ones, so one tag with 8,000 attributes costs
    seconds; duplicates are still resolved, first one winning, when the tag is emitted.
    """

    def __getitem__(self, index: Any) -> Any:
        if index.__class__ is slice and index.stop == -1:
            return ()
        return list.__getitem__(self, index)


class _BleachTokenizer(html5lib_shim.BleachHTMLTokenizer):
    """Keeps character references as written, without bleach's repairs of malformed tags.

    bleach turns a tag cut off by the end of the text ("a<b") into text; browsers and html5ever drop
    it, and the two engines must agree.
    """

    def __iter__(self) -> Iterator[dict[str, Any]]:
        # HTMLTokenizer.__iter__ with a cap on state steps: some states cost microseconds per character
        # (a tag name, '/' between attributes, '-' in a comment), so past the cap the rest is dropped.
        self.tokenQueue: deque[dict[str, Any]] = deque()
        steps = 0
        while self.state():
            steps += 1
            if steps > MAX_TOKENIZER_STEPS:
                logger.warning("bleach gave up on a comment after %d tokenizer steps", MAX_TOKENIZER_STEPS)
                break
            while self.stream.errors:
                yield {"type": html5lib_shim.TAG_TOKEN_TYPE_PARSEERROR, "data": self.stream.errors.pop(0)}
            while self.tokenQueue:
                yield self.tokenQueue.popleft()

    def attributeNameState(self) -> bool:  # noqa: N802 - html5lib's name
        if type(self.currentToken["data"]) is list:
            self.currentToken["data"] = _Attributes(self.currentToken["data"])
        return bool(super().attributeNameState())


_EtreeTreeBuilder: Any = getTreeBuilder("etree")


class _BleachTreeBuilder(_EtreeTreeBuilder):
    """html5lib's etree builder that stops re-opening unclosed formatting elements after MAX_CLONES.

    Each unclosed <b title=n> is re-created inside every later block, so a few dozen of them cost
    seconds; no linear pre-scan can foresee every way to keep them open, so this is the backstop.
    """

    def reset(self) -> None:
        super().reset()
        self.clones = 0

    def reconstructActiveFormattingElements(self) -> None:  # noqa: N802 - html5lib's name
        if self.clones >= MAX_CLONES:
            return
        before = len(self.openElements)
        super().reconstructActiveFormattingElements()
        self.clones += len(self.openElements) - before


class _BleachParser(html5lib_shim.BleachHTMLParser):
    """bleach's parser with _BleachTokenizer; the body is BleachHTMLParser._parse with the class swapped."""

    def _parse(
        self,
        stream: str,
        innerHTML: bool = False,
        container: str = "div",
        scripting: bool = True,
        **kwargs: Any,
    ) -> None:
        self.innerHTMLMode = innerHTML
        self.container = container
        self.scripting = scripting
        self.tokenizer = _BleachTokenizer(stream=stream, consume_entities=False, parser=self, **kwargs)
        self.reset()
        self.mainLoop()  # no ReparseException: that needs a byte stream with a <meta charset>


class _BleachCleaner(Cleaner):
    """bleach.Cleaner that builds the whole tree as a browser would, then drops, strips and links in one pass.

    bleach's own parser strips disallowed tags before tree building, so it cannot drop a script's
    content and builds a different tree than html5ever; parsing every tag fixes both.
    """

    def __init__(self) -> None:
        super().__init__(
            tags=frozenset(ALLOWED_TAGS),
            attributes=_bleach_attribute,
            protocols=frozenset(ALLOWED_SCHEMES),
            strip=True,
            strip_comments=True,
            filters=[partial(LinkifyFilter, callbacks=[], skip_tags=_LINKIFY_SKIP, url_re=_URL)],
        )
        self.parser = _BleachParser(
            tags=None,
            strip=True,
            consume_entities=False,
            tree=_BleachTreeBuilder,
            namespaceHTMLElements=False,
        )

    def clean(self, text: str) -> str:
        if not text:
            return ""
        stream = BleachSanitizerFilter(
            source=_drop_content(iter(self.walker(self.parser.parseFragment(text)))),
            allowed_tags=self.tags,
            attributes=self.attributes,
            strip_disallowed_tags=True,
            strip_html_comments=True,
            allowed_protocols=self.protocols,
        )
        for filter_class in self.filters:
            stream = filter_class(source=stream)
        return str(self.serializer.render(_rel_on_every_link(stream)))


def _rel_on_every_link(tokens: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Set rel on every <a>, the commenter's and linkify's alike (LinkifyFilter's callbacks miss a link
    nested in another, <a><table><a href=...>)."""
    for token in tokens:
        if token["type"] == "StartTag" and token["name"] == "a":
            token["data"][(None, "rel")] = LINK_REL
        yield token


_bleach_local = threading.local()  # bleach's Cleaner keeps parser state, so one per thread


def _clean_bleach(text: str) -> str:
    cleaner = getattr(_bleach_local, "cleaner", None)
    if cleaner is None:
        cleaner = _bleach_local.cleaner = _BleachCleaner()
    return str(cleaner.clean(text))


# nh3 ---------------------------------------------------------------------------------------------------


def _nh3_attribute(tag: str, name: str, value: str) -> str | None:
    # html5ever has already decoded character references, so value is what the browser sees.
    if name in URL_ATTRIBUTES and not is_allowed_url(value):
        return None
    return value


_nh3_cleaner = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    clean_content_tags=set(DROPPED_CONTENT_TAGS),
    # "*" must be given: ammonia otherwise allows lang and title on every tag.
    attributes={"*": set(), **{tag: set(attrs) for tag, attrs in ALLOWED_TAGS.items()}},
    attribute_filter=_nh3_attribute,
    strip_comments=True,
    link_rel=LINK_REL,
    url_schemes=set(ALLOWED_SCHEMES),
    url_relative="deny",
)

# SVG and MathML element names that ammonia removes together with their text wherever they stand, even
# outside <svg> and <math> and even when allowed (nh3 0.3.8; tests/test_sanitize.py tries every SVG and
# MathML name). bleach, like a browser outside <svg>, reads them as unknown elements and keeps the text:
# "the <text> element" must not lose its words with one engine only.
_NH3_DROPS_TEXT_OF = frozenset(
    (
        "animate circle defs desc discard ellipse filter g line marker mask metadata mpath path pattern polygon"
        " polyline rect set stop switch symbol text tspan use view"
        " annotation annotation-xml maction menclose merror mfenced mfrac mglyph mi mlabeledtr mlongdiv"
        " mmultiscripts mn mo mover mpadded mphantom mprescripts mroot mrow ms mscarries mscarry msgroup"
        " msline mspace msqrt msrow mstack mstyle msub msubsup msup mtable mtd mtext mtr munder munderover"
        " none semantics"
    ).split()
)
# Appended to those names, it makes each an unknown element, which the HTML parser builds exactly as it
# builds the named one outside <svg> and <math> (both dropped whole). A noncharacter, kept for a program's
# own use, so no real comment holds it; the rare text that does is cleaned without renaming.
_RENAMED = "\ufdd0"

# html5ever writes attribute values in double quotes with '>' unescaped, so a tag ends at the first
# '>' outside quotes; text never holds a raw '<'.
_TAG = re.compile(r'(<(?:[^">]|"[^"]*")*>)')
_TAG_NAME = re.compile(r"</?([a-z]+)")


def _clean_nh3(text: str) -> str:
    """nh3 has no linkify, so link the text between the tags of its (well-formed) output."""
    # An attribute value may hold a renamed tag's text ("<a title='<g>'>"): take the mark out again.
    parts = _TAG.split(_nh3_cleaner.clean(_rename_foreign_names(text)).replace(_RENAMED, ""))
    in_a = False
    skipping = False
    for index in range(0, len(parts), 2):
        if index:
            tag = parts[index - 1]
            name_match = _TAG_NAME.match(tag)
            name = name_match.group(1) if name_match else ""
            closing = tag.startswith("</")
            if name == "a":
                in_a = not closing
            elif name in _LINKIFY_SKIP:
                # Like bleach's LinkifyFilter: the first closing tag ends the skip, even when nested.
                skipping = not closing
        if parts[index] and not in_a and not skipping:
            parts[index] = _linkify(parts[index])
    return "".join(parts)


def _rename_foreign_names(text: str) -> str:
    """Mark each tag named in _NH3_DROPS_TEXT_OF with _RENAMED; one scan when there is none, as is usual.

    A single regular expression of the names would try all of them at every '<' (2 µs each).
    """
    names = {name.lower() for _, name in _TAG_LIKE.findall(text)}
    if names.isdisjoint(_NH3_DROPS_TEXT_OF) or _RENAMED in text:
        return text
    return _TAG_LIKE.sub(lambda tag: tag[0] + _RENAMED if tag[2].lower() in _NH3_DROPS_TEXT_OF else tag[0], text)


def _linkify(escaped: str) -> str:
    if "://" not in escaped and "www." not in escaped.lower():
        return escaped  # _URL needs one of the two: most text runs hold no link
    text = html.unescape(escaped)
    pieces: list[str] = []
    end = 0
    for match in _URL.finditer(text):
        url, suffix = _trim_url(match.group(0))
        href = url if _HAS_SCHEME.match(url) else "http://" + url
        pieces += [html.escape(text[end : match.start()], quote=False)]
        pieces += [f'<a href="{html.escape(href)}" rel="{LINK_REL}">{html.escape(url, quote=False)}</a>']
        pieces += [html.escape(suffix, quote=False)]
        end = match.end()
    if not pieces:
        return escaped
    return "".join(pieces) + html.escape(text[end:], quote=False)


def _trim_url(url: str) -> tuple[str, str]:
    """Split trailing ')' ',' '.' off a matched URL exactly as bleach's LinkifyFilter does."""
    suffix = ""
    while url:
        if url.endswith(")") and "(" not in url or url.endswith((",", ".")):
            url, suffix = url[:-1], url[-1] + suffix
        else:
            break
    return url, suffix


_ENGINE_FUNCTIONS: dict[str, Callable[[str], str]] = {"bleach": _clean_bleach, "nh3": _clean_nh3}
