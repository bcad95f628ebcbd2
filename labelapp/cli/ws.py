"""``labelapp ws``: weak supervision from the command line (no database needed)."""

from __future__ import annotations

import json

import click


@click.group()
def ws() -> None:
    """Weak supervision: compare label models on data in WRENCH format."""


@ws.command("evaluate")
@click.argument("directory", type=click.Path(exists=True, file_okay=False))
@click.option(
    "--select-by",
    type=click.Choice(["f1", "accuracy"]),
    default="f1",
    show_default=True,
    help="Valid-split score the pipeline uses to choose its aggregator.",
)
@click.option("--seed", type=int, default=123, show_default=True, help="Label model seed.")
def evaluate(directory: str, select_by: str, seed: int) -> None:
    """Fit majority vote and our label model on the weak labels of DIRECTORY (train.json,
    valid.json, test.json, label.json; without train.json, fit on valid) and score them on test.

    The last output line is one JSON object:
    {"majority_vote": {"accuracy": .., "f1": ..}, "label_model": {"accuracy": .., "f1": ..}}
    (percent; f1 of class 1 for two classes, macro otherwise).
    """
    from weak_supervision.evaluate import evaluate_wrench

    try:
        result = evaluate_wrench(directory, metric=select_by, seed=seed)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"{result['dataset']}: {result['n_classes']} classes, {result['n_lfs']} LFs, "
        f"fitted on {result['fit_split']}; chosen on valid by {select_by}: {result['chosen']}"
    )
    for name, scores in result["valid_scores"].items():
        click.echo(f"  valid {name:<22} accuracy {scores['accuracy']:6.2f}  f1 {scores['f1']:6.2f}")
    click.echo(json.dumps({k: result[k] for k in ("majority_vote", "label_model")}))
