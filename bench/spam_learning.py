"""What moderators' decisions teach the engine on a video it was not trained on (not a goal of issue 3).

Run: python bench/spam_learning.py [--test NAME]   # about 30 s

For each bundled video (or --test), a classifier is trained on the other three, and the video's comments
arrive one by one in file order, each decided by the whole engine as workers.evaluation.evaluate() does
(scratch database, every check, the default thresholds, policy `auto`). In the second pass, a moderator
then reviews every comment the engine held and decides it by its label, and each decision teaches the
classifier at once, as learn_from_decision() does in a worker (Classifier.learn_samples: the SGD members'
partial_fit, the naive-Bayes counts and the logistic member's matched step). Approved and spam verdicts are
left alone, as a moderator who only works the held tab would. Printed: the verdicts of both passes, per half
of the stream, and the decisions the second pass took.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from service import config as settings  # noqa: E402
from service import status  # noqa: E402
from workers.classifier import BUNDLED_DIR, Classifier, Sample, read_labelled, train  # noqa: E402
from workers.evaluation import Report, evaluate  # noqa: E402


def halves(samples: list[Sample], config: dict, classifier: Classifier, learn: bool) -> tuple[Report, Report, int]:
    """Reports for the first and the second half of the stream, and the moderator decisions taken."""
    taught = 0

    def moderate(sample: Sample, verdict: str) -> None:
        nonlocal taught
        if learn and verdict == status.HELD:
            classifier.learn_samples([sample])
            taught += 1

    middle = len(samples) // 2
    first = evaluate(samples[:middle], config, classifier, decided=moderate)
    second = evaluate(samples[middle:], config, classifier, decided=moderate)
    return first, second, taught


def line(name: str, report: Report) -> str:
    m = report.measures()
    return (f"  {name:<14} spam published {m['spam_published']:6.1%}   ham filed as spam {m['fpr']:5.1%}   "
            f"held {m['held']:5.1%}   F1 {m['f1']:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--test", help="one video's name (Psy, KatyPerry, LMFAO, Eminem); default: each in turn")
    args = parser.parse_args()
    started = time.perf_counter()
    config = settings.from_environment({})
    videos = {path.stem.split("-")[-1]: list(read_labelled(path)) for path in sorted(BUNDLED_DIR.glob("*.csv"))}
    if args.test and args.test not in videos:
        parser.error(f"--test is one of {', '.join(videos)}")
    print(f"thresholds: classifier hold {config['CLASSIFIER_HOLD']:g}, spam {config['CLASSIFIER_SPAM']:g}; "
          f"policy auto")
    for test in [args.test] if args.test else list(videos):
        rows = [s for video, samples in videos.items() if video != test for s in samples]
        print(f"{test} ({len(videos[test])} comments), trained on the other three:")
        for learn in (False, True):
            first, second, taught = halves(videos[test], config, train(rows), learn)
            label = f"learning from {taught} held" if learn else "no moderator"
            print(f" {label}")
            print(line("first half", first))
            print(line("second half", second))
    print(f"elapsed {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
