"""Tests for workers.classifier: clean-up, training, learning, the model file and the readers."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix, f1_score

from workers.classifier import (
    BUNDLED_DIR,
    BUNDLED_PAGES,
    SPAM_THRESHOLD,
    Classifier,
    ModelCache,
    Page,
    Sample,
    default_model,
    features,
    load_if_changed,
    normalize,
    read_labelled,
    train,
)

SPAM = [
    "Check out my channel http://spam.example/{i} and subscribe!!",
    "Free gift cards at http://cheap.example/win?ref={i} click now",
    "Subscribe to my channel please, I make music {i}",
    "Earn money from home http://earn.example/{i} visit my website",
]
HAM = [
    "I love this song, it reminds me of summer {i}",
    "The chorus gets stuck in my head every time {i}",
    "Great video, the dancing is amazing {i}",
    "Who is still listening to this in {i}?",
]


def synthetic_rows() -> list[tuple[str, bool]]:
    return [(t.format(i=i), True) for t in SPAM for i in range(10)] + [
        (t.format(i=i), False) for t in HAM for i in range(10)]


@pytest.fixture(scope="module")
def synthetic() -> Classifier:
    return train(synthetic_rows())


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("I don&#39;t &amp; won&quot;t\ufeff", "I don't & won\"t"),
        ('<a href="http://x.example/a?b=1&amp;c=2">my site</a>', "my site http://x.example/a?b=1&c=2"),
        ('<a href="http://x.example/">http://x.example/</a>', "http://x.example/"),
        ("line one<br />line two", "line one\nline two"),
        ("<b>bold</b> <script>x</script> I <3 you", "bold x I <3 you"),
        ("plain text", "plain text"),
    ],
)
def test_normalize(raw: str, clean: str) -> None:
    assert normalize(raw) == clean


def test_separates_obvious_spam_from_ham(synthetic: Classifier) -> None:
    assert synthetic.spam_probability("Subscribe to my channel http://spam.example/99 now!!") > 0.8
    assert synthetic.spam_probability("This song reminds me of last summer") < 0.2


def test_learn_moves_probability_towards_the_label(synthetic: Classifier) -> None:
    text = "Lovely tune, share the melody with your grandmother"
    before = synthetic.spam_probability(text)
    synthetic.learn([text] * 5, [True] * 5)
    raised = synthetic.spam_probability(text)
    synthetic.learn([text] * 10, [False] * 10)
    assert raised > before
    assert synthetic.spam_probability(text) < raised


def test_the_logistic_member_learns_in_step_with_the_plain_one() -> None:
    model = train(synthetic_rows())
    sample = Sample("Lovely tune, share the melody with your grandmother", True)
    row = model._matrix([sample])
    assert model.lr is not None

    def log_odds() -> tuple[float, float]:
        assert model.lr is not None
        return float(model.model.decision_function(row)[0]), float((row @ model.lr.weights)[0] + model.lr.bias)

    plain, logistic = log_odds()
    model.learn_samples([sample])
    plain_after, logistic_after = log_odds()
    assert plain_after - plain > 0.1
    assert logistic_after - logistic == pytest.approx(plain_after - plain, rel=1e-3)


def test_explain_names_what_pushed_towards_spam_as_the_hasher_sees_it(synthetic: Classifier) -> None:
    text = "Subscribe to my channel http://spam.example/99 now!!"
    probability, telling = synthetic.explain(text)
    assert probability == synthetic.spam_probability(text)
    assert 1 <= len(telling) <= 3 and len(set(telling)) == len(telling)
    assert all(label.startswith('"') or label.startswith(("a link", "1 link", "2 links", "3+ links"))
               for label in telling), "no character n-grams, no sizes"
    named = features(normalize(text))
    one_row = synthetic._hasher.transform([named]).indices
    per_name = synthetic._hasher.transform([{name: 1.0} for name in named]).indices
    assert sorted(one_row) == sorted(set(per_name)), "one column per name, in the hasher's own order"


def test_save_load_round_trip(synthetic: Classifier, tmp_path: Path) -> None:
    path = tmp_path / "model.pkl"
    synthetic.save(path)
    loaded = Classifier.load(path)
    texts = ["Visit http://spam.example/1", "what a song", '<a href="http://a.example">hi</a>']
    assert [loaded.spam_probability(t) for t in texts] == [synthetic.spam_probability(t) for t in texts]
    assert loaded.version == synthetic.version
    assert [p.name for p in tmp_path.iterdir()] == ["model.pkl"]  # no temp file left behind


def test_load_if_changed_reloads_only_a_changed_file(synthetic: Classifier, tmp_path: Path) -> None:
    path = tmp_path / "model.pkl"
    synthetic.save(path)
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    cache = ModelCache(path)
    first = cache.get()
    assert cache.get() is first
    assert load_if_changed(path, first) is first

    synthetic.save(path)  # another worker retrained and saved
    os.utime(path, ns=(2_000_000_000, 2_000_000_000))
    second = cache.get()
    assert second is not first
    assert cache.get() is second


def test_read_csv_with_quoted_newline(tmp_path: Path) -> None:
    path = tmp_path / "comments.csv"
    path.write_text(
        'COMMENT_ID,AUTHOR,DATE,CONTENT,CLASS\na,Ann,,"first line\nsecond line",1\nb,Bob,,hello&#39;s,0\n',
        encoding="utf-8",
    )
    assert list(read_labelled(path)) == [
        Sample("first line\nsecond line", True),
        Sample("hello&#39;s", False),
    ]


def test_read_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "decisions.jsonl"
    lines = [
        {
            "comment": "buy now",
            "spam": True,
            "author": "x",
            "email": "x@spam.example",
            "url": "http://s.example",
        },
        {"comment": "nice post", "spam": False},
        {"comment": "see the video", "spam": False, "page": "https://v.example/watch?v=abcdefgh"},
    ]
    path.write_text("\n".join(json.dumps(d) for d in lines) + "\n\n", encoding="utf-8")
    assert list(read_labelled(path)) == [
        Sample("buy now", True, "x", "x@spam.example", "http://s.example"),
        Sample("nice post", False),
        Sample("see the video", False, page="https://v.example/watch?v=abcdefgh"),
    ]
    assert [s.page for s in read_labelled(path, "https://blog.example/p/")][1:] == [
        "https://blog.example/p/", "https://v.example/watch?v=abcdefgh"]


def test_each_bundled_file_knows_the_video_it_came_from(tmp_path: Path) -> None:
    linked = 0
    for path in sorted(BUNDLED_DIR.glob("*.csv")):
        video = BUNDLED_PAGES[path.stem].rpartition("=")[2]
        assert {s.page for s in read_labelled(path)} == {BUNDLED_PAGES[path.stem]}
        linked += any(video.lower() in s.text.lower() for s in read_labelled(path))
    assert linked == 3, "readers link to the right video (in three files of four)"
    assert {s.page for s in read_labelled(path, "https://blog.example/p/")} == {"https://blog.example/p/"}
    other = tmp_path / "comments.csv"
    other.write_text("CONTENT,CLASS\nhello,0\n", encoding="utf-8")
    assert [s.page for s in read_labelled(other)] == [None]


@pytest.mark.parametrize(("page", "names"), [
    ("https://blog.example/2011/06/secure-communities/", {"secure-communities"}),
    ("https://www.youtube.com/watch?v=9bZkp7q19f0#t=10", {"9bzkp7q19f0"}),
    ("https://blog.example/?p=12", set()),  # too short to tell this page from another site's
    ("https://blog.example/", set()),
])
def test_page_names(page: str, names: set[str]) -> None:
    assert Page.of(page).names == names


@pytest.mark.parametrize(("link", "linked"), [
    ("https://blog.example/2011/06/secure-communities/#p3", True),
    ("http://www.blog.example:80/2011/06/secure-communities", True),
    ("blog.example/secure-communities?replytocom=4", True),
    ("https://blog.example/2011/06/other-post/", False),
    ("https://spam.example/secure-communities", False),  # the post's slug on another site
    ("https://blog.example.spam.example/secure-communities", False),
    ("https://blog.example@spam.example/secure-communities", False),  # user info: the host is spam.example
    ("https://spam.example\\@blog.example/secure-communities", False),  # a browser goes to spam.example
])
def test_a_link_names_the_page_only_on_its_own_site(link: str, linked: bool) -> None:
    assert Page.of("https://blog.example/2011/06/secure-communities/").linked_by(link.lower()) is linked


def test_a_videos_short_links_name_it() -> None:
    video = Page.of("https://www.youtube.com/watch?v=9bZkp7q19f0")
    assert video.linked_by("http://youtu.be/9bzkp7q19f0?t=92")
    assert video.linked_by("youtube.com/watch?v=9bzkp7q19f0&t=92")
    assert not video.linked_by("http://spam.example/9bzkp7q19f0")


def test_a_link_to_the_page_itself_is_one_feature_of_its_own() -> None:
    page = "https://www.youtube.com/watch?v=9bZkp7q19f0"
    own = features("at 1:32 http://youtu.be/9bZkp7q19f0?t=92 and https://www.youtube.com/watch?v=9bZkp7q19f0.",
                   page=page)
    assert "link:this-page" in own and "nurl:0" in own
    assert not any("youtu" in key or "9bz" in key for key in own), "the link leaves no other trace"
    elsewhere = features("at 1:32 http://youtu.be/9bZkp7q19f0?t=92", page="https://www.youtube.com/watch?v=x0x0x0x0")
    assert "link:this-page" not in elsewhere and "dom:youtu.be" in elsewhere and "nurl:1" in elsewhere
    assert features("at 1:32 http://youtu.be/9bZkp7q19f0?t=92") == elsewhere


def test_a_spam_link_given_the_posts_slug_still_reads_as_a_link() -> None:
    model = default_model()
    page = "https://blog.example/2011/06/secure-communities/"
    text = "Great article! More at https://cheap-pills.example/secure-communities"
    assert "link:this-page" not in features(text, page=page)
    assert model.spam_probability(text, page=page) == model.spam_probability(text)


def test_a_reader_linking_to_the_post_is_not_read_as_advertising() -> None:
    model = default_model()
    text = "See paragraph 3 at https://blog.example/2011/06/secure-communities/#p3"
    here = model.spam_probability(text, page="https://blog.example/2011/06/secure-communities/")
    elsewhere = model.spam_probability(text, page="https://blog.example/2011/07/another-post/")
    assert here < 0.5 < SPAM_THRESHOLD <= elsewhere


def test_unknown_format_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown labelled-data format"):
        list(read_labelled(tmp_path / "comments.xml"))


def test_bundled_model_generalises_to_an_unseen_video() -> None:
    files = sorted(BUNDLED_DIR.glob("*.csv"))
    assert len(files) == 4
    held_out = [f for f in files if "Eminem" in f.name][0]
    model = train(s for f in files if f != held_out for s in read_labelled(f))
    test = list(read_labelled(held_out))
    y = np.array([s.spam for s in test])
    pred = model.spam_probabilities(test) >= SPAM_THRESHOLD
    tn, fp, fn, tp = confusion_matrix(y, pred).ravel()
    assert f1_score(y, pred) >= 0.9
    assert fp / (fp + tn) <= 0.02
