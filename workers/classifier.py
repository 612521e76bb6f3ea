"""The content classifier: text clean-up, features, a linear model that learns online, and its file."""

from __future__ import annotations

import csv
import html
import json
import logging
import math
import os
import pickle
import re
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from bleach.sanitizer import Cleaner
from scipy import sparse
from sklearn.feature_extraction import FeatureHasher
from sklearn.linear_model import LogisticRegression, SGDClassifier

logger = logging.getLogger(__name__)

FEATURE_VERSION = 4
"""Bumped whenever features() or the model file change meaning; a file with another version is refused on load.

2: the form fields got their own feature block; the model is a plain and a naive-Bayes-weighted SGD pair.
3: a link to the page the comment was written on is one feature of its own instead of a link's shape.
4: a third member, a logistic regression on idf-weighted features."""

N_FEATURES = 2**18
"""Hashed feature space: no vocabulary to refit on learn(), and a 2 MB weight vector."""

ALPHA = 3e-5
"""L2 strength of both SGD models (out-of-video F1 0.951 against 0.944 at 1e-4, bench/spam_engine.py)."""

NB_SMOOTHING = 1.0
"""Laplace smoothing of the per-feature document counts behind the naive-Bayes log-count ratios."""

LR_C = 10.0
"""Inverse L2 strength of the logistic regression member: the TF-IDF baseline's (bench/spam_quality.py)."""

SPAM_THRESHOLD = 0.74
"""p >= this: spam. Leave-one-video-out on the bundled data: ham-as-spam <= 1 % (bench/spam_quality.py). The
service's COMMENTS_CLASSIFIER_SPAM (0.82) keeps a margin above it: at 0.74 the budget is nearly all used."""

HOLD_THRESHOLD = 0.11
"""HOLD_THRESHOLD <= p < SPAM_THRESHOLD: held for a moderator, so that <= 2 % of spam is published."""

BUNDLED_DIR = Path(__file__).parent / "data" / "spam"

_CLEANER = Cleaner(tags=set(), attributes={}, strip=True)
_LINK = re.compile(r"""<a\b[^>]*?\bhref\s*=\s*(["'])(.*?)\1[^>]*>(.*?)</a\s*>""", re.I | re.S)
_BREAK = re.compile(r"<br\s*/?>|</p\s*>", re.I)
_URL = re.compile(
    r"(?:https?://|www\.)[^\s<>\"']+"
    r"|\b(?:[a-z0-9-]+\.)+(?:com|net|org|info|biz|io|co|me|tv|ly|be|us|uk|de|pl|ru|se|xyz)\b(?:/[^\s<>\"']*)?",
    re.I,
)
_WORD = re.compile(r"\w\w+|[!?$€£]")
_SPACE = re.compile(r"\S+")


class StaleModel(ValueError):
    """A model file written for another FEATURE_VERSION: it must be retrained, not read."""


@dataclass(frozen=True)
class Sample:
    """One labelled comment; author/email/url are the optional form fields."""

    text: str
    spam: bool
    author: str | None = None
    email: str | None = None
    url: str | None = None
    page: str | None = None  # the address of the page the comment was written on


def normalize(text: str) -> str:
    """Plain text as the sanitizer would leave it, so training rows look like production comments."""

    def unlink(match: re.Match[str]) -> str:
        href, label = match.group(2), match.group(3)
        return label if label.strip() == href.strip() else f"{label} {href} "

    if "<" in text:
        text = _BREAK.sub("\n", _LINK.sub(unlink, text))
    if "<" in text or "&" in text:
        text = _CLEANER.clean(text)
    return html.unescape(text).replace("\ufeff", "").strip()


def _bucket(n: float) -> int:
    return int(math.log2(1 + n))


def _url_tokens(url: str, prefix: str) -> Iterator[str]:
    """Domain, TLD, depth and path shape: what kind of link, without memorising each link."""
    rest = re.sub(r"^(?:https?://)?(?:www\.)?", "", url.rstrip(".,;:!?)"))
    host, _, after = rest.partition("/")
    path, _, query = after.partition("?")
    parts = host.split(".")
    domain = ".".join(parts[-2:])
    segments = [s for s in path.split("/") if s]
    first = segments[0] if segments else ""
    shape = first if re.fullmatch(r"[a-z]{1,12}", first) else ("<id>" if first else "")
    yield f"{prefix}dom:{domain}"
    yield f"{prefix}tld:{parts[-1]}"
    yield f"{prefix}depth:{min(len(segments), 3)}"
    yield f"{prefix}p1:{domain}/{shape}"
    for key in re.findall(r"(?:^|&)([a-z_]{1,12})=", query):
        yield f"{prefix}q:{key}"


_PAGE_NAME = re.compile(r"[\w-]{6,}")

SHORT_HOSTS = {"youtube.com": ("youtu.be",)}
"""Other hosts of a site's own short links to its pages, by the site's host: the bundled comments link their
video as youtu.be/<video id> more often than on youtube.com."""


def _parts(url: str) -> tuple[str, list[str], list[str]]:
    """The host (no "www.", no port), path segments and query values of a lower-case address, scheme or not."""
    # A browser reads a backslash as "/" in a web address, so "spam.example<backslash>@blog.example/" is spam.example.
    rest = re.sub(r"^(?:https?://)?", "", url.rstrip(".,;:!?)").replace("\\", "/")).partition("#")[0]
    address, _, query = rest.partition("?")
    host, *path = address.split("/")
    host = host.partition(":")[0].removeprefix("www.")
    return host, [s for s in path if s], [v for _, _, v in (p.partition("=") for p in query.split("&"))]


@dataclass(frozen=True)
class Page:
    """How links to one page look: its site's hosts and the names it goes by."""

    hosts: frozenset[str]
    names: frozenset[str]

    @classmethod
    def of(cls, page: str) -> Page:
        """Names: the last path segment and the query values, of six characters or more. A post's slug
        (/2011/06/secure-communities/) or a video's id (watch?v=9bZkp7q19f0); short names such as "p=12" or
        "/about" would match other pages too. Hosts: the page's own, and its site's short-link hosts.
        """
        host, segments, values = _parts(page.lower())
        names = frozenset(n for n in segments[-1:] + values if _PAGE_NAME.fullmatch(n))
        return cls(frozenset((host, *SHORT_HOSTS.get(host, ()))), names)

    def linked_by(self, url: str) -> bool:
        """Whether a (lower-case) link points at this page. Only on the page's own site: a spammer cannot make
        his own link pass for a reader's by giving it the post's slug."""
        host, segments, values = _parts(url)
        return host in self.hosts and not self.names.isdisjoint(segments + values)


EXPLAINED = 3
"""How many features a classifier's reason names (Classifier.explain)."""


def _readable(name: str) -> str | None:
    """A feature's name as a moderator reads it, or None for those no one can (character n-grams, sizes)."""
    kind, _, value = name.partition(":")
    if kind in ("w", "b"):
        return f'"{value[:30]}"'
    if kind == "dom":
        return f"a link to {value}"
    if name == "link:this-page":
        return "a link to this page"
    if kind == "nurl" and value != "0":
        return "1 link" if value == "1" else f"{value}{'+' if value == '3' else ''} links"
    if kind == "caps" and int(value) >= 5:
        return "capital letters"
    if kind == "field-email":
        return f"an email at {value}"
    if name.startswith("field-url:dom:"):
        return f"a website at {name.removeprefix('field-url:dom:')}"
    return None


def _block(tokens: Iterable[str], weight: float, out: dict[str, float]) -> None:
    """Binary tokens scaled to unit length per block, so long texts' char n-grams don't drown the rest."""
    unique = set(tokens)
    if unique:
        value = weight / math.sqrt(len(unique))
        out.update(dict.fromkeys(unique, value))


def features(text: str, author: str | None = None, email: str | None = None, url: str | None = None,
             page: str | None = None) -> dict:
    """Word 1-2 grams, char 2-5 grams, link shapes and a few counts of one normalized comment.

    A link to `page`, the page the comment was written on, is one feature of its own and leaves no trace in
    the others: a reader pointing at a passage of the post (or a timestamp of the video) is not advertising,
    yet its link looks like any other link of that site, which spam uses too.
    """
    low = text.lower()
    urls = _URL.findall(low)
    own = False
    if page and urls and (here := Page.of(page)).names:
        own = any(here.linked_by(u) for u in urls)
        if own:
            text = _URL.sub(lambda m: " " if here.linked_by(m.group(0).lower()) else m.group(0), text)
            low = text.lower()
            urls = [u for u in urls if not here.linked_by(u)]
    words = _WORD.findall(_URL.sub(" ", low))
    out: dict[str, float] = {}
    _block(
        [f"w:{w}" for w in words] + [f"b:{a} {b}" for a, b in zip(words, words[1:], strict=False)], 1.0, out
    )
    chars: list[str] = []
    for token in set(_SPACE.findall(low)):  # features are present or not: a repeated word adds nothing
        padded = f" {token} "
        for n in range(2, 6):
            chars.extend(padded[i : i + n] for i in range(len(padded) - n + 1))
    _block((f"c:{c}" for c in chars), 1.0, out)
    _block([t for u in urls for t in _url_tokens(u, "")] + ["link:this-page"] * own, 1.0, out)
    letters = [c for c in text if c.isalpha()]
    meta = [f"nurl:{min(len(urls), 3)}", f"len:{_bucket(len(text))}", f"nl:{min(text.count(chr(10)), 3)}"]
    if letters:
        meta.append(f"caps:{10 * sum(c.isupper() for c in letters) // len(letters)}")
    _block(meta, 1.0, out)
    # The form fields, in a block of their own so that filling them in does not dilute the text's features.
    # The bundled data has none of them: only learn() from moderator decisions gives them weight, so a
    # blogger's website in the URL field counts for nothing until moderators have said otherwise.
    fields: list[str] = []
    if url:
        fields.extend(_url_tokens(url.lower(), "field-url:"))
    if email:
        fields.append(f"field-email:{email.rpartition('@')[2].lower()}")
    if author:
        fields.append(f"field-author:len{_bucket(len(author))}")
        fields.extend(["field-author:digits"] * any(c.isdigit() for c in author))
    _block(fields, 1.0, out)
    return out


def _sgd() -> SGDClassifier:
    return SGDClassifier(loss="log_loss", alpha=ALPHA, max_iter=50, tol=None, random_state=0)


@dataclass
class IdfLogit:
    """The logistic-regression member: a logistic regression on idf-weighted features (smoothed idf, as
    TfidfTransformer's), kept as weights over the raw features, since scaling feature j by idf_j and weighting
    it by w_j is weighting it by w_j * idf_j. Arrays are float32, as in the model file, so that a loaded model
    predicts exactly as the one saved.
    """

    weights: np.ndarray
    bias: float
    idf: np.ndarray

    @classmethod
    def fit(cls, matrix: sparse.csr_matrix, labels: np.ndarray, df: np.ndarray) -> IdfLogit:
        idf = np.log((1 + matrix.shape[0]) / (1 + df)) + 1
        lr = LogisticRegression(C=LR_C, max_iter=2000).fit(matrix @ sparse.diags(idf), labels)
        return cls((lr.coef_[0] * idf).astype(np.float32), float(lr.intercept_[0]), idf.astype(np.float32))

    def nudge(self, matrix: sparse.csr_matrix, shifts: np.ndarray) -> None:
        """Move this member's log-odds of each row by its shift: how far the plain SGD member's own step moved.

        LogisticRegression has no partial_fit(). A plain SGD step on idf-weighted features moves the log-odds
        far more than the SGD members' steps (a row's squared norm grows with idf squared; at stop 12 one
        "not spam" took a text from 0.80 to 0.01 that way). This is a gradient step, along idf_j^2 * x_j in
        the raw weights, of the length that moves the row's log-odds by the same amount as the plain
        member's, so no constant of its own is tuned.
        """
        csr = matrix.tocsr()
        for row, shift in enumerate(shifts):
            start, end = csr.indptr[row], csr.indptr[row + 1]
            columns, values = csr.indices[start:end], csr.data[start:end]
            direction = values * self.idf[columns] ** 2
            step = float(shift) / (float(values @ direction) + 1.0)  # + 1: the bias moves along with them
            self.weights[columns] += (step * direction).astype(np.float32)
            self.bias += step


class Classifier:
    """Spam probability of a comment; learns from moderator decisions without refitting a vocabulary.

    Three linear models over the same hashed features, their log-odds averaged: an SGD model with log loss,
    one over features scaled by naive-Bayes log-count ratios (NBSVM, Wang & Manning 2012), which weighs
    words seen almost only in spam or only in ham more strongly, and a logistic regression over
    idf-weighted features, fit to convergence rather than by 50 passes of SGD (nested leave-one-video-out
    engine F1 0.947 -> 0.955, docs/benchmarks.md). A prediction is still one dot product with their
    averaged weights.

    partial_fit() and the per-feature document counts take new decisions one batch at a time, so a worker
    never needs the training texts again (and the model file holds no comment text). The logistic
    regression, which has no partial_fit(), follows the plain SGD model's step (IdfLogit.nudge).
    """

    def __init__(self, model: SGDClassifier, version: str | None = None, nb_model: SGDClassifier | None = None,
                 counts: np.ndarray | None = None, lr: IdfLogit | None = None) -> None:
        self.model = model
        self.nb_model = nb_model
        self.counts = counts  # (2, N_FEATURES) documents containing each feature: row 0 ham, row 1 spam
        self.lr = lr
        self.version = version or time.strftime("%Y%m%dT%H%M%S")
        self.stamp: tuple[int, int, int] | None = None  # (inode, mtime_ns, size) of the file it came from
        self._hasher = FeatureHasher(N_FEATURES, input_type="dict", alternate_sign=False)
        self._combine()

    def _matrix(self, samples: Iterable[Sample]) -> sparse.csr_matrix:
        return self._hasher.transform(features(normalize(s.text), s.author, s.email, s.url, s.page) for s in samples)

    def _ratios(self) -> np.ndarray:
        """log P(feature | spam) / P(feature | ham) from the document counts, smoothed."""
        assert self.counts is not None
        smoothed = self.counts + NB_SMOOTHING
        return np.log(smoothed[1] / smoothed[1].sum()) - np.log(smoothed[0] / smoothed[0].sum())

    def _combine(self) -> None:
        """The one weight vector and bias that predictions use: the average of the two models' log-odds."""
        if not hasattr(self.model, "coef_"):  # not fitted yet (inside train())
            return
        if self.nb_model is None or self.counts is None or not hasattr(self.nb_model, "coef_"):
            self._weights, self._bias = self.model.coef_[0], float(self.model.intercept_[0])
            return
        members = [(self.model.coef_[0], float(self.model.intercept_[0])),
                   (self._ratios() * self.nb_model.coef_[0], float(self.nb_model.intercept_[0]))]
        if self.lr is not None:
            members.append((self.lr.weights, self.lr.bias))
        self._weights = sum(w for w, _ in members) / len(members)
        self._bias = sum(b for _, b in members) / len(members)

    def _fit(self, matrix: sparse.csr_matrix, labels: np.ndarray, partial: bool) -> None:
        """Fit (or nudge) the three models on a batch; the counts are updated first, so the ratios include it."""
        if self.counts is None:
            self.counts = np.zeros((2, N_FEATURES))
        present = matrix.copy()
        present.data[:] = 1.0
        for label in (0, 1):
            rows = present[labels == bool(label)]
            if rows.shape[0]:
                self.counts[label] += np.asarray(rows.sum(axis=0)).ravel()
        if self.nb_model is None:
            self.nb_model = _sgd()
        scaled = matrix @ sparse.diags(self._ratios())
        if partial:
            before = None if self.lr is None else self.model.decision_function(matrix)
            self.model.partial_fit(matrix, labels, classes=np.array([False, True]))
            self.nb_model.partial_fit(scaled, labels, classes=np.array([False, True]))
            if self.lr is not None:
                self.lr.nudge(matrix, self.model.decision_function(matrix) - before)
        else:
            self.model.fit(matrix, labels)
            self.nb_model.fit(scaled, labels)
            self.lr = IdfLogit.fit(matrix, labels, self.counts.sum(axis=0))
        self._combine()

    def spam_probability(
        self, text: str, *, author: str | None = None, email: str | None = None, url: str | None = None,
        page: str | None = None,
    ) -> float:
        """Probability that one submitted comment (its original text, HTML or not) is spam."""
        return self._probability(self._matrix([Sample(text, False, author, email, url, page)]))

    def _probability(self, row: sparse.csr_matrix) -> float:
        # A dot product instead of predict_proba(): skips input validation, the bulk of a single call.
        score = float((row @ self._weights)[0] + self._bias)
        return 1.0 / (1.0 + math.exp(-max(min(score, 700.0), -700.0)))

    def explain(
        self, text: str, *, author: str | None = None, email: str | None = None, url: str | None = None,
        page: str | None = None,
    ) -> tuple[float, list[str]]:
        """spam_probability(), and what a moderator can read of the features that pushed it most towards spam,
        most telling first: a word or pair of words, a link's domain, the number of links, the form's fields.

        The model is linear, so a feature's push is its weight times its value. Character n-grams, which carry
        much of the weight, are left out: no one can read them. At most EXPLAINED are named.
        """
        named = features(normalize(text), author, email, url, page)
        probability = self._probability(self._hasher.transform([named]))
        labels = {name: label for name in named if (label := _readable(name))}
        if not labels:
            return probability, []
        # One row per name, each with its one column: the hasher's own hashing, not a copy of it.
        columns = self._hasher.transform([{name: 1.0} for name in labels]).indices
        pushes = self._weights[columns] * np.array([named[name] for name in labels])
        telling: list[str] = []
        said: set[str] = set()  # the words named so far, alone or in pairs: "check out" says "check"
        for push, name in sorted(zip(pushes.tolist(), labels, strict=True), key=lambda pair: -pair[0]):
            if push <= 0 or len(telling) == EXPLAINED:
                break
            words = set(name[2:].split()) if name[:2] in ("w:", "b:") else set()
            if not words or not words <= said:
                telling.append(labels[name])
                said |= words
        return probability, telling

    def spam_probabilities(self, samples: Iterable[Sample]) -> np.ndarray:
        """Probabilities for many samples at once (for benchmarks and re-scoring)."""
        scores = np.clip(self._matrix(samples) @ self._weights + self._bias, -700, 700)
        return np.asarray(1.0 / (1.0 + np.exp(-scores)))

    def learn(self, texts: list[str], labels: list[bool]) -> None:
        """Nudge the model with moderator decisions (one SGD pass; no vocabulary, no stored sample)."""
        self.learn_samples([Sample(t, bool(s)) for t, s in zip(texts, labels, strict=True)])

    def learn_samples(self, samples: list[Sample]) -> None:
        """learn() with the form fields too."""
        if samples:
            self._fit(self._matrix(samples), np.array([s.spam for s in samples]), partial=True)
            self.version = time.strftime("%Y%m%dT%H%M%S")

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write atomically (temp file + os.replace) so a reading worker never sees half a file."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        state = {"feature_version": FEATURE_VERSION, "version": self.version, "model": self.model,
                 "nb_model": self.nb_model,
                 "counts": None if self.counts is None else self.counts.astype(np.float32),
                 "lr": None if self.lr is None else (self.lr.weights, self.lr.bias, self.lr.idf)}
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                os.fchmod(f.fileno(), 0o644)  # mkstemp's 0600 would lock out workers running as another user
                pickle.dump(state, f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Classifier:
        """Read a file our own trainer wrote. Pickle runs code: never load one from an untrusted place."""
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            state = pickle.load(f)  # noqa: S301 - our own file, see the docstring
        if state.get("feature_version") != FEATURE_VERSION:
            raise StaleModel(
                f"model file {path} has feature version {state.get('feature_version')}, "
                f"this code needs {FEATURE_VERSION}: retrain it"
            )
        counts = state.get("counts")
        classifier = cls(state["model"], state["version"], state.get("nb_model"),
                         None if counts is None else counts.astype(np.float64),
                         None if state.get("lr") is None else IdfLogit(*state["lr"]))
        classifier.stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
        return classifier


def train(
    samples: Iterable[Sample | tuple[str, bool]], progress: Callable[[int], None] | None = None
) -> Classifier:
    """Fit a new model; progress(n) is told how many more samples were read (a click bar's update())."""
    rows: list[Sample] = []
    for item in samples:
        rows.append(item if isinstance(item, Sample) else Sample(item[0], bool(item[1])))
        if progress and len(rows) % 100 == 0:
            progress(100)
    if progress and len(rows) % 100:
        progress(len(rows) % 100)
    classifier = Classifier(_sgd())
    classifier._fit(classifier._matrix(rows), np.array([s.spam for s in rows]), partial=False)
    return classifier


BUNDLED_PAGES = {
    "Youtube01-Psy": "https://www.youtube.com/watch?v=9bZkp7q19f0",
    "Youtube02-KatyPerry": "https://www.youtube.com/watch?v=CevxZvSJLk8",
    "Youtube03-LMFAO": "https://www.youtube.com/watch?v=KQ6zr6kCPj8",
    "Youtube04-Eminem": "https://www.youtube.com/watch?v=uelHwf8o7_U",
    "Youtube05-Shakira": "https://www.youtube.com/watch?v=pRpeEdMmmQ0",
}
"""The video each file of the YouTube Spam Collection was collected from (the collection's own description),
by file name: its comments' page. The fifth file is the one the project holds back; only its video is named."""


def read_labelled(path: str | os.PathLike[str], page: str | None = None) -> Iterator[Sample]:
    """Labelled comments from a CSV (CONTENT, CLASS 1/0) or JSON lines ({"comment", "spam", ...}) file.

    `page` is where a CSV file's comments were written (default: BUNDLED_PAGES by file name); a JSON line may
    carry its own "page".
    """
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        page = page or BUNDLED_PAGES.get(Path(path).stem)
        with open(path, newline="", encoding="utf-8") as f:
            # AUTHOR is left out on purpose: personal data, and a display name is not a blog's author field.
            for row in csv.DictReader(f):
                yield Sample(row["CONTENT"], row["CLASS"].strip() == "1", page=page)
    elif suffix in (".jsonl", ".ndjson"):
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    d = json.loads(line)
                    yield Sample(d["comment"], bool(d["spam"]), d.get("author"), d.get("email"), d.get("url"),
                                 d.get("page") or page)
    else:
        raise ValueError(f"unknown labelled-data format {suffix!r} (expected .csv or .jsonl)")


def bundled_samples() -> Iterator[Sample]:
    """The YouTube Spam Collection files shipped in workers/data/spam/ (see its README)."""
    for path in sorted(BUNDLED_DIR.glob("*.csv")):
        yield from read_labelled(path)


def default_model() -> Classifier:
    """A model trained from the bundled data (about a second), for when no model file exists yet."""
    return train(bundled_samples())


def load_if_changed(path: str | os.PathLike[str], current: Classifier | None) -> Classifier:
    """current, unless the file at path is another one than current was read from (one os.stat)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return current if current is not None else default_model()
    if current is not None and current.stamp == (st.st_ino, st.st_mtime_ns, st.st_size):
        return current
    classifier = Classifier.load(path)
    logger.info("loaded spam model %s (version %s)", path, classifier.version)
    return classifier


class ModelCache:
    """The model of one worker process: get() picks up a file another worker saved, without a restart."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = path
        self.current: Classifier | None = None

    def get(self) -> Classifier:
        """The current model, reloaded first if the file changed."""
        self.current = load_if_changed(self.path, self.current)
        return self.current
