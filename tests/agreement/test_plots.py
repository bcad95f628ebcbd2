"""Plots for the agreement page render from a real report."""

from __future__ import annotations

import pandas as pd
import pytest

from weak_supervision.agreement import agreement_by
from weak_supervision.agreement.plots import (
    agreement_over_time_plot,
    annotator_plot,
    figure_png,
    kappa_heatmap,
)


@pytest.mark.slow
def test_kappa_heatmap_shows_the_busiest_annotators(d_product_report) -> None:
    figure = kappa_heatmap(d_product_report, max_annotators=25)
    axes = figure.axes[0]
    names = [label.get_text() for label in axes.get_xticklabels()]
    busiest = d_product_report.annotators["n_overlap"].nlargest(25).index
    assert len(names) == 25 and set(names) == {str(name) for name in busiest}
    assert "25 of 176" in axes.get_title()
    assert figure_png(figure).startswith(b"\x89PNG")


@pytest.mark.slow
def test_annotator_plot_has_one_bar_group_per_annotator_least_reliable_first(
    d_product_report,
) -> None:
    figure = annotator_plot(d_product_report, max_annotators=10)
    axes = figure.axes[0]
    names = [label.get_text() for label in axes.get_yticklabels()]
    worst = d_product_report.annotators["ds_accuracy"].sort_values().index[:10]
    assert names == [str(name) for name in worst]
    # Three series (Dawid-Skene, agreement with others, gold accuracy) of ten bars each.
    assert len(axes.patches) == 30
    assert figure_png(figure).startswith(b"\x89PNG")


@pytest.mark.slow
def test_agreement_over_time_plot_takes_agreement_by_output() -> None:
    answers = pd.DataFrame(
        {
            "item": ["a", "a", "b", "b", "c", "c"],
            "annotator": ["x", "y"] * 3,
            "label": [1, 1, 1, 2, 2, 2],
            "guideline_version": [1, 1, 1, 1, 2, 2],
        }
    )
    table = agreement_by(answers, "guideline_version")
    figure = agreement_over_time_plot(table)
    assert [line.get_label() for line in figure.axes[0].get_lines()] == [
        "percent agreement",
        "Fleiss' kappa",
        "Krippendorff's alpha",
    ]
    assert figure_png(figure).startswith(b"\x89PNG")
    with pytest.raises(ValueError, match="agreement_over_time"):
        agreement_over_time_plot(pd.DataFrame({"x": [1]}))
