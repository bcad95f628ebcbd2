"""Plots of an agreement report for the agreement page: kappa heatmap, annotators, agreement
over time.

Each function returns a matplotlib ``Figure`` built without pyplot (no global state, safe in a
web server's threads); ``figure_png(figure)`` turns it into PNG bytes. matplotlib is imported
when a plot is made, not with this module.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from weak_supervision.agreement.report import AgreementReport


def _figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def figure_png(figure: Figure) -> bytes:
    """The figure as PNG bytes (for an ``<img>`` or a file)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def kappa_heatmap(report: AgreementReport, max_annotators: int = 40) -> Figure:
    """Annotator x annotator Cohen's kappa; grey where a pair shares too few items.

    With more than ``max_annotators`` annotators, those with the most overlap answers are shown.
    """
    kappa = report.kappa
    if len(kappa) > max_annotators:
        busiest = report.annotators["n_overlap"].sort_values(ascending=False).index
        keep = list(busiest[:max_annotators])
        kappa = kappa.loc[keep, keep]
    size = min(3 + 0.28 * len(kappa), 14)
    figure = _figure(size + 1.2, size)
    axes = figure.add_subplot()
    matrix = kappa.to_numpy(dtype=float).copy()
    np.fill_diagonal(matrix, np.nan)  # always 1: leave it out so the pairs stand out
    values = np.ma.masked_invalid(matrix)
    from matplotlib import colormaps

    cmap = colormaps["RdYlGn"].with_extremes(bad="#d9d9d9")
    image = axes.imshow(values, cmap=cmap, vmin=-1, vmax=1)
    names = [str(name) for name in kappa.index]
    axes.set_xticks(range(len(names)), names, rotation=90, fontsize=8)
    axes.set_yticks(range(len(names)), names, fontsize=8)
    if len(names) <= 12:
        for (i, j), value in np.ndenumerate(matrix):
            if np.isfinite(value):
                axes.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=8)
    shown = (
        f" ({len(names)} of {len(report.kappa)} annotators)"
        if len(names) < len(report.kappa)
        else ""
    )
    axes.set_title(f"Cohen's kappa between annotators{shown}")
    figure.colorbar(
        image, ax=axes, shrink=0.8, label="kappa (grey: same annotator, or no shared items)"
    )
    return figure


def annotator_plot(report: AgreementReport, max_annotators: int = 40) -> Figure:
    """Per annotator: Dawid-Skene accuracy, agreement with the others, gold accuracy (if any).

    Sorted from least to most reliable; with many annotators, the least reliable are shown.
    """
    columns = {
        "ds_accuracy": "Dawid-Skene accuracy",
        "agreement_with_others": "agrees with others' majority",
        "gold_accuracy": "accuracy on gold",
    }
    table = report.annotators[[c for c in columns if c in report.annotators.columns]]
    table = table.sort_values("ds_accuracy").head(max_annotators)
    figure = _figure(8, 1.2 + 0.3 * len(table))
    axes = figure.add_subplot()
    height = 0.8 / table.shape[1]
    positions = np.arange(len(table))
    for k, column in enumerate(table.columns):
        axes.barh(
            positions + (k - (table.shape[1] - 1) / 2) * height,
            table[column].fillna(0).to_numpy(),
            height=height,
            label=columns[column],
        )
    axes.set_yticks(positions, [str(name) for name in table.index], fontsize=8)
    axes.set_xlim(0, 1)
    axes.set_xlabel("share")
    axes.invert_yaxis()
    axes.legend(loc="lower right", fontsize=8)
    axes.set_title("Annotator reliability (least reliable first)")
    return figure


def agreement_over_time_plot(table: pd.DataFrame) -> Figure:
    """Lines of percent agreement, Fleiss' kappa and alpha per period (``agreement_over_time``
    or ``agreement_by`` output), with the number of overlap items as bars."""
    missing = {"percent_agreement", "fleiss_kappa", "krippendorff_alpha", "n_overlap_items"} - set(
        table.columns
    )
    if missing:
        raise ValueError(
            f"table lacks column(s) {sorted(missing)}; pass the output of agreement_over_time() "
            "or agreement_by()."
        )
    figure = _figure(8, 4)
    axes = figure.add_subplot()
    x = np.arange(len(table))
    counts = axes.twinx()
    counts.bar(x, table["n_overlap_items"].to_numpy(), color="#e0e0e0", width=0.6)
    counts.set_ylabel("items with 2+ annotators")
    axes.set_zorder(counts.get_zorder() + 1)
    axes.patch.set_visible(False)
    for column, name in (
        ("percent_agreement", "percent agreement"),
        ("fleiss_kappa", "Fleiss' kappa"),
        ("krippendorff_alpha", "Krippendorff's alpha"),
    ):
        axes.plot(x, table[column].to_numpy(dtype=float), marker="o", label=name)
    axes.set_xticks(x, [str(v) for v in table.index], rotation=30, ha="right", fontsize=8)
    kappas = table["fleiss_kappa"].to_numpy(dtype=float)
    lowest = float(np.nanmin(kappas)) if np.isfinite(kappas).any() else 0.0
    axes.set_ylim(min(0.0, lowest - 0.05), 1.02)
    axes.set_ylabel("agreement")
    axes.legend(loc="lower left", fontsize=8)
    axes.set_title(f"Agreement per {table.index.name or 'group'}")
    return figure
