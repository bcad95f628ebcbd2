"""``labelapp export``: write a project's labeled items as a dataset version, list and compare
versions, and write a past version again.

``labelapp export --project NAME --format FMT --out DIR`` exports (the group runs it when no
subcommand is given); ``versions``, ``diff`` and ``again`` are subcommands.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from labelapp.cli.context import database
from labelapp.formats import EXPORT_FORMATS as FORMATS


def _ratios(ctx: click.Context, param: click.Parameter, value: str) -> tuple[float, ...]:
    try:
        ratios = tuple(float(x) for x in value.split(","))
    except ValueError:
        raise click.BadParameter(f"{value!r}: give three numbers like 0.8,0.1,0.1") from None
    if len(ratios) != 3:
        raise click.BadParameter(f"{value!r}: give three numbers (train, dev, test)")
    return ratios


@contextmanager
def _sessions(project: str) -> Iterator[tuple[object, int]]:
    """A session factory on the configured database and the project's id."""
    from labelapp.db import make_engine, make_session_factory
    from labelapp.services.errors import UserError
    from labelapp.services.projects import get_project_by_name

    with database() as session:
        project_id = get_project_by_name(session, project).id
    engine = make_engine()
    try:
        yield make_session_factory(engine), project_id
    except UserError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        engine.dispose()


def _bar():
    from labelapp.cli.imports import _PhaseBar

    return _PhaseBar()


@contextmanager
def _sessions_and_bar(project: str) -> Iterator[tuple[Any, int, Any]]:
    """:func:`_sessions` and a progress bar for the work done with them, closed at the end."""
    bar = _bar()
    with _sessions(project) as (sessions, project_id):
        try:
            yield sessions, project_id, bar
        finally:
            bar.close()


def _counts(per_split: dict[str, int]) -> str:
    return " / ".join(f"{split} {n:,}" for split, n in per_split.items())


@click.group("export", invoke_without_command=True)
@click.option("--project", help="Project name.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), help="Output format.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="A new or empty folder for the files and manifest.json.",
)
@click.option("--seed", default=0, show_default=True, help="Seed of the split assignment.")
@click.option(
    "--ratios",
    default="0.8,0.1,0.1",
    show_default=True,
    callback=_ratios,
    help="Train, dev and test shares.",
)
@click.option(
    "--min-confidence",
    default=0.9,
    show_default=True,
    type=click.FloatRange(0, 1),
    help="Weak (label-model, propagated) labels join train from this confidence up.",
)
@click.option(
    "--augment",
    "augment_source",
    help="Augmentation plan for train: a JSON file or a shipped pipeline name.",
)
@click.option(
    "--resplit",
    is_flag=True,
    help="Assign splits afresh instead of keeping every item's earlier split.",
)
@click.option(
    "--include-unlabeled",
    is_flag=True,
    help="Also write unlabeled.<ext>: the items left without a label, with their weak "
    "label or model prediction and confidence (for pre-annotation elsewhere).",
)
@click.pass_context
def export(
    ctx: click.Context,
    project: str | None,
    fmt: str | None,
    out: Path | None,
    seed: int,
    ratios: tuple[float, ...],
    min_confidence: float,
    augment_source: str | None,
    resplit: bool,
    include_unlabeled: bool,
) -> None:
    """Export a project's labeled items with train/dev/test splits and a manifest.

    Dev and test hold human (adjudicated where annotators disagreed) labels only; train adds
    label-model and propagated labels from --min-confidence up. Every export is recorded as a
    dataset version (see `labelapp export versions`).
    """
    if ctx.invoked_subcommand is not None:
        return
    missing = [f"--{n}" for n, v in (("project", project), ("format", fmt), ("out", out)) if not v]
    if missing:
        raise click.UsageError(
            f"export needs {', '.join(missing)} (or a subcommand: versions, diff, again)"
        )
    from labelapp.services.errors import UserError
    from labelapp.services.export import ExportRequest, export_project, load_plan, version_summary

    try:
        plan = load_plan(augment_source) if augment_source else None
    except UserError as exc:
        raise click.ClickException(str(exc)) from None
    request = ExportRequest(
        fmt=fmt,
        seed=seed,
        ratios=ratios,
        min_confidence=min_confidence,
        resplit=resplit,
        augment=plan,
        include_unlabeled=include_unlabeled,
    )  # type: ignore[arg-type]
    with _sessions_and_bar(project) as (sessions, project_id, bar):  # type: ignore[arg-type]
        version = export_project(sessions, project_id, request, out, progress=bar)
    summary = version_summary(version)
    sources = ", ".join(f"{source} {n:,}" for source, n in summary["per_source"].items())
    click.echo(
        f"version {version.version}: {summary['n_items']:,} items "
        f"({_counts(summary['per_split'])}); sources: {sources}"
        + (
            f"; {summary['n_augmented']:,} augmented copies in train"
            if summary["n_augmented"]
            else ""
        )
        + f" -> {version.out_dir}"
    )
    if summary["unlabeled"]:
        pool = summary["unlabeled"]
        click.echo(
            f"{pool['file']}: {pool['n_items']:,} items without a label, "
            f"{pool['n_predicted']:,} with a weak label or prediction"
        )
    if summary["moves"]:
        moved = ", ".join(f"{move} {n:,}" for move, n in summary["moves"].items())
        click.echo(
            f"items that changed split: {moved}"
            + ("" if request.resplit else " (labels no longer from people leave dev/test)")
        )
    for warning in summary["warnings"]:
        click.echo(f"warning: {warning}", err=True)


@export.command("versions")
@click.option("--project", required=True, help="Project name.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def versions(project: str, as_json: bool) -> None:
    """List the project's dataset versions, oldest first."""
    from labelapp.services.export import version_summary
    from labelapp.services.export.snapshots import list_versions
    from labelapp.services.projects import get_project_by_name

    with database() as session:
        project_id = get_project_by_name(session, project).id
        rows = [version_summary(v, local=True) for v in list_versions(session, project_id)]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo(f"{project}: no dataset versions yet (run `labelapp export`)")
        return
    for row in rows:
        click.echo(
            f"v{row['version']:<4} {row['created_at'][:19]}  {row['format']:<12} "
            f"{row['n_items']:>9,} items  {_counts(row['per_split'])}  {row['out_dir']}"
        )


@export.command("diff")
@click.option("--project", required=True, help="Project name.")
@click.argument("old", type=int)
@click.argument("new", type=int)
@click.option("--show", default=20, show_default=True, help="List up to this many items per kind.")
@click.option("--json", "as_json", is_flag=True, help="Print the whole comparison as JSON.")
def diff_command(project: str, old: int, new: int, show: int, as_json: bool) -> None:
    """Compare versions OLD and NEW: items added, removed, relabeled, moved between splits."""
    from labelapp.services.export import diff
    from labelapp.services.projects import get_project_by_name

    with database() as session:
        result = diff(session, get_project_by_name(session, project).id, old, new)
    if as_json:
        click.echo(json.dumps(result, indent=2, default=str))
        return
    items, names = result["items"], result["external_ids"]

    def name(item_id: str) -> str:
        return f"{item_id} ({names[item_id]})" if item_id in names else item_id

    click.echo(
        f"v{old} -> v{new}: {len(items['added']):,} added, {len(items['removed']):,} removed, "
        f"{len(items['relabeled']):,} relabeled, {len(items['moved']):,} moved, "
        f"{len(items['content_changed']):,} with changed content"
        + ("" if result["same_files"] else "; files differ")
    )
    for entry in items["relabeled"][:show]:
        click.echo(
            f"  relabeled {name(entry['item_id'])}: {entry['old']} ({entry['old_source']})"
            f" -> {entry['new']} ({entry['new_source']})"
        )
    for entry in items["moved"][:show]:
        click.echo(f"  moved {name(entry['item_id'])}: {entry['old']} -> {entry['new']}")
    for kind in ("added", "removed"):
        listed = items[kind][:show]
        if listed:
            more = len(items[kind]) - len(listed)
            click.echo(
                f"  {kind}: "
                + ", ".join(name(i) for i in listed)
                + (f" ... and {more:,} more" if more > 0 else "")
            )
    if result["changed_parameters"]:
        click.echo("  parameters changed: " + ", ".join(result["changed_parameters"]))


@export.command("again")
@click.option("--project", required=True, help="Project name.")
@click.argument("version", type=int)
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="A new or empty folder.",
)
def again(project: str, version: int, out: Path) -> None:
    """Write dataset VERSION again, byte for byte (fails, saying why, if items changed since)."""
    from labelapp.services.export import reexport_version

    with _sessions_and_bar(project) as (sessions, project_id, bar):
        target = reexport_version(sessions, project_id, version, out, progress=bar)
    click.echo(f"version {version} written again, identical to the recorded manifest -> {target}")
