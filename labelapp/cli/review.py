"""``labelapp review``: find the labels most likely wrong."""

from __future__ import annotations

import json

import click

from labelapp.cli.context import database


@click.group("review")
def review() -> None:
    """Find and fix wrong labels."""


@review.command("scan")
@click.option("--project", required=True, help="Project name.")
@click.option(
    "--top",
    default=20,
    show_default=True,
    type=click.IntRange(0, 100_000),
    help="How many flagged items to print.",
)
@click.option(
    "--seed",
    default=0,
    show_default=True,
    type=click.IntRange(0, 2**32 - 1),
    help="Seed of the cross-validation folds.",
)
def scan(project: str, top: int, seed: int) -> None:
    """Score every human label of PROJECT (cross-validated confident learning, annotators who
    disagree, LF votes, near-duplicates), store the scan and print the labels most likely wrong.

    The last line is one JSON object: {"scored": N, "flagged": M, "top": [{"id", "label",
    "suggested", "score", "reasons"}, ...]}.
    """
    from labelapp.db import make_engine, make_session_factory
    from labelapp.services.errors import UserError
    from labelapp.services.label_issues import scan as run_scan
    from labelapp.services.projects import get_project_by_name

    with database() as session:
        project_id = get_project_by_name(session, project).id
    engine = make_engine()
    try:
        result = run_scan(make_session_factory(engine), project_id, random_state=seed)
    except (UserError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        engine.dispose()
    shown = result["top"][:top]
    click.echo(
        f"{project}: {result['flagged']:,} of {result['scored']:,} labels look wrong "
        f"(scan #{result['run_id']}); the first {len(shown)}:"
    )
    for row in shown:
        click.echo(
            f"  {row['score']:.3f}  {row['id']}: {row['label']!r} -> {row['suggested']!r}"
            f"  ({'; '.join(row['reasons'])})"
        )
    summary = {
        "scored": result["scored"],
        "flagged": result["flagged"],
        "top": [
            {k: row[k] for k in ("id", "label", "suggested", "score", "reasons")} for row in shown
        ],
    }
    click.echo(json.dumps(summary, ensure_ascii=False))
