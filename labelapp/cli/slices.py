"""``labelapp slices``: model and annotators per value of a metadata column and per class."""

from __future__ import annotations

import json
from typing import Any

import click

from labelapp.cli.context import database


@click.command("slices")
@click.option("--project", required=True, help="Project name.")
@click.option("--by", "column", required=True, help="Metadata column whose values are the slices.")
@click.option("--seed", default=0, show_default=True, help="Seed of the cross-validation folds.")
def slices(project: str, column: str, seed: int) -> None:
    """Per slice: items, human labels, the model's held-out accuracy with a 95% Wilson interval,
    the human level (agreement with the others) and the gap, worst first; small slices marked.
    Last line: JSON."""
    from labelapp.services.projects import get_project_by_name
    from labelapp.services.slices import slice_report

    with database() as session:
        report = slice_report(session, get_project_by_name(session, project), column, seed)
    for title, rows in ((f"by {column}", report["slices"]), ("by class", report["classes"])):
        click.echo(f"{title}:")
        for row in rows:
            click.echo("  " + _line(row))
    click.echo(json.dumps(report))


def _line(row: dict[str, Any]) -> str:
    def pct(x: float | None) -> str:
        return "n/a" if x is None else f"{100 * x:.1f}%"

    interval = row["model_interval"]
    span = f" [{pct(interval[0])}, {pct(interval[1])}]" if interval else ""
    gap = "" if row["gap"] is None else f", gap {100 * row['gap']:+.1f} pts"
    return (
        f"{row['value']}: {row['items']:,} items, {row['human_labels']:,} human labels, model "
        f"{pct(row['model_accuracy'])}{span}, humans {pct(row['human_level'])}{gap}"
        + (" (small slice)" if row["small"] else "")
    )
