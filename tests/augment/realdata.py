"""Loaders for the real data sets the split tests run on."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tests.paths import SHARED_DATA


def youtube_items() -> pd.DataFrame:
    """UCI YouTube spam: one row per comment (3 exact repeated rows dropped), grouped by author."""
    files = sorted((SHARED_DATA / "youtube_spam_uci").glob("Youtube0*.csv"))
    frame = pd.concat([pd.read_csv(f) for f in files], ignore_index=True)
    frame = frame.drop_duplicates("COMMENT_ID").reset_index(drop=True)
    return pd.DataFrame(
        {
            "item_id": frame["COMMENT_ID"],
            "label": frame["CLASS"].map({0: "ham", 1: "spam"}),
            "group_key": frame["AUTHOR"],
            "text": frame["CONTENT"],
            "metadata": [{"date": d if isinstance(d, str) else None} for d in frame["DATE"]],
        }
    )


def ag_news_items() -> pd.DataFrame:
    """AG News test split: 7,600 rows, 4 balanced classes."""
    path = SHARED_DATA / "text_classification" / "ag_news_test" / "test.csv"
    frame = pd.read_csv(path, header=None, names=["label", "title", "description"])
    names = {1: "World", 2: "Sports", 3: "Business", 4: "Sci/Tech"}
    return pd.DataFrame(
        {
            "item_id": np.arange(len(frame)),
            "label": frame["label"].map(names),
            "text": frame["title"] + " " + frame["description"],
        }
    )
