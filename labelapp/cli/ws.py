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
    type=click.Choice(["auto", "f1", "accuracy"]),
    default="auto",
    show_default=True,
    help="Cross-validated valid score that chooses the label model "
    "(auto: F1 of class 1 for two classes, accuracy otherwise).",
)
@click.option(
    "--folds",
    type=click.IntRange(2, 20),
    default=5,
    show_default=True,
    help="Cross-validation folds over valid's human labels.",
)
@click.option(
    "--repeats",
    type=click.IntRange(1, 10),
    default=2,
    show_default=True,
    help="Cross-validation repeats (different fold splits).",
)
@click.option("--seed", type=int, default=123, show_default=True, help="Snorkel's seed.")
def evaluate(directory: str, select_by: str, folds: int, repeats: int, seed: int) -> None:
    """Fit every label model of the zoo on the weak labels of DIRECTORY (train.json,
    valid.json, test.json, label.json; without train.json, on valid), choose one by
    cross-validation over valid's human labels, and score every one on test.

    The last output line is one JSON object: {"majority_vote": {"accuracy": .., "f1": ..},
    "label_model": {..} (the chosen one), "chosen": NAME, "candidates": {NAME: {..}}}
    (test scores in percent; f1 of class 1 for two classes, macro otherwise).
    """
    from weak_supervision.evaluate import evaluate_wrench

    try:
        result = evaluate_wrench(
            directory,
            metric=None if select_by == "auto" else select_by,
            n_folds=folds,
            n_repeats=repeats,
            seed=seed,
        )
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"{result['dataset']}: {result['n_classes']} classes, {result['n_lfs']} LFs, "
        f"fitted on {result['fit_split']}; chosen: {result['chosen']} ({result['reason']})"
    )
    click.echo(f"  {'candidate':<22} {'valid (cv) acc':>14} {'f1':>7}   {'test acc':>8} {'f1':>7}")
    for name, test in result["test_scores"].items():
        valid = result["valid_scores"].get(name)
        cv = f"{valid['accuracy']:14.2f} {valid['f1']:7.2f}" if valid else f"{'-':>14} {'-':>7}"
        mark = "  <- chosen" if name == result["chosen"] else ""
        click.echo(f"  {name:<22} {cv}   {test['accuracy']:8.2f} {test['f1']:7.2f}{mark}")
    summary = {k: result[k] for k in ("majority_vote", "label_model", "chosen")}
    summary["candidates"] = result["test_scores"]
    click.echo(json.dumps(summary))
