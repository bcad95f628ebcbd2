"""``labelapp import``: bring a file or folder of items (and optional labels) into a project."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from labelapp.cli.context import database
from labelapp.formats import IMPORT_FORMATS
from labelapp.services.label_kinds import LABEL_KINDS
from labelapp.services.schema.names import DEFAULT_SCHEMA_MODE, SCHEMA_MODES

if TYPE_CHECKING:
    from labelapp.services.imports import ImportReport


class _PhaseBar:
    """One tqdm bar per phase (read, validate, store), on stderr."""

    def __init__(self) -> None:
        self.bar = None
        self.phase: str | None = None

    def __call__(self, phase: str, done: int, total: int) -> None:
        from tqdm import tqdm

        if phase != self.phase:
            self.close()
            self.phase = phase
            unit = "file" if phase == "read" else "row"
            self.bar = tqdm(total=total, desc=f"{phase:>8}", unit=unit, unit_scale=True, leave=True)
        if self.bar is not None:
            self.bar.total = total
            self.bar.n = done
            self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


@click.command("import")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--project", required=True, help="Project name.")
@click.option(
    "--create", is_flag=True, help="Create the project if it does not exist (needs --labels)."
)
@click.option("--labels", help="Comma-separated labels for --create.")
@click.option(
    "--type", "task_type", type=click.Choice(["text", "image"]), help="Project type for --create."
)
@click.option("--text-col", help="Column with the text (default: text).")
@click.option(
    "--id-col", help="Column with a stable item id (default: id, if present; else a content hash)."
)
@click.option("--label-col", help="Column with existing labels ('a|b' for several).")
@click.option(
    "--label-kind",
    type=click.Choice(LABEL_KINDS),
    help="What those labels are: human (default; they count like annotators' answers, any split) "
    "or weak (like a label model's: train only, with --confidence-col).",
)
@click.option("--confidence-col", help="Weak labels: column with each label's confidence (0-1).")
@click.option("--label-source", hidden=True, help="Deprecated: use --label-kind.")
@click.option("--group-col", help="Column that groups items (kept together in splits).")
@click.option("--format", "fmt", type=click.Choice(IMPORT_FORMATS))
@click.option(
    "--folder-labels", is_flag=True, help="Images: take each label from its subfolder's name."
)
@click.option(
    "--gold",
    is_flag=True,
    help="The labels are known answers: make these items gold items (served to every annotator "
    "at the project's gold rate to measure accuracy).",
)
@click.option(
    "--schema",
    "schema_mode",
    type=click.Choice(SCHEMA_MODES),
    default=DEFAULT_SCHEMA_MODE,
    show_default=True,
    help="Against the project schema: strict refuses a file with another type, a missing "
    "required column or empty strings against nulls; evolve accepts it as the schema's next "
    "version.",
)
def import_command(
    path: Path,
    project: str,
    create: bool,
    labels: str | None,
    task_type: str | None,
    text_col: str | None,
    id_col: str | None,
    label_col: str | None,
    label_kind: str | None,
    confidence_col: str | None,
    label_source: str | None,
    group_col: str | None,
    fmt: str | None,
    folder_labels: bool,
    gold: bool,
    schema_mode: str,
) -> None:
    """Import PATH (CSV, TSV, JSONL, Parquet, a Label Studio JSON export, or a folder of images)
    into a project.

    Every row is validated before anything is stored; a bad row rejects the whole file with its
    line number. Rows already imported (same id, or same text when there is no id) are skipped.
    """
    from sqlalchemy import select

    from labelapp.db import ensure_write_lock
    from labelapp.models import Project
    from labelapp.services.imports import ImportOptions, import_path
    from labelapp.services.projects import create_project, get_project_by_name

    _check_label_options(gold, label_col, label_kind, label_source, folder_labels, confidence_col)
    bar = _PhaseBar()
    with database() as session:
        target = session.scalar(select(Project).where(Project.name == project))
        if target is None and create:
            if not labels:
                raise click.UsageError("--create needs --labels a,b,...")
            # The new project and its items commit together: hold the write lock from here.
            ensure_write_lock(session)
            kind = task_type or ("image" if path.is_dir() else "text")
            target = create_project(session, project, labels, task_type=kind)
            click.echo(f"created project {target.id}: {target.name}", err=True)
        elif target is None:
            target = get_project_by_name(
                session, project, "Create it with this import: add --create --labels a,b"
            )
        options = ImportOptions(
            text_col=text_col,
            id_col=id_col,
            label_col=label_col,
            label_kind=label_kind,
            confidence_col=confidence_col,
            label_source=label_source,
            group_col=group_col,
            format=fmt,
            folder_labels=folder_labels,
            gold=gold,
            schema=schema_mode,
        )
        try:
            report = import_path(session, target, path, options, progress=bar)
        finally:
            bar.close()
    _echo_report(report)


def _check_label_options(
    gold: bool,
    label_col: str | None,
    label_kind: str | None,
    label_source: str | None,
    folder_labels: bool,
    confidence_col: str | None,
) -> None:
    if gold and not (label_col or folder_labels):
        raise click.UsageError("--gold needs the answers: give --label-col (or --folder-labels)")
    if (label_kind or label_source) and not (label_col or folder_labels):
        raise click.UsageError("--label-kind needs --label-col (or --folder-labels for images)")
    if confidence_col and label_kind != "weak":
        raise click.UsageError("--confidence-col is for weak labels: add --label-kind weak")


def _echo_report(report: ImportReport) -> None:
    """The import's numbers on stdout (they add up), its warnings and schema check on stderr."""
    click.echo(
        f"{report.filename}: {report.rows:,} rows -> {report.items_created:,} new items, "
        f"{report.items_existing:,} already there, {report.duplicates_in_file:,} duplicates in the "
        f"file, {report.annotations_created:,} labels"
        + (
            f" ({report.label_kind})"
            if report.label_kind
            else f" from {report.label_source!r}"
            if report.label_source
            else ""
        )
        + (f"; {report.gold_items:,} gold items" if report.gold_items else "")
    )
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    if report.schema:
        from labelapp.services.schema import report_lines

        for line in report_lines(report.schema):
            click.echo(line, err=True)
