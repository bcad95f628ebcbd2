"""Where the shared real data lives: ``../shared/data`` beside the repository (as CI has it)."""

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("LABELAPP_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


def read_sms_spam():
    """The UCI SMS spam collection as a frame (``label``: ham or spam, ``text``), read once
    here for the tests and the benchmarks (tab-separated, quotes are text)."""
    import pandas as pd

    return pd.read_csv(
        SHARED_DATA / "text_classification" / "sms_spam_uci" / "SMSSpamCollection",
        sep="\t",
        header=None,
        names=["label", "text"],
        quoting=3,
    )


def read_ag_news():
    """The AG News test split as a frame: ``label`` (1-4), ``title``, ``description`` and
    ``text`` (the title, ". ", the description)."""
    import pandas as pd

    df = pd.read_csv(
        SHARED_DATA / "text_classification" / "ag_news_test" / "test.csv",
        header=None,
        names=["label", "title", "description"],
    )
    df["text"] = df["title"] + ". " + df["description"]
    return df
