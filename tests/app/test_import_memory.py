"""Imports read and store a table file in chunks (issue 16): a file of many chunks imports
exactly as one chunk does, and a bad row in its last chunk still stores nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select

from labelapp.db import session_scope
from labelapp.models import (
    Annotation,
    ImportBatch,
    Item,
    ItemLabel,
    ProbLabel,
    Project,
    ProjectSchema,
    QueueEntry,
)
from labelapp.services.errors import UserError
from labelapp.services.imports import ImportOptions, import_path, readers, table, weak_labels
from tests.app.factories import make_project

CHUNK = 7  # rows per chunk in these tests: every file below spans several


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(readers, "CHUNK_ROWS", CHUNK)
    monkeypatch.setattr(table, "IDS_PER_QUERY", 3)
    monkeypatch.setattr(weak_labels, "IDS_PER_QUERY", 3)


def _import(sessions, pid: int, path: Path, options: ImportOptions | None = None):
    with session_scope(sessions) as session:
        return import_path(session, session.get(Project, pid), path, options).to_dict()


def _rows(n: int = 40) -> pd.DataFrame:
    """``n`` rows: ids, texts, a label on every third, metadata with gaps, a group; ids r3 and
    r5 repeated (identically) in the last chunk."""
    df = pd.DataFrame(
        {
            "id": [f"r{i}" for i in range(n)],
            "text": [f"text number {i}" for i in range(n)],
            "label": [("spam" if i % 2 else "ham") if i % 3 == 0 else "" for i in range(n)],
            "lang": ["en" if i % 4 else "fr" for i in range(n)],
            "stars": [float(i % 5) if i % 11 else None for i in range(n)],
            "author": [f"a{i % 6}" for i in range(n)],
        }
    )
    return pd.concat([df, df.iloc[[3, 5]]], ignore_index=True)


def _write(df: pd.DataFrame, path: Path) -> Path:
    if path.suffix == ".csv":
        df.to_csv(path, index=False)
    elif path.suffix == ".jsonl":
        path.write_text(
            "".join(
                json.dumps({k: v for k, v in r.items() if not (isinstance(v, float) and v != v)})
                + "\n"
                for r in df.to_dict("records")
            )
        )
    else:
        df.to_parquet(path)
    return path


def _stored(sessions, pid: int) -> dict:
    """What an import left in the project, without ids that differ between projects."""
    with session_scope(sessions) as session:
        items = session.execute(
            select(
                Item.external_id,
                Item.text,
                Item.content_hash,
                Item.meta,
                Item.group_key,
                Item.position,
                Item.target_k,
                Item.gold_labels,
            )
            .where(Item.project_id == pid)
            .order_by(Item.position)
        ).all()
        by_id = dict(
            session.execute(select(Item.id, Item.external_id).where(Item.project_id == pid)).all()
        )
        first = min(p for *_, p, _, _ in items) if items else 0
        queue = session.execute(
            select(QueueEntry.item_id, QueueEntry.position, QueueEntry.remaining)
            .where(QueueEntry.project_id == pid)
            .order_by(QueueEntry.position)
        ).all()
        annotations = session.execute(
            select(Annotation.item_id, Annotation.source, Annotation.labels)
            .where(Annotation.project_id == pid)
            .order_by(Annotation.id)
        ).all()
        weak = session.execute(
            select(ProbLabel.item_id, ProbLabel.label, ProbLabel.confidence, ProbLabel.probs)
            .where(ProbLabel.project_id == pid)
            .order_by(ProbLabel.id)
        ).all()
        resolved = session.execute(
            select(ItemLabel.item_id, ItemLabel.label, ItemLabel.source, ItemLabel.confidence)
            .where(ItemLabel.project_id == pid)
            .order_by(ItemLabel.item_id)
        ).all()
        schema = session.scalars(
            select(ProjectSchema.schema)
            .where(ProjectSchema.project_id == pid)
            .order_by(ProjectSchema.version)
        ).all()
    return {
        "items": [(*row[:5], row[5] - first, *row[6:]) for row in items],
        "queue": [(by_id[i], p - first, r) for i, p, r in queue],
        "annotations": [(by_id[i], s, labels) for i, s, labels in annotations],
        "weak": [(by_id[i], *rest) for i, *rest in weak],
        "resolved": sorted((by_id[i], *rest) for i, *rest in resolved),
        "schema": schema,
    }


def _report(report: dict) -> dict:
    return {k: v for k, v in report.items() if k not in ("import_id", "filename")}


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_many_chunks_import_as_one(sessions, tmp_path, monkeypatch, suffix: str) -> None:
    path = _write(_rows(), tmp_path / f"rows{suffix}")
    options = ImportOptions(label_col="label", group_col="author", label_kind="human")
    whole = make_project(sessions, "whole")
    expected = _import(sessions, whole, path, options)
    monkeypatch.setattr(readers, "CHUNK_ROWS", CHUNK)
    monkeypatch.setattr(table, "IDS_PER_QUERY", 3)
    parts = make_project(sessions, "parts")
    got = _import(sessions, parts, path, options)
    assert _report(got) == _report(expected)
    assert (got["rows"], got["items_created"], got["duplicates_in_file"]) == (42, 40, 2)
    assert got["annotations_created"] == 14
    assert _stored(sessions, parts) == _stored(sessions, whole)
    # again, one label changed and 5 new rows (one labeled): idempotent in chunks as well
    more = _rows(45)
    more.loc[0, "label"] = "spam"
    again = _write(more, tmp_path / f"more{suffix}")
    got = _import(sessions, parts, again, options)
    monkeypatch.setattr(readers, "CHUNK_ROWS", 100_000)
    expected = _import(sessions, whole, again, options)
    assert _report(got) == _report(expected)
    assert (got["items_created"], got["items_existing"], got["annotations_created"]) == (5, 40, 2)
    assert _stored(sessions, parts) == _stored(sessions, whole)


def test_a_bad_row_in_the_last_chunk_stores_nothing(sessions, tmp_path, small_chunks) -> None:
    df = _rows()
    df.loc[39, "text"] = " "  # in the last chunk
    path = _write(df, tmp_path / "bad.csv")
    pid = make_project(sessions)
    with pytest.raises(UserError) as err:
        _import(sessions, pid, path, ImportOptions(label_col="label"))
    assert "1 problem(s) found; nothing was imported" in err.value.message
    assert err.value.details == ["line 41: column 'text' is empty; every item needs text"]
    with session_scope(sessions) as session:
        for model in (Item, ImportBatch, QueueEntry, Annotation, ProjectSchema):
            assert session.scalar(select(func.count()).select_from(model)) == 0


def test_problems_across_chunks_are_counted_and_named(sessions, tmp_path, small_chunks) -> None:
    df = _rows()
    df.loc[2, "label"] = "eggs"  # first chunk
    df.loc[30, "text"] = "changed under a repeated id"
    df.loc[41, "id"] = "r30"  # last chunk: an id used for different rows
    df.loc[38, "label"] = "ham|spam"
    path = _write(df, tmp_path / "bad.jsonl")
    pid = make_project(sessions)
    with pytest.raises(UserError) as err:
        _import(sessions, pid, path, ImportOptions(label_col="label"))
    assert err.value.details == [
        "line 3: unknown label 'eggs'; the project's labels are ham, spam",
        "line 39: 2 labels, but the project is single-label",
        "line 42: id 'r30' is used for different rows (line 31, line 42)",
    ]
    assert "3 problem(s) found" in err.value.message


def test_a_changed_item_in_a_later_chunk_refuses_the_file(sessions, tmp_path, small_chunks):
    pid = make_project(sessions)
    _import(sessions, pid, _write(_rows(), tmp_path / "a.csv"))
    df = _rows(50)
    df.loc[33, "text"] = "another text under id r33"
    with pytest.raises(
        UserError, match=r"1 row\(s\) reuse an existing id .* id 'r33', data row 34"
    ):
        _import(sessions, pid, _write(df, tmp_path / "b.csv"))
    with session_scope(sessions) as session:
        assert session.scalar(select(func.count()).select_from(Item)) == 40
        assert session.scalar(select(func.count()).select_from(ImportBatch)) == 1


def test_the_schema_is_checked_over_every_chunk(sessions, tmp_path, small_chunks) -> None:
    pid = make_project(sessions)
    _import(sessions, pid, _write(_rows(), tmp_path / "a.parquet"))
    later = _rows(60).iloc[40:].reset_index(drop=True)  # 20 new rows: 3 chunks
    later["stars"] = pd.Series([None if v != v else int(v) for v in later["stars"]], dtype=object)
    later.loc[18, "stars"] = "many"  # the last chunk
    later.loc[1, "stars"] = "few"
    with pytest.raises(UserError) as err:
        _import(sessions, pid, _write(later, tmp_path / "b.jsonl"))
    assert err.value.details == [
        "refused: 2 str value(s) in int column 'stars' (e.g. 'few') (first: line 2, line 19)"
    ]
    # Whole numbers with gaps only in some chunks are ints in all of them (as in one read).
    gaps = _rows(60).iloc[40:].reset_index(drop=True)
    report = _import(sessions, pid, _write(gaps, tmp_path / "c.parquet"))
    assert report["schema"]["problems"] == [] and report["items_created"] == 20


def test_weak_labels_and_their_confidences_in_chunks(sessions, tmp_path, small_chunks) -> None:
    df = _rows()
    df["confidence"] = [round(0.5 + (i % 5) / 10, 2) for i in range(len(df))]
    pid = make_project(sessions)
    options = ImportOptions(label_col="label", label_kind="weak", confidence_col="confidence")
    report = _import(sessions, pid, _write(df, tmp_path / "w.csv"), options)
    assert report["annotations_created"] == 14 and report["label_kind"] == "weak"
    assert (
        _import(sessions, pid, _write(df, tmp_path / "w.csv"), options)["annotations_created"] == 0
    )
    with session_scope(sessions) as session:
        rows = session.execute(select(Item.external_id, ProbLabel.confidence).join(Item)).all()
    assert sorted(rows)[:2] == [("r0", 0.5), ("r12", 0.7)]
    df["confidence"] = df["confidence"].astype(object)
    df.loc[40, "confidence"] = "sure"
    with pytest.raises(UserError) as err:
        _import(sessions, make_project(sessions, "q"), _write(df, tmp_path / "x.csv"), options)
    assert err.value.details == ["line 42: confidence 'sure' is not a number from 0 to 1"]


def test_gold_answers_in_chunks(sessions, tmp_path, small_chunks) -> None:
    pid = make_project(sessions)
    options = ImportOptions(label_col="label", gold=True)
    report = _import(sessions, pid, _write(_rows(), tmp_path / "g.csv"), options)
    assert report["gold_items"] == 14
    with session_scope(sessions) as session:
        gold = session.scalars(
            select(Item.external_id)
            .join(QueueEntry, QueueEntry.item_id == Item.id)
            .where(QueueEntry.is_gold.is_(True), Item.gold_labels.is_not(None))
        ).all()
    assert sorted(gold, key=lambda e: int(e[1:])) == [f"r{i}" for i in range(0, 40, 3)]


def test_a_random_queue_in_chunks(sessions, tmp_path, small_chunks) -> None:
    """Shuffled positions fit PostgreSQL's 32-bit column (they once went up to 2**52)."""
    pid = make_project(sessions, queue_order="random")
    _import(sessions, pid, _write(_rows(), tmp_path / "g.csv"))
    with session_scope(sessions) as session:
        positions = session.scalars(select(QueueEntry.position)).all()
    assert len(set(positions)) == 40 and sorted(positions) != positions
