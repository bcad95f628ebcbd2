"""Exports: every format carries provenance, dev/test stay human, versions re-export byte for
byte."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from labelapp.export import (
    diff_manifests,
    diff_snapshots,
    diff_versions,
    export_version,
    read_exported,
    read_label_studio_json,
    read_manifest,
    verify_manifest,
    write_export,
)
from labelapp.export.huggingface import hf_data_files
from tests.augment.realdata import youtube_items
from tests.paths import REPO_ROOT


@pytest.fixture(scope="module")
def items() -> pd.DataFrame:
    """YouTube spam with 30 % of labels from a label model (confidence drawn at random)."""
    frame = youtube_items()
    rng = np.random.default_rng(0)
    weak = rng.random(len(frame)) < 0.3
    frame["label_source"] = np.where(weak, "label_model", "human")
    frame["confidence"] = np.where(weak, rng.uniform(0.5, 1.0, len(frame)), 1.0)
    return frame


def files_bytes(folder) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet", "huggingface"])
def test_rows_carry_provenance_and_eval_is_human(items, tmp_path, fmt):
    result = write_export(items, fmt, tmp_path, seed=1, min_confidence=0.8, code_version="t")
    rows = read_exported(tmp_path)
    assert len(rows) == result.manifest["n_rows"] == len(result.rows)
    for column in (
        "item_id",
        "split",
        "label",
        "label_source",
        "confidence",
        "group_key",
        "text",
        "metadata",
    ):
        assert column in rows, column
    evaluation = rows[rows["split"] != "train"]
    assert set(evaluation["label_source"]) == {"human"}
    weak = rows[rows["label_source"] == "label_model"]
    assert len(weak) > 100 and (weak["confidence"] >= 0.8).all()
    original = items.set_index("item_id")
    sample = rows.iloc[::97]
    for row in sample.itertuples():
        assert original.at[row.item_id, "group_key"] == row.group_key
        assert json.loads(row.metadata) == original.at[row.item_id, "metadata"]
        assert original.at[row.item_id, "label"] == row.label
    assert result.manifest["label_sources"]["dev"] == {"human": int((rows["split"] == "dev").sum())}
    assert verify_manifest(read_manifest(tmp_path), tmp_path) == {
        "missing": [],
        "changed": [],
        "extra": [],
    }


def test_export_is_byte_identical_and_a_version_re_exports_identically(items, tmp_path):
    options = {
        "seed": 4,
        "min_confidence": 0.7,
        "code_version": "t",
        "augment": {"text": {"swap_prob": 0.2, "delete_prob": 0.1}, "copies": 2},
    }
    first = write_export(items, "jsonl", tmp_path / "a", **options)
    write_export(items, "jsonl", tmp_path / "b", **options)
    assert files_bytes(tmp_path / "a") == files_bytes(tmp_path / "b")

    # Labels change later; the stored version still re-exports exactly.
    later = items.assign(label=items["label"].where(items.index % 50 != 0, "ham"))
    again = export_version(later, first.snapshot, first.manifest, tmp_path / "c")
    assert files_bytes(tmp_path / "a") == files_bytes(tmp_path / "c")
    assert again.manifest == first.manifest

    exported = int(np.flatnonzero(first.splits.notna().to_numpy())[0])
    edited = items.assign(text=items["text"].where(items.index != exported, "edited text"))
    with pytest.raises(ValueError, match="content of 1 items changed"):
        export_version(edited, first.snapshot, first.manifest, tmp_path / "d")
    with pytest.raises(ValueError, match="items are gone"):
        export_version(items.iloc[10:], first.snapshot, first.manifest, tmp_path / "e")


def test_augmented_copies_are_train_only_with_lineage(items, tmp_path):
    plan = {"text": {"swap_prob": 0.3}, "copies": 2}
    result = write_export(items, "parquet", tmp_path, seed=0, augment=plan, code_version="t")
    rows = read_exported(tmp_path)
    copies = rows[rows["augmented_from"].notna()]
    originals = rows[rows["augmented_from"].isna()]
    assert set(copies["split"]) == {"train"}
    assert len(copies) == 2 * (originals["split"] == "train").sum()
    by_id = originals.set_index("item_id")
    for row in copies.iloc[::50].itertuples():
        assert row.item_id.startswith(row.augmented_from + "~aug")
        assert by_id.at[row.augmented_from, "label"] == row.label
        assert "operations" in json.loads(row.transform_params)
    assert result.manifest["n_augmented"] == len(copies)
    assert result.manifest["parameters"]["augment"]["copies"] == 2


def test_versions_are_compared_item_by_item(items, tmp_path):
    old = write_export(items, "parquet", tmp_path / "v1", seed=2, code_version="t")
    changed = items.copy()
    flipped = changed.index[:5]
    changed.loc[flipped, "label"] = np.where(changed.loc[flipped, "label"] == "spam", "ham", "spam")
    changed = changed.drop(index=changed.index[10:13])
    extra = pd.DataFrame(
        {
            "item_id": ["new-1", "new-2"],
            "label": ["spam", "ham"],
            "text": ["brand new comment one", "another fresh comment"],
        }
    )
    changed = pd.concat([changed.assign(split=old.splits.reindex(changed.index)), extra])
    new = write_export(changed, "parquet", tmp_path / "v2", seed=2, code_version="t")
    diff = diff_snapshots(old.snapshot, new.snapshot)
    old_ids = set(old.snapshot["item_id"])
    assert diff["added"] == ["new-1", "new-2"]
    assert diff["removed"] == sorted(set(items["item_id"].iloc[10:13]) & old_ids)
    relabeled = {r["item_id"] for r in diff["relabeled"]}
    assert relabeled == set(items["item_id"].iloc[:5]) & old_ids
    assert diff["moved"] == []
    both = diff_versions(old.manifest, old.snapshot, new.manifest, new.snapshot)
    assert both["items"] == diff
    summary = diff_manifests(old.manifest, new.manifest)
    assert not summary["same_items"] and summary["changed_parameters"] == []
    assert sum(summary["count_deltas"].values()) == len(new.snapshot) - len(old.snapshot)


def test_label_studio_round_trip_keeps_every_label(items, tmp_path):
    result = write_export(items, "label_studio", tmp_path, seed=0, code_version="t")
    tasks = json.loads((tmp_path / "tasks.json").read_text(encoding="utf-8"))
    assert len(tasks) == len(result.rows)
    assert all(t["annotations"] or t["predictions"] for t in tasks)
    back = read_label_studio_json(tmp_path / "tasks.json")
    merged = result.rows.merge(back, on="item_id", suffixes=("", "_ls"), validate="one_to_one")
    assert len(merged) == len(result.rows)
    for column in ("label", "label_source", "split", "group_key", "text", "metadata"):
        assert (merged[column] == merged[f"{column}_ls"]).all(), column
    assert np.allclose(merged["confidence"], merged["confidence_ls"])


def test_label_studio_import_of_a_tool_export():
    # The shape Label Studio writes: several annotators, a cancelled one, a prediction.
    tasks = [
        {
            "id": 11,
            "data": {"text": "great song"},
            "annotations": [
                {
                    "completed_by": 1,
                    "result": [
                        {
                            "from_name": "sentiment",
                            "to_name": "text",
                            "type": "choices",
                            "value": {"choices": ["positive"]},
                        }
                    ],
                },
                {"completed_by": 2, "was_cancelled": True, "result": []},
                {
                    "completed_by": 3,
                    "ground_truth": True,
                    "result": [
                        {
                            "from_name": "sentiment",
                            "to_name": "text",
                            "type": "choices",
                            "value": {"choices": ["positive"]},
                        }
                    ],
                },
            ],
            "predictions": [
                {
                    "model_version": "lr-v1",
                    "score": 0.7,
                    "result": [
                        {
                            "from_name": "sentiment",
                            "to_name": "text",
                            "type": "choices",
                            "value": {"choices": ["negative"]},
                        }
                    ],
                }
            ],
        },
        {
            "id": 12,
            "data": {"text": "tags"},
            "annotations": [
                {
                    "completed_by": 1,
                    "result": [
                        {
                            "from_name": "topics",
                            "to_name": "text",
                            "type": "choices",
                            "value": {"choices": ["b", "a"]},
                        }
                    ],
                }
            ],
        },
    ]
    rows = read_label_studio_json(tasks)
    assert rows["label"].tolist() == ["positive", "positive", "negative", "a|b"]
    assert rows["label_source"].tolist() == ["human", "adjudicated", "lr-v1", "human"]
    assert rows["annotator"].tolist()[:2] == [1, 3]
    assert rows["item_id"].tolist() == ["11", "11", "11", "12"]
    assert read_label_studio_json(tasks, from_name="topics")["label"].tolist() == ["a|b"]
    with pytest.raises(ValueError, match="list of tasks"):
        read_label_studio_json({"tasks": []})


@pytest.mark.slow
def test_hugging_face_layout_loads_offline(items, tmp_path):
    out = tmp_path / "hf"
    result = write_export(items, "huggingface", out, seed=0, name="youtube-spam", code_version="t")
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "label_sources:" in card and '"label_model"' in card
    code = (
        "import json, sys\n"
        "import datasets\n"
        "files = json.loads(sys.argv[1])\n"
        "a = datasets.load_dataset('parquet', data_files=files, cache_dir=sys.argv[3])\n"
        "b = datasets.load_dataset(sys.argv[2], cache_dir=sys.argv[3] + '2')\n"
        "print(json.dumps({s: [a[s].num_rows, b[s].num_rows, a[s].column_names] for s in a}))\n"
    )
    env = {
        **os.environ,
        "HF_DATASETS_OFFLINE": "1",
        "HF_HUB_OFFLINE": "1",
        "HF_HOME": str(tmp_path / "home"),
        "PYTHONPATH": str(REPO_ROOT),
    }
    done = subprocess.run(
        [sys.executable, "-c", code, json.dumps(hf_data_files(out)), str(out), str(tmp_path / "c")],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
    )
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    counts = result.rows["split"].value_counts()
    assert set(loaded) == {"train", "dev", "test"}
    for split, (via_files, via_card, columns) in loaded.items():
        assert via_files == via_card == counts[split]
        assert {"item_id", "label", "label_source", "confidence", "group_key"} <= set(columns)


def test_image_folder_tree_with_augmented_train_images(tmp_path):
    from skimage import data

    from augment.image_io import read_image, write_image

    sources = {"astronaut": data.astronaut(), "coffee": data.coffee(), "chelsea": data.chelsea()}
    rows = []
    for n in range(30):
        name = list(sources)[n % 3]
        path = write_image(sources[name][n : n + 64, n : n + 64], tmp_path / "src" / f"{n}.png")
        rows.append(
            {
                "item_id": f"img{n}",
                "label": name,
                "image_path": str(path.relative_to(tmp_path)),
                "group_key": f"g{n // 2}",
                "metadata": {"n": n},
            }
        )
    items = pd.DataFrame(rows)
    out = tmp_path / "out"
    result = write_export(
        items, "imagefolder", out, seed=0, augment="light", code_version="t", image_root=tmp_path
    )
    exported = result.rows
    for row in exported.itertuples():
        target = out / row.split / row.label / f"{row.item_id}.png"
        assert target.is_file()
        if isinstance(row.augmented_from, str):
            assert row.split == "train"
            assert json.loads(row.transform_params)["seed"] >= 0
        else:
            assert np.array_equal(read_image(target), read_image(tmp_path / row.image_path))
    metadata = pd.read_csv(out / "train" / "metadata.csv")
    assert metadata.columns[0] == "file_name"
    assert (
        (out / metadata["file_name"].map(lambda f: f"train/{f}")).map(lambda p: p.is_file()).all()
    )
    n_train = (exported["split"] == "train").sum()
    assert exported["augmented_from"].notna().sum() == n_train / 2


def test_bad_requests_are_rejected(items, tmp_path):
    with pytest.raises(ValueError, match="unknown export format"):
        write_export(items, "xlsx", tmp_path)
    with pytest.raises(ValueError, match="image_path"):
        write_export(items, "imagefolder", tmp_path)
    with pytest.raises(ValueError, match="'item_id' and 'label'"):
        write_export(items.drop(columns="item_id"), "csv", tmp_path)


@pytest.mark.slow
def test_export_package_needs_no_web_stack():
    code = (
        "import sys, labelapp.export\n"
        "heavy = ('flask', 'sqlalchemy', 'albumentations', 'torch')\n"
        "bad = [m for m in heavy if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO_ROOT, timeout=120)


def test_extra_item_columns_travel_with_the_rows(items, tmp_path):
    extra = items.assign(external_id=["ext-" + i for i in items["item_id"]])
    write_export(extra, "parquet", tmp_path, seed=0, code_version="t")
    rows = read_exported(tmp_path)
    assert (rows["external_id"] == "ext-" + rows["item_id"]).all()
