"""Shared real data for the agreement tests."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tests.paths import SHARED_DATA

ORACLES = SHARED_DATA / "agreement_oracles"
CROWD = SHARED_DATA / "crowd"
DAWID_SKENE_1979 = SHARED_DATA / "dawid_skene_1979"


def evaluate(answers, truth, *options: str):
    """``labelapp agreement evaluate --answers ANSWERS --truth TRUTH`` with more ``options``:
    the click result."""
    from click.testing import CliRunner

    from labelapp.cli.agreement import agreement

    args = ["evaluate", "--answers", str(answers), "--truth", str(truth), *options]
    return CliRunner().invoke(agreement, args)


def evaluate_crowd(name: str, methods: str):
    """:func:`evaluate` on the answers and truth of the crowd data set ``name`` with ``methods``."""
    return evaluate(CROWD / name / "answer.csv", CROWD / name / "truth.csv", "--methods", methods)


def oracle(name: str) -> dict:
    return json.loads((ORACLES / name).read_text())


@pytest.fixture(scope="session")
def d_product() -> tuple[pd.DataFrame, pd.Series]:
    """D_Product crowd answers as a long (item, annotator, label) table, and its truth."""
    from weak_supervision.agreement.crowd import load_answers, load_truth

    answers = load_answers(CROWD / "D_Product" / "answer.csv")
    truth = load_truth(CROWD / "D_Product" / "truth.csv")
    long = answers.rename(columns={"question": "item", "worker": "annotator", "answer": "label"})
    return long, truth


@pytest.fixture(scope="session")
def d_product_report(d_product):
    from weak_supervision.agreement import agreement_report

    answers, truth = d_product
    return agreement_report(answers, ["0", "1"], gold=truth.iloc[::10], n_resamples=200)
