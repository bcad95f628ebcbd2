"""``labelapp agreement``: annotator agreement and aggregation from the terminal.

``evaluate`` scores every aggregation method on crowd answer files against known truth and
names the one the app would pick;
``report`` prints a project's agreement report (the agreement page's numbers) as a table.
``format_report`` renders a :class:`weak_supervision.agreement.report.AgreementReport` as the
terminal table of ``agreement report``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    import pandas as pd

    from weak_supervision.agreement.report import AgreementReport


@click.group("agreement")
def agreement() -> None:
    """Annotator agreement, reliability and consensus."""


@agreement.command("evaluate")
@click.option(
    "--answers",
    "answers_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="CSV, one row per answer; header question,worker,answer (or id/q/task/item, "
    "annotator, label: see --item-col).",
)
@click.option(
    "--truth",
    "truth_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="CSV with header question,truth (or q,truth, id,truth ...). Only scores the methods.",
)
@click.option(
    "--gold",
    "gold_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Optional CSV of gold items (same format as --truth): the method with the best "
    "accuracy on them is the one chosen. Without it, the documented rule chooses.",
)
@click.option("--item-col", help="Column of the item id in the answers and truth files.")
@click.option("--worker-col", help="Column of the worker id in the answers file.")
@click.option("--label-col", help="Column of the answer in the answers file.")
@click.option(
    "--methods",
    help="Comma-separated methods to run (default: all of "
    "dawid_skene, majority_vote, wawa, one_coin_dawid_skene, glad, mace, mmsr).",
)
def evaluate(
    answers_path: Path,
    truth_path: Path,
    gold_path: Path | None,
    item_col: str | None,
    worker_col: str | None,
    label_col: str | None,
    methods: str | None,
) -> None:
    """Score every aggregation method against the truth, on items with answers and truth, and
    say which one the app would pick (best accuracy on --gold items, else Dawid-Skene when
    workers overlap enough, else majority vote; never the truth).

    Accuracy and F1 are percentages; F1 is of class "1" for binary data with a class "1", macro
    over the classes otherwise. GLAD, MACE, one-coin Dawid-Skene and M-MSR need the extra
    'labelapp[crowd]' (crowd-kit); without it they are listed as skipped. The last line is one
    JSON object: {METHOD: {"accuracy", "f1"}, ..., "chosen": METHOD, "items": N}.
    """
    from weak_supervision.agreement.crowd import (
        CrowdFileError,
        evaluate_methods,
        load_answers,
        load_truth,
    )
    from weak_supervision.agreement.crowd_methods import METHODS

    chosen_methods = None
    if methods:
        chosen_methods = [m.strip() for m in methods.split(",") if m.strip()]
        unknown = [m for m in chosen_methods if m not in METHODS]
        if unknown or not chosen_methods:
            raise click.BadParameter(
                f"unknown method(s) {unknown}; choose from {', '.join(METHODS)}",
                param_hint="--methods",
            )
    try:
        answers = load_answers(answers_path, item_col, worker_col, label_col)
        truth = load_truth(truth_path, item_col)
        gold = None if gold_path is None else load_truth(gold_path, item_col)
        result = evaluate_methods(answers, truth, gold=gold, methods=chosen_methods)
    except ImportError as exc:
        raise click.ClickException(str(exc)) from None
    except (CrowdFileError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    f1_name = 'F1 of class "1"' if result.f1_kind == "binary" else "macro F1"
    click.echo(
        f"{result.answers} answers by {result.workers} workers, {len(result.classes)} classes; "
        f"scored on {result.items} items with a truth ({f1_name})"
    )
    for name, score in result.scores.items():
        mark = "  <- chosen" if name == result.chosen else ""
        click.echo(
            f"{name:<22} accuracy {score['accuracy']:6.2f} %   F1 {score['f1']:6.2f} %   "
            f"{result.seconds.get(name, 0):7.2f} s{mark}"
        )
    for name, why in result.skipped.items():
        click.echo(f"{name:<22} skipped: {why}")
    click.echo(f"chosen: {result.chosen} ({result.reason})")
    click.echo(json.dumps(result.as_json()))


@agreement.command("report")
@click.option("--project", "project_name", required=True, help="The project's name.")
@click.option(
    "--resamples",
    default=1000,
    show_default=True,
    type=click.IntRange(0, 10_000),
    help="Bootstrap resamples for the intervals (0: no intervals, faster).",
)
@click.option(
    "--min-confidence",
    type=click.FloatRange(0, 1),
    default=None,
    help="Also send items whose Dawid-Skene confidence is below this to adjudication.",
)
@click.option(
    "--model/--no-model",
    default=True,
    show_default=True,
    help="Score the queue's model recipe (cross-validated) next to the human level.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the API's JSON instead of tables.")
def report(
    project_name: str,
    resamples: int,
    min_confidence: float | None,
    model: bool,
    as_json: bool,
) -> None:
    """A project's agreement: metrics with bootstrap intervals, per label, annotators (least
    reliable first), human level next to the model, guideline versions, ambiguous answers and
    the adjudication backlog. Adjudicated and gold items are not in the backlog."""
    from labelapp.cli.context import database
    from labelapp.services import adjudication
    from labelapp.services import agreement as service
    from labelapp.services.projects import get_project_by_name

    with database() as session:
        project = get_project_by_name(session, project_name)
        result = service.project_agreement(
            session,
            project,
            n_resamples=resamples,
            min_confidence=min_confidence,
            with_model=model,
            use_cache=False,
        )
        data = service.agreement_dict(session, result)
        retired = project.retired_labels  # their answers count; shown as retired
        data["retired_labels"] = retired
        if as_json:
            click.echo(json.dumps(data))
            return
        report = adjudication.with_open_backlog(session, result)
        if report is not None:  # the items people know: their external ids
            from dataclasses import replace

            from sqlalchemy import select

            from labelapp.models import Item

            head = report.disagreements.index[:10].tolist()
            names = dict(
                session.execute(select(Item.id, Item.external_id).where(Item.id.in_(head))).all()
            )
            report = replace(
                report,
                disagreements=report.disagreements.rename(index=names).rename_axis("item"),
            )
    if report is None:
        click.echo(f"project {project_name!r} has no single-label answers yet: nothing to report")
        return
    click.echo(format_report(report, retired=retired))
    click.echo("\n".join(format_extras(data)))


def format_extras(data: dict) -> list[str]:
    """The project-side lines after :func:`format_report`: ambiguous answers, adjudication,
    guideline versions and the model next to the human level."""
    answers, adj = data["answers"], data["adjudication"]
    lines = [
        f"  ({adj['adjudicated']} adjudicated; gold items ({data['gold_items']}) are not listed)",
        "",
        f"ambiguous answers: {answers['ambiguous']} of {answers['total']}"
        + (
            f"; with several labels (left out): {answers['multi_label']}"
            if answers["multi_label"]
            else ""
        ),
    ]
    for row in data["ambiguous"]["per_annotator"][:10]:
        lines.append(f"  {row['annotator']:<20} {row['ambiguous']:>6} of {row['answers']}")
    if data["by_guideline_version"]:
        lines += ["", "agreement per guideline version (answers paired within a version)"]
        lines.append(
            f"  {'version':<8} {'answers':>8} {'overlap':>8} {'percent':>8} {'fleiss':>8} "
            f"{'alpha':>8}"
        )
        for row in data["by_guideline_version"]:
            lines.append(
                f"  v{row['guideline_version']:<7} {row['n_answers']:>8} "
                f"{row['n_overlap_items']:>8} {_number(row['percent_agreement']):>8} "
                f"{_number(row['fleiss_kappa']):>8} {_number(row['krippendorff_alpha']):>8}"
            )
    model = data["model"]
    if model is not None:
        lines += ["", "human level and the model on the same overlap items"]
        if not model["available"]:
            lines.append(f"  no model comparison: {model['reason']}")
        else:
            lines.append(f"  {'label':<16} {'answers':>8} {'human':>8} {'model':>8} {'gap':>8}")
            for row in model["table"]:
                lines.append(
                    f"  {row['label']:<16} {row['n']:>8} {_number(row['human']):>8} "
                    f"{_number(row['model']):>8} {_number(row['gap']):>8}"
                )
            lines.append(f"  model: {model['method']}.")
            run = model["latest_run"]
            if run is not None:
                lines.append(
                    f"  (model run #{run['id']} itself measured "
                    f"{_number(run['holdout_accuracy'])} accuracy on {run['n_holdout']} "
                    "held-out labels; its fitted model is not stored)"
                )
    return lines


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
    """ "ann1: pos, ann2: neg" for a few annotators, else vote counts "neg x7, pos x5"."""
    if len(labels) <= max_names:
        return ", ".join(f"{name}: {label}" for name, label in labels.items())
    votes: dict = {}
    for label in labels.values():
        votes[label] = votes.get(label, 0) + 1
    ranked = sorted(votes.items(), key=lambda pair: -pair[1])
    return ", ".join(f"{label} x{n}" for label, n in ranked)


def _table(frame: pd.DataFrame) -> list[str]:
    text = frame.to_string(float_format=lambda v: f"{v:.3f}", na_rep="-")
    return ["  " + line for line in text.splitlines()]


def format_report(
    report: AgreementReport,
    max_annotators: int = 30,
    max_items: int = 10,
    retired: Collection[str] = (),
) -> str:
    """A plain-text summary of an agreement report for the terminal.

    Shows the overall metrics with their bootstrap intervals, the per-label table (``retired``
    labels marked so), the ``max_annotators`` least reliable annotators (by Dawid-Skene accuracy)
    and the first ``max_items`` items awaiting adjudication.
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
    per_label = report.per_label[["n_answers", "share", "specific_agreement", "human", "ds_prior"]]
    marked = per_label.rename(index=lambda name: f"{name} (retired)" if name in retired else name)
    lines += ["", "per label"] + _table(marked)

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
    lines += _table(annotators.head(max_annotators))

    backlog = report.disagreements
    lines += ["", f"to adjudicate: {len(backlog)} items"]
    if len(backlog):
        head = backlog.head(max_items)
        lines += _table(
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
