"""``labelapp drift``: compare two groups of a project's items; the last line is the JSON report."""

from __future__ import annotations

import json

import click

from labelapp.cli.context import database
from labelapp.services.drift.names import SELECTOR_HELP


@click.command("drift")
@click.option("--project", required=True, help="Project name.")
@click.option("--a", "group_a", required=True, help=f"The reference group: {SELECTOR_HELP}.")
@click.option("--b", "group_b", required=True, help=f"The group compared with it: {SELECTOR_HELP}.")
@click.option("--seed", default=0, show_default=True, help="Seed of the samples and folds.")
@click.option(
    "--alpha", type=float, help="Significance level (default 0.05; LABELAPP_DRIFT_ALPHA)."
)
@click.option(
    "--min-auc",
    type=float,
    help="Smallest domain AUC that is drift (default 0.556: Cohen's d 0.2; "
    "LABELAPP_DRIFT_MIN_AUC).",
)
@click.option(
    "--min-ks",
    type=float,
    help="Smallest KS distance D that is drift (default 0.08; LABELAPP_DRIFT_MIN_KS).",
)
@click.option(
    "--min-v",
    type=float,
    help="Smallest Cramér's V that is drift (default 0.1, Cohen's small w; LABELAPP_DRIFT_MIN_V).",
)
def drift(
    project: str,
    group_a: str,
    group_b: str,
    seed: int,
    alpha: float | None,
    min_auc: float | None,
    min_ks: float | None,
    min_v: float | None,
) -> None:
    """Drift of group B against group A: a test per metadata column (chi-square or
    Kolmogorov-Smirnov, Benjamini-Hochberg corrected), text length and out-of-vocabulary rate, a
    domain classifier's cross-validated AUC, and the human labels' shift. A test counts as drift
    when significant and at least a small effect (Cohen's conventions). Last line: JSON."""
    from labelapp.services.drift.service import drift_between
    from labelapp.services.projects import get_project_by_name

    with database() as session:
        report = drift_between(
            session,
            get_project_by_name(session, project),
            group_a,
            group_b,
            seed,
            alpha=alpha,
            min_auc=min_auc,
            min_ks=min_ks,
            min_v=min_v,
        )
    auc = report["domain_auc"]
    click.echo(
        f"A: {report['a']:,} items, B: {report['b']:,} items; domain classifier AUC "
        + (f"{auc:.3f}" if auc is not None else "n/a")
    )
    for name, test in [*report["columns"].items(), ("labels", report["labels"])]:
        if test.get("p") is None:
            click.echo(f"  {name}: not tested ({test.get('reason', 'no data')})")
            continue
        verdict = "DRIFTED" if test["drifted"] else "same"
        click.echo(
            f"  {name}: {test['test']} {test['statistic']:.4g}, p={test['p']:.3g} "
            f"(corrected {test.get('p_adjusted', test['p']):.3g}) {verdict}"
        )
    click.echo(f"verdict: {'drifted' if report['drifted'] else 'no drift'}")
    click.echo(json.dumps(report))
