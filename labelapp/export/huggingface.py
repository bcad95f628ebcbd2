"""A Hugging Face ``datasets`` layout: Parquet per split plus a README.md dataset card.

The card's YAML front matter declares the splits (``configs`` / ``data_files``) so both
``load_dataset("parquet", data_files=...)`` and ``load_dataset(<folder>)`` find them, and lists
the labels and the label sources per split (rows per split are in the card's table; a
``dataset_info.splits`` entry would need Arrow byte sizes, and a wrong one only earns a
warning). YAML is written by hand (JSON-quoted scalars are valid YAML) so the card is
byte-stable without a YAML dependency.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from labelapp.export.rows import SPLIT_NAMES, prepare_rows, splits_present
from labelapp.export.tabular import write_parquet_file


def _q(value: object) -> str:
    return json.dumps(str(value), ensure_ascii=False)


def dataset_card(
    rows: pd.DataFrame,
    *,
    name: str,
    description: str = "",
    split_names: Sequence[str] = SPLIT_NAMES,
) -> str:
    """The README.md text for prepared ``rows``: front matter with splits, labels and label
    sources."""
    splits = splits_present(rows, split_names)
    labels = sorted(rows["label"].unique())
    lines = ["---", "configs:", "- config_name: default", "  data_files:"]
    for split in splits:
        lines += [f"  - split: {split}", f"    path: data/{split}-*.parquet"]
    lines += ["labels:"] + [f"- {_q(label)}" for label in labels]
    lines += ["label_sources:"]
    for split in splits:
        counts = rows.loc[rows["split"] == split, "label_source"].value_counts().sort_index()
        lines.append(f"  {split}:")
        lines += [f"    {_q(source)}: {int(n)}" for source, n in counts.items()]
    lines += ["---", "", f"# {name}", ""]
    if description:
        lines += [description, ""]
    lines += [
        "Exported by labelapp. Columns: `item_id`, `split`, `label`, `label_source` (who gave the",
        "label: `human`/`adjudicated`, or a label model / propagation, train only), `confidence`,",
        "`group_key`, `metadata` (JSON text) and, for augmented copies, `augmented_from` and",
        "`transform_params`.",
        "",
        "| split | rows | label sources |",
        "|---|---|---|",
    ]
    for split in splits:
        part = rows[rows["split"] == split]
        sources = ", ".join(
            f"{s}: {n}" for s, n in part["label_source"].value_counts().sort_index().items()
        )
        lines.append(f"| {split} | {len(part)} | {sources} |")
    return "\n".join(lines) + "\n"


def write_hf_dataset(
    rows: pd.DataFrame,
    out_dir: str | Path,
    *,
    name: str,
    description: str = "",
    split_names: Sequence[str] = SPLIT_NAMES,
    prepared: bool = False,
) -> list[Path]:
    """Write ``data/<split>-00000-of-00001.parquet`` per split and ``README.md``; returns the
    paths."""
    if not prepared:
        rows = prepare_rows(rows, split_names=split_names)
    out = Path(out_dir)
    (out / "data").mkdir(parents=True, exist_ok=True)
    paths = []
    for split in splits_present(rows, split_names):
        part = rows[rows["split"] == split].reset_index(drop=True)
        paths.append(write_parquet_file(part, out / "data" / f"{split}-00000-of-00001.parquet"))
    card = out / "README.md"
    card.write_text(
        dataset_card(rows, name=name, description=description, split_names=split_names),
        encoding="utf-8",
    )
    return [*paths, card]


def hf_data_files(out_dir: str | Path) -> dict[str, str]:
    """The ``data_files`` mapping for ``datasets.load_dataset("parquet", data_files=...)``."""
    data = Path(out_dir) / "data"
    files = {
        p.name.split("-00000-")[0]: str(p) for p in sorted(data.glob("*-00000-of-00001.parquet"))
    }
    return {
        s: files[s] for s in [*SPLIT_NAMES, *sorted(set(files) - set(SPLIT_NAMES))] if s in files
    }
