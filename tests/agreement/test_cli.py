"""`labelapp agreement evaluate` on crowd files, and the terminal report table."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from labelapp.cli.agreement import format_report
from tests.agreement.conftest import CROWD, evaluate, evaluate_crowd
from weak_supervision.agreement import agreement_report


def test_evaluate_bluebirds_prints_scores_and_ends_with_json() -> None:
    result = evaluate_crowd("bluebirds_duck", "majority_vote,dawid_skene")
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    summary = json.loads(lines[-1])
    assert set(summary) == {"majority_vote", "dawid_skene", "chosen", "items"}
    assert summary["items"] == 108
    assert set(summary["majority_vote"]) == {"accuracy", "f1"}
    assert summary["dawid_skene"]["accuracy"] > summary["majority_vote"]["accuracy"]
    assert any(line.startswith("majority_vote") for line in lines[:-1])
    assert 'F1 of class "1"' in lines[0]


@pytest.mark.slow
def test_evaluate_d_product_reproduces_the_published_majority_vote() -> None:
    result = evaluate_crowd("D_Product", "majority_vote,dawid_skene")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert summary["items"] == 8315
    # Published: majority vote 89.66 % accuracy / 59.05 % F1; Dawid-Skene 93.66 % / 71.59 %.
    assert round(summary["majority_vote"]["accuracy"], 2) == 89.66
    assert round(summary["majority_vote"]["f1"], 2) == 59.05
    assert summary["dawid_skene"]["accuracy"] >= 93.66
    assert summary["dawid_skene"]["f1"] >= 71.59


def test_evaluate_any_number_of_classes_uses_macro_f1(tmp_path) -> None:
    rng = np.random.default_rng(0)
    truth = {f"q{i}": rng.choice(["cat", "dog", "owl"]) for i in range(300)}
    rows = []
    for question, label in truth.items():
        for worker in rng.choice(8, size=3, replace=False):
            good = worker < 5
            answer = (
                label
                if rng.random() < (0.85 if good else 0.4)
                else rng.choice(["cat", "dog", "owl"])
            )
            rows.append((question, f"w{worker}", answer))
    answers = tmp_path / "answer.csv"
    pd.DataFrame(rows, columns=["question", "worker", "answer"]).to_csv(answers, index=False)
    truth_file = tmp_path / "truth.csv"
    # Truth for 250 questions only, plus one question nobody answered: both are left out.
    known = pd.DataFrame(
        list(truth.items())[:250] + [("q999", "cat")], columns=["question", "truth"]
    )
    known.to_csv(truth_file, index=False)
    result = evaluate(
        answers,
        truth_file,
        "--methods",
        "majority_vote,dawid_skene,wawa",
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert summary["items"] == 250
    assert "macro F1" in result.output
    assert 0 < summary["majority_vote"]["f1"] <= 100 and summary["dawid_skene"]["accuracy"] > 80


def test_evaluate_reports_bad_files_with_line_and_fix(tmp_path) -> None:
    answers = tmp_path / "answer.csv"
    answers.write_text("question,worker,answer\nq1,w1,1\nq2,w1\n")
    truth = CROWD / "bluebirds_duck" / "truth.csv"
    result = evaluate(answers, truth)
    assert result.exit_code != 0
    assert "line 3" in result.output and "answer" in result.output
    missing = evaluate(tmp_path / "nope.csv", truth)
    assert missing.exit_code != 0 and "file not found" in missing.output
    other = tmp_path / "other.csv"
    other.write_text("question,worker,answer\nzz,w1,1\n")
    disjoint = evaluate(other, truth)
    assert disjoint.exit_code != 0 and "same question ids" in disjoint.output


def test_format_report_shows_metrics_labels_annotators_and_backlog() -> None:
    answers = pd.DataFrame(
        {
            "item": ["a", "a", "b", "b", "c", "c", "d", "d"],
            "annotator": ["ann", "bob"] * 4,
            "label": ["pos", "pos", "neg", "neg", "pos", "neg", "neg", "neg"],
        }
    )
    report = agreement_report(answers, ["neg", "pos"], gold={"a": "pos"}, n_resamples=100)
    text = format_report(report)
    assert "8 answers by 2 annotators on 4 items (4 with 2+ annotators)" in text
    assert f"Fleiss' kappa          {report.fleiss_kappa.estimate:.3f}  [" in text
    assert "Krippendorff's alpha" in text and "(nominal)" in text
    assert "gold_accuracy" in text
    assert "to adjudicate: 1 items" in text and "ann: pos, bob: neg" in text
