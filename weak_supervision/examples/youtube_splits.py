"""The Snorkel spam tutorial's split of the five UCI YouTube spam CSVs, in one home.

Also loaded by file path, without the project, by ``benchmarks/spacy2/person_votes.py`` under an
old Python (3.7) with old pandas and scikit-learn: keep it to the standard library, pandas and
scikit-learn, and to syntax Python 3.7 reads.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def load_splits(data_dir: str | Path) -> dict[str, pd.DataFrame]:
    """The tutorial's split of the UCI CSVs (``load_spam_dataset`` in spam/utils.py): each file
    shuffled with seed 123; files 1-4 = train (1586), dev = 100 of train; file 5 split
    stratified into valid (120) and test (250). Columns: author, date, text, label, video."""
    from sklearn.model_selection import train_test_split

    files = sorted(Path(data_dir).glob("Youtube0*.csv"))
    if len(files) != 5:
        raise ValueError(f"{data_dir}: expected the 5 UCI YouTube spam CSVs, found {len(files)}")
    frames = []
    for i, path in enumerate(files, start=1):
        df = pd.read_csv(path)
        df.columns = [c.lower() for c in df.columns]
        df = df.drop(columns="comment_id").rename(columns={"class": "label", "content": "text"})
        df["video"] = i
        frames.append(df.sample(frac=1, random_state=123).reset_index(drop=True))
    train = pd.concat(frames[:4])
    dev = train.sample(100, random_state=123)
    valid, test = train_test_split(
        frames[4], test_size=250, random_state=123, stratify=frames[4].label
    )
    return {
        name: part.reset_index(drop=True)
        for name, part in (("train", train), ("dev", dev), ("valid", valid), ("test", test))
    }
