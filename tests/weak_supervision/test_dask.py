"""The Dask applier gives the same votes as the in-process one (2 local workers)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.paths import SHARED_DATA
from weak_supervision.apply import apply_lfs, apply_lfs_dask
from weak_supervision.lfs import lfs_from_specs
from weak_supervision.python_lfs import python_lfs_from_source

SOURCE = """
from snorkel.labeling import labeling_function

@labeling_function()
def short(x):
    return 0 if isinstance(x.text, str) and len(x.text.split()) < 5 else -1
"""


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    files = sorted((SHARED_DATA / "youtube_spam_uci").glob("Youtube0*.csv"))
    raw = pd.concat([pd.read_csv(f) for f in files], ignore_index=True)
    return pd.DataFrame({"text": raw["CONTENT"].astype("str"), "n": raw["CONTENT"].str.len()})


@pytest.mark.slow
def test_dask_applier_matches_pandas_applier(frame):
    import dask.dataframe as dd
    from distributed import Client, LocalCluster

    lfs = lfs_from_specs(
        [
            {"kind": "keyword", "name": "my", "label": 1, "keywords": ["my", "subscribe"]},
            {
                "kind": "regex",
                "name": "check",
                "label": 1,
                "pattern": r"check.*out\b",
                "ignore_case": True,
            },
            {"kind": "metadata", "name": "long", "label": 0, "field": "n", "op": ">", "value": 120},
        ]
    ) + python_lfs_from_source(SOURCE)
    expected = apply_lfs(lfs, frame)
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        got = apply_lfs_dask(lfs, frame, client=client, npartitions=5)
        got_dd = apply_lfs_dask(lfs, dd.from_pandas(frame, npartitions=3), client=client)
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(got_dd, expected)
    assert (expected >= 0).sum(axis=0).min() > 10
