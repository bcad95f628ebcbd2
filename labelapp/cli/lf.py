"""``labelapp lf``: labeling functions of a project from the command line.

``load FILE.py`` stores the Snorkel ``@labeling_function`` LFs a file defines (the only way
Python LFs enter the app), ``list`` shows the LFs, ``apply`` runs apply + label model +
propagation (+ the end model with ``--steps ...,train``) inline with a progress bar.
"""

from __future__ import annotations

from pathlib import Path

import click

from labelapp.cli.context import database


@click.group("lf")
def lf() -> None:
    """Labeling functions: load Python LFs from a file, list them, apply them."""


@lf.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--project", required=True, help="Project name.")
@click.option("--author", default=None, help="Username recorded as the LFs' author.")
def load(path: Path, project: str, author: str | None) -> None:
    """Store each LF defined in PATH (decorated with snorkel's @labeling_function()).

    An LF returns a class index: 0 for the project's first label, 1 for the second, ...
    (the 'ambiguous' label is never a class), or -1 to abstain. Loading a file again makes a
    new version of every LF whose file changed.
    """
    from sqlalchemy import select

    from labelapp.models import User
    from labelapp.services.projects import get_project_by_name
    from labelapp.services.weak.common import class_names
    from labelapp.services.weak.lfs import load_python_lfs

    with database(write=True) as session:
        target = get_project_by_name(session, project)
        user = None
        if author:
            user = session.scalar(select(User).where(User.username == author))
            if user is None:
                raise click.ClickException(f"no user named {author!r}")
        classes = class_names(target)
        stored = load_python_lfs(session, target, path, user)
        for row, created in stored:
            state = f"version {row.version}" if created else f"unchanged (version {row.version})"
            click.echo(f"{row.name}: {state}")
    click.echo(
        f"{len(stored)} Python LF(s) from {path.name}; votes are class indices: "
        + ", ".join(f"{i}={name}" for i, name in enumerate(classes)),
        err=True,
    )


@lf.command("list")
@click.option("--project", required=True, help="Project name.")
def list_lfs(project: str) -> None:
    """The latest version of each LF: id, name, kind, version, on/off, and what it checks."""
    from labelapp.services.projects import get_project_by_name
    from labelapp.services.weak.lfs import latest_lfs

    with database() as session:
        target = get_project_by_name(session, project)
        rows = latest_lfs(session, target.id)
        if not rows:
            click.echo("no labeling functions yet", err=True)
        for row in rows:
            what = {k: v for k, v in row.spec.items() if k not in ("kind", "name")}
            click.echo(
                f"{row.id}\t{row.name}\t{row.kind}\tv{row.version}\t"
                f"{'on' if row.active else 'off'}\t{what}"
            )


@lf.command("apply")
@click.option("--project", required=True, help="Project name.")
@click.option(
    "--steps",
    default="apply,fit,propagate",
    show_default=True,
    help="Comma-separated steps: apply (votes), fit (label model), propagate, train (the end "
    "model on the label-model labels).",
)
def apply(project: str, steps: str) -> None:
    """Apply the active LFs, fit the label model and propagate labels (and, with
    ``--steps train``, train the end model), here and now."""
    from tqdm import tqdm

    from labelapp.db import make_engine, make_session_factory
    from labelapp.services.errors import UserError
    from labelapp.services.projects import get_project_by_name
    from labelapp.services.weak.runs import STEPS

    chosen = tuple(s.strip() for s in steps.split(",") if s.strip())
    unknown = sorted(set(chosen) - set(STEPS))
    if unknown or not chosen:
        raise click.BadParameter(
            f"unknown step(s) {unknown}: use {', '.join(STEPS)}", param_hint="--steps"
        )
    with database() as session:
        project_id = get_project_by_name(session, project).id
    engine = make_engine()
    bar = tqdm(total=100, desc="weak supervision", unit="%", leave=True)

    def progress(fraction: float, message: str) -> None:
        bar.n = round(100 * fraction, 1)
        bar.set_postfix_str(message[:60])
        bar.refresh()

    try:
        from labelapp.services.weak.pipeline import pipeline

        result = pipeline(make_session_factory(engine), project_id, chosen, progress=progress)
        progress(1.0, "done")
    except (UserError, ValueError) as exc:  # bad input or settings: the message says which
        raise click.ClickException(str(exc)) from None
    finally:
        bar.close()
        engine.dispose()
    if "apply" in result:
        a = result["apply"]
        click.echo(
            f"applied {a['n_lfs']} LFs to {a['n_items']:,} items on {a['applier']}: "
            f"{a['n_votes']:,} votes, {a['n_covered']:,} items covered"
        )
    if "label_model" in result:
        m = result["label_model"]
        quality = (
            f"accuracy {m['accuracy']}, F1 {m['f1']} on {m['n_evaluated']} human-labeled items"
            if "accuracy" in m
            else "no human labels to score it on"
        )
        click.echo(
            f"label model run {result['label_model_run_id']} ({m['chosen']}): "
            f"{m['n_covered']:,} items labeled; {quality}"
        )
    if "propagation" in result:
        m = result["propagation"]
        quality = f"; accuracy {m['accuracy']} on held-out human labels" if "accuracy" in m else ""
        click.echo(
            f"propagation run {result['propagation_run_id']}: {m['n_reached']:,} items "
            f"reached, {m['n_new']:,} no LF covered{quality}"
        )
    if "end_model" in result:
        m = result["end_model"]
        quality = (
            f"accuracy {m['accuracy']}, macro F1 {m['f1_macro']} on {m['n_evaluated']} "
            "held-out human-labeled items"
            if "accuracy" in m
            else "no human labels to score it on"
        )
        click.echo(
            f"end model run {result['end_model_run_id']}: trained on {m['n_train']:,} "
            f"label-model labels, predicted {m['n_items']:,} items; {quality}"
        )
