"""``labelapp agreement``: annotator agreement and aggregation from the terminal.

``evaluate`` scores majority vote and Dawid-Skene on crowd answer files against known truth.
``format_report`` renders a :class:`weak_supervision.agreement_report.AgreementReport` as the
terminal table of ``agreement report``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from weak_supervision.agreement_report import AgreementReport


@click.group("agreement")
def agreement() -> None:
    """Annotator agreement, reliability and consensus."""


@agreement.command("evaluate")
@click.option(
    "--answers",
    "answers_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="CSV with header question,worker,answer (one row per answer).",
)
@click.option(
    "--truth",
    "truth_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="CSV with header question,truth.",
)
def evaluate(answers_path: Path, truth_path: Path) -> None:
    """Score majority vote and Dawid-Skene against the truth, on items with answers and truth.

    Accuracy and F1 are percentages; F1 is of class "1" for binary data with a class "1", macro
    over the classes otherwise. The last line is one JSON object:
    {"majority_vote": {"accuracy", "f1"}, "dawid_skene": {"accuracy", "f1"}, "items"}.
    """
    from weak_supervision.crowd import CrowdFileError, evaluate_crowd, load_answers, load_truth

    try:
        answers = load_answers(answers_path)
        truth = load_truth(truth_path)
        result = evaluate_crowd(answers, truth)
    except (CrowdFileError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    f1_name = 'F1 of class "1"' if result.f1_kind == "binary" else "macro F1"
    click.echo(
        f"{result.answers} answers by {result.workers} workers, {len(result.classes)} classes; "
        f"scored on {result.items} items with a truth ({f1_name})"
    )
    for name, title in (("majority_vote", "majority vote"), ("dawid_skene", "Dawid-Skene")):
        score = result.scores[name]
        click.echo(f"{title:<14} accuracy {score['accuracy']:6.2f} %   F1 {score['f1']:6.2f} %")
    click.echo(f"(Dawid-Skene EM: {result.dawid_skene_iterations} iterations)")
    click.echo(json.dumps(result.as_json()))


def _number(value: float, digits: int = 3) -> str:
    return (
        "-"
        if value is None or (isinstance(value, float) and math.isnan(value))
        else (f"{value:.{digits}f}")
    )


def _interval(ci) -> str:
    if math.isnan(ci.low):
        return _number(ci.estimate)
    return f"{_number(ci.estimate)}  [{_number(ci.low)}, {_number(ci.high)}]"


def _who_said_what(labels: dict, max_names: int = 5) -> str:
    """"ann1: pos, ann2: neg" for a few annotators, else vote counts "neg x7, pos x5"."""
    if len(labels) <= max_names:
        return ", ".join(f"{name}: {label}" for name, label in labels.items())
    votes: dict = {}
    for label in labels.values():
        votes[label] = votes.get(label, 0) + 1
    ranked = sorted(votes.items(), key=lambda pair: -pair[1])
    return ", ".join(f"{label} x{n}" for label, n in ranked)


def format_report(report: AgreementReport, max_annotators: int = 30, max_items: int = 10) -> str:
    """A plain-text summary of an agreement report for the terminal.

    Shows the overall metrics with their bootstrap intervals, the per-label table, the
    ``max_annotators`` least reliable annotators (by Dawid-Skene accuracy) and the first
    ``max_items`` items awaiting adjudication.
    """
    import pandas as pd

    confidence = report.percent_agreement.confidence
    ci_note = (
        f"(estimate [{confidence:.0%} bootstrap interval])" if not math.isnan(confidence) else ""
    )
    lines = [
        f"{report.n_answers} answers by {report.n_annotators} annotators on {report.n_items} items "
        f"({report.n_overlap_items} with 2+ annotators); labels: "
        + ", ".join(map(str, report.labels)),
        "",
        f"agreement {ci_note}".rstrip(),
        f"  percent agreement      {_interval(report.percent_agreement)}",
        f"  Fleiss' kappa          {_interval(report.fleiss_kappa)}",
    ]
    for level, ci in report.krippendorff_alpha.items():
        lines.append(f"  Krippendorff's alpha   {_interval(ci)}  ({level})")
    human = report.human_level
    lines.append(
        f"  human level            {_number(human.overall)}  (an annotator agrees with the "
        f"others' majority; {len(human.pairs)} answers)"
    )

    def table(frame: pd.DataFrame) -> list[str]:
        text = frame.to_string(float_format=lambda v: f"{v:.3f}", na_rep="-")
        return ["  " + line for line in text.splitlines()]

    per_label = report.per_label[["n_answers", "share", "specific_agreement", "human", "ds_prior"]]
    lines += ["", "per label"] + table(per_label)

    columns = [
        c
        for c in (
            "n_answers",
            "n_overlap",
            "mean_kappa",
            "agreement_with_others",
            "ds_accuracy",
            "gold_n",
            "gold_accuracy",
        )
        if c in report.annotators.columns
    ]
    annotators = report.annotators[columns].sort_values("ds_accuracy")
    shown = (
        f"the {max_annotators} least reliable of {len(annotators)}"
        if len(annotators) > max_annotators
        else "all"
    )
    lines += ["", f"annotators ({shown}, by Dawid-Skene accuracy)"]
    lines += table(annotators.head(max_annotators))

    backlog = report.disagreements
    lines += ["", f"to adjudicate: {len(backlog)} items"]
    if len(backlog):
        head = backlog.head(max_items)
        lines += table(
            pd.DataFrame(
                {
                    "majority": head["majority"],
                    "consensus": head["consensus"],
                    "confidence": head["confidence"],
                    "reason": head["reason"],
                    "labels": [_who_said_what(labels) for labels in head["labels"]],
                },
                index=head.index,
            )
        )
    return "\n".join(lines)
