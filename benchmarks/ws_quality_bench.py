"""Weak supervision on real data: WRENCH youtube/sms, the Snorkel spam tutorial, propagation.

Usage: .venv/bin/python benchmarks/ws_quality_bench.py [--plots benchmarks/results/weak_supervision]

1. WRENCH (shared/data/wrench/{youtube,sms}): majority vote vs our default pipeline, exactly as
   ``labelapp ws evaluate DIR`` computes them (fit on train without labels, aggregator chosen on
   valid, scored on test), next to the published table.
2. The UCI YouTube spam comments on the tutorial's split with its 10 LFs written as our LFs
   (weak_supervision/examples/youtube_spam.py): LF coverage against the published notebook,
   majority vote, the label model (Snorkel's, fitted as in the tutorial: 500 epochs, seed 123),
   and end models: the tutorial's (CountVectorizer 1-5 grams + logistic regression C=1e3 on the
   hard labels of items an LF covers), the same features on soft labels (C chosen on valid), and
   the library's recipe (weak_supervision.end_model): soft label-model labels of covered train
   items plus valid's 120 human labels, weighted; features, C, the human weight and soft vs hard
   chosen by ``select_recipe`` (5-fold cross-validation over valid's human labels, 2 seeds).
   Test is scored once, for the chosen recipe (and the library default, if it differs).
3. Label propagation on the same split: seeds = valid's human labels and confident label-model
   labels (p >= 0.7) on items an LF covers; what it gives the other items no LF covers
   (coverage and accuracy, next to the label model's and the majority class's accuracy there).
The last line is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data"

from benchmarks._common import SPACY21_VOTES  # noqa: E402


def wrench() -> dict:
    import csv

    from weak_supervision.evaluate import evaluate_wrench

    rows = [
        r
        for r in csv.reader(
            line
            for line in (DATA / "wrench/wrench_label_model_results.csv").open()
            if not line.startswith("#")
        )
    ]
    header, table = rows[0], {r[0]: r[1:] for r in rows[1:]}
    out = {}
    for name, col in (("youtube", "Youtube_acc"), ("sms", "SMS_f1")):
        t = time.perf_counter()
        res = evaluate_wrench(DATA / "wrench" / name)
        i = header.index(col) - 1
        out[name] = {
            "metric": col,
            "published": {lm: float(v[i]) for lm, v in table.items()},
            "majority_vote": res["majority_vote"],
            "label_model": res["label_model"],
            "chosen": res["chosen"],
            "valid_scores": res["valid_scores"],
            "seconds": round(time.perf_counter() - t, 1),
        }
    return out


def propagation_inputs(splits: dict, L: dict, y: dict, p_all: np.ndarray) -> tuple:
    """Label propagation over all the tutorial's comments (train, valid, test in order): the
    seeds are valid's human labels and the label model's labels with p >= 0.7 (``p_all``) on
    items an LF covers; TF-IDF features. (texts, true labels, covered, seeds, features)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    from weak_supervision.propagation import propagation_seeds

    order = ("train", "valid", "test")
    texts = [t for k in order for t in splits[k]["text"]]
    L_all = np.vstack([L[k] for k in order])
    y_all = np.concatenate([y[k] for k in order])
    covered = (L_all >= 0).any(axis=1)
    human = np.full(len(y_all), -1)
    n_train, n_valid = len(y["train"]), len(y["valid"])
    human[n_train : n_train + n_valid] = y["valid"]
    seeds = propagation_seeds(human, p_all, threshold=0.7, lm_mask=covered)
    X = TfidfVectorizer(sublinear_tf=True, min_df=2).fit_transform(texts)
    return texts, y_all, covered, seeds, X


def spam_tutorial(person_votes: Path | None = None) -> dict:
    """The tutorial's pipeline; ``has_person_nlp`` from the installed spaCy, or from the votes
    ``benchmarks/spacy2/person_votes.py`` recorded under the tutorial's own spaCy 2.1."""
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression

    from weak_supervision.analysis import lf_analysis
    from weak_supervision.end_model import (
        DEFAULT_TEXT_RECIPE,
        TUTORIAL_TEXT_RECIPE,
        fit_end_model,
        fit_text_end_model,
        select_recipe,
    )
    from weak_supervision.examples import youtube_spam as ys
    from weak_supervision.label_model import LabelModel
    from weak_supervision.majority import majority_vote, probs_to_preds
    from weak_supervision.propagation import propagate

    splits = ys.load_splits(DATA / "youtube_spam_uci")
    recorded = None if person_votes is None else ys.recorded_person_votes(person_votes, splits)
    names, L = ys.vote_matrices(splits, recorded)
    y = {k: df["label"].to_numpy() for k, df in splits.items()}
    analysis = lf_analysis(L["train"], lf_names=names)

    def acc(pred: np.ndarray, split: str) -> float:
        return round(100 * float((pred == y[split]).mean()), 1)

    def texts_of(split: str) -> list[str]:
        return list(splits[split]["text"])

    lm = LabelModel(2, n_epochs=500, seed=123).fit(L["train"])
    probs = {k: lm.predict_proba(v) for k, v in L.items()}
    covered = (L["train"] >= 0).any(axis=1)
    # the tutorial's end model, through the library (its vectorizer sees the covered train texts)
    tutorial = fit_text_end_model(
        list(splits["train"]["text"][covered]), probs["train"][covered], None, TUTORIAL_TEXT_RECIPE
    )
    vec = CountVectorizer(ngram_range=(1, 5))
    X_train = vec.fit_transform(splits["train"]["text"][covered])
    X = {k: vec.transform(splits[k]["text"]) for k in ("valid", "test")}
    soft = {}
    for C in (1.0, 10.0, 100.0, 1000.0):
        model = fit_end_model(
            X_train, probs["train"][covered], LogisticRegression(C=C, solver="liblinear")
        )
        soft[C] = (acc(model.predict(X["valid"]), "valid"), acc(model.predict(X["test"]), "test"))
    best_c = max(soft, key=lambda c: (soft[c][0], -c))

    # the library's recipe: label-model labels (covered train items) + valid's human labels
    texts_tv = [*splits["train"]["text"], *splits["valid"]["text"]]
    probs_tv = np.vstack(
        [np.where(covered[:, None], probs["train"], 0.0), np.zeros((len(y["valid"]), 2))]
    )
    human_tv = np.concatenate([np.full(len(y["train"]), -1), y["valid"]])
    t = time.perf_counter()
    chosen, cv = select_recipe(texts_tv, probs_tv, human_tv)
    select_seconds = time.perf_counter() - t
    recipe_test = {}
    for recipe in dict.fromkeys([chosen, DEFAULT_TEXT_RECIPE]):
        model = fit_text_end_model(texts_tv, probs_tv, human_tv, recipe)
        recipe_test[recipe] = acc(model.predict(list(splits["test"]["text"])), "test")
    ranked = sorted(cv.items(), key=lambda kv: -kv[1])

    # propagation over all 1,956 comments; seeds: valid's human labels and confident
    # label-model labels on items an LF covers; scored on the other items no LF covers
    p_all = np.vstack([probs["train"], probs["valid"], probs["test"]])
    texts, y_all, cov_all, seeds, X_all = propagation_inputs(splits, L, y, p_all)
    t = time.perf_counter()
    spread = propagate(X_all, seeds, 2, n_neighbors=10)
    prop_seconds = time.perf_counter() - t
    target = ~cov_all & (seeds < 0)
    gained = target & (spread.sum(axis=1) > 0)
    majority_class = np.bincount(y["valid"]).argmax()
    return {
        "lfs": names,
        "coverage": {n: round(float(c), 6) for n, c in analysis["coverage"].items()},
        "published_coverage": ys.PUBLISHED_COVERAGE,
        "majority_vote_test": acc(majority_vote(L["test"], 2), "test"),
        "label_model_test": acc(probs_to_preds(probs["test"]), "test"),
        "has_person_nlp_votes": "installed spaCy" if person_votes is None else person_votes.name,
        "end_model_tutorial_hard_C1000_test": acc(tutorial.predict(texts_of("test")), "test"),
        "end_model_soft_by_C": {str(c): {"valid": v, "test": s} for c, (v, s) in soft.items()},
        "end_model_soft_chosen_on_valid": {"C": best_c, "test": soft[best_c][1]},
        "end_model_tutorial_valid": acc(tutorial.predict(texts_of("valid")), "valid"),
        "recipe": {
            "cv_accuracy": [{**asdict(r), "cv": round(100 * a, 2)} for r, a in ranked],
            "chosen": asdict(chosen),
            "chosen_cv": round(100 * cv[chosen], 2),
            "chosen_test": recipe_test[chosen],
            "default": asdict(DEFAULT_TEXT_RECIPE),
            "default_test": recipe_test[DEFAULT_TEXT_RECIPE],
            "select_seconds": round(select_seconds, 1),
        },
        "propagation": {
            "items": len(texts),
            "uncovered": int((~cov_all).sum()),
            "seeds": int((seeds >= 0).sum()),
            "seeds_per_class": np.bincount(seeds[seeds >= 0]).tolist(),
            "uncovered_unseeded": int(target.sum()),
            "uncovered_reached": int(gained.sum()),
            "accuracy_on_reached_uncovered": round(
                100 * float((spread[gained].argmax(axis=1) == y_all[gained]).mean()), 1
            ),
            "label_model_accuracy_on_same": round(
                100 * float((probs_to_preds(p_all[gained]) == y_all[gained]).mean()), 1
            ),
            "majority_class_accuracy_on_same": round(
                100 * float((y_all[gained] == majority_class).mean()), 1
            ),
            "seconds": round(prop_seconds, 2),
        },
    }


def plot(results: dict, out_dir: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, name in zip(axes, ("youtube", "sms"), strict=True):
        r = results["wrench"][name]
        key = "accuracy" if r["metric"].endswith("acc") else "f1"
        labels = [*r["published"], "MV (ours)", "pipeline (ours)"]
        values = [*r["published"].values(), r["majority_vote"][key], r["label_model"][key]]
        colors = ["#bbbbbb"] * len(r["published"]) + ["#4c72b0", "#dd8452"]
        ax.bar(labels, values, color=colors)
        ax.set_title(f"WRENCH {name} test ({'accuracy' if key == 'accuracy' else 'F1, class 1'})")
        ax.set_ylim(0, 100)
        ax.tick_params(axis="x", rotation=45)
        for i, v in enumerate(values):
            ax.text(i, v + 1, f"{v:.2f}", ha="center", fontsize=7)
    fig.suptitle("Published label models (grey) vs ours; pipeline = aggregator chosen on valid")
    fig.tight_layout()
    fig.savefig(out_dir / "wrench_label_models.png", dpi=110)
    plt.close(fig)

    spam, spam21 = results["spam_tutorial"], results["spam_tutorial_spacy21"]
    fig, ax = plt.subplots(figsize=(8, 4))
    x = np.arange(len(spam["lfs"]))
    bars = [
        (spam["published_coverage"], "published notebook (spaCy 2.1)", "#bbbbbb"),
        (spam21["coverage"], "ours, has_person_nlp on spaCy 2.1 (recorded)", "#4c72b0"),
        (spam["coverage"], "ours, has_person_nlp on spaCy 3.8 (installed)", "#dd8452"),
    ]
    for i, (coverage, label, color) in enumerate(bars):
        ax.bar(
            x + (i - 1) * 0.27, [coverage[n] for n in spam["lfs"]], 0.27, label=label, color=color
        )
    ax.set_xticks(x, spam["lfs"], rotation=45, ha="right")
    ax.set_ylabel("coverage on train (1,586)")
    ax.set_title("YouTube spam tutorial LFs as our LFs: coverage")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out_dir / "spam_lf_coverage.png", dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--plots", type=Path, default=None)
    args = parser.parse_args()
    results = {"wrench": wrench()}
    for name, r in results["wrench"].items():
        print(
            f"WRENCH {name}: MV {r['majority_vote']}  pipeline ({r['chosen']}) {r['label_model']}",
            flush=True,
        )
    results["spam_tutorial"] = spam_tutorial()
    results["spam_tutorial_spacy21"] = spam_tutorial(SPACY21_VOTES)
    for key in ("spam_tutorial", "spam_tutorial_spacy21"):
        s = results[key]
        print(
            f"{key} (has_person_nlp: {s['has_person_nlp_votes']}, train coverage "
            f"{s['coverage']['has_person_nlp']}): MV {s['majority_vote_test']}  LM "
            f"{s['label_model_test']}  end model tutorial {s['end_model_tutorial_hard_C1000_test']}"
            f"  soft {s['end_model_soft_chosen_on_valid']}  recipe {s['recipe']['chosen']} "
            f"(cv {s['recipe']['chosen_cv']}) test {s['recipe']['chosen_test']}  "
            f"propagation {s['propagation']}",
            flush=True,
        )
    if args.plots:
        plot(results, args.plots)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
