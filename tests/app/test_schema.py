"""The project schema: inferred by the first import, checked before every later one is stored
(strict refuses, evolve records the next version in the import's provenance), loosened by admins."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select

from labelapp.db import session_scope
from labelapp.models import ImportBatch, Item, Project, ProjectSchema, SchemaCheck
from labelapp.services.errors import UserError
from labelapp.services.imports import ImportOptions, import_path
from labelapp.services.schema import current_schema
from labelapp.services.schema.edit import ColumnEdit, edit_schema
from tests.app.factories import make_project
from tests.paths import SHARED_DATA

YOUTUBE = SHARED_DATA / "youtube_spam_uci" / "Youtube01-Psy.csv"
YT = ImportOptions(text_col="CONTENT", id_col="COMMENT_ID", group_col="AUTHOR")


def _import(sessions, pid: int, path: Path, options: ImportOptions | None = None):
    with session_scope(sessions) as session:
        return import_path(session, session.get(Project, pid), path, options)


def _counts(sessions, pid: int) -> tuple[int, int, int, int]:
    with session_scope(sessions) as session:
        return tuple(
            session.scalar(select(func.count()).select_from(m).where(m.project_id == pid))
            for m in (Item, ImportBatch, ProjectSchema, SchemaCheck)
        )


def _csv(tmp_path: Path, name: str, rows: dict[str, list]) -> Path:
    path = tmp_path / name
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def _jsonl(tmp_path: Path, name: str, records: list[dict]) -> Path:
    path = tmp_path / name
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _refused(sessions, pid: int, path: Path, options: ImportOptions | None = None) -> UserError:
    before = _counts(sessions, pid)
    with pytest.raises(UserError) as info:
        _import(sessions, pid, path, options)
    assert _counts(sessions, pid) == before  # nothing stored: no item, import, version or check
    return info.value


def test_first_import_infers_the_schema_of_real_data(sessions) -> None:
    pid = make_project(sessions)
    report = _import(sessions, pid, YOUTUBE, YT)
    assert report.schema == {
        "mode": "strict",
        "checked_version": None,
        "schema_version": 1,
        "evolved": False,
        "problems": [],
    }
    with session_scope(sessions) as session:
        schema = current_schema(session, pid)
        columns = schema.schema["columns"]
        assert (schema.version, schema.reason, schema.import_id) == (
            1,
            "inferred",
            report.import_id,
        )
    assert set(columns) == {"$text", "DATE", "CLASS"}
    assert columns["CLASS"]["dtype"] == "Int64"
    assert columns["CLASS"]["in_range"]["min_value"] == 0
    assert columns["CLASS"]["in_range"]["max_value"] == 1
    assert columns["DATE"]["dtype"].startswith("string")
    longest = int(pd.read_csv(YOUTUBE)["CONTENT"].str.len().max())
    assert columns["$text"]["str_length"] == {"min_value": 1, "max_value": 4 * longest}
    # the same file again matches its own schema
    assert _import(sessions, pid, YOUTUBE, YT).schema["problems"] == []


@pytest.mark.slow
def test_type_change_is_refused_under_strict_with_the_lines(sessions, tmp_path) -> None:
    pid = make_project(sessions)
    _import(sessions, pid, _csv(tmp_path, "a.csv", {"text": ["a", "b", "c"], "n": [1, 2, 3]}))
    later = _csv(tmp_path, "b.csv", {"text": ["d", "e", "f"], "n": ["2", "3.0", "1.5"]})
    error = _refused(sessions, pid, later)
    assert "against the project's schema (version 1); nothing was imported" in error.message
    assert error.details == [
        "refused: 2 float value(s) in int column 'n' (e.g. '3.0') (first: line 3, line 4)"
    ]
    report = _import(sessions, pid, later, ImportOptions(schema="evolve"))
    assert report.items_created == 3
    assert report.schema["evolved"] and report.schema["schema_version"] == 2
    assert report.schema["problems"][0]["kind"] == "type"
    with session_scope(sessions) as session:
        check = session.scalar(select(SchemaCheck).where(SchemaCheck.import_id == report.import_id))
        assert (check.mode, check.checked_version, check.schema_version) == ("evolve", 1, 2)
        evolved = current_schema(session, pid)
        assert (evolved.version, evolved.reason, evolved.import_id) == (
            2,
            "evolved",
            report.import_id,
        )
        assert evolved.schema["columns"]["n"]["dtype"] == "Float64"
        assert evolved.schema["columns"]["n"]["in_range"]["min_value"] == 1
    # the evolved schema takes the new type without a problem
    again = _csv(tmp_path, "c.csv", {"text": ["g"], "n": ["2.5"]})
    assert _import(sessions, pid, again).schema["problems"] == []


def test_str_against_int_in_jsonl_is_a_type_change(sessions, tmp_path) -> None:
    pid = make_project(sessions)
    _import(
        sessions, pid, _jsonl(tmp_path, "a.jsonl", [{"text": "a", "n": 3}, {"text": "b", "n": 4}])
    )
    error = _refused(sessions, pid, _jsonl(tmp_path, "b.jsonl", [{"text": "c", "n": "3"}]))
    assert error.details == ["refused: 1 str value(s) in int column 'n' (e.g. '3') (first: line 1)"]


def test_missing_required_column_is_refused(sessions, tmp_path) -> None:
    pid = make_project(sessions)
    _import(sessions, pid, _csv(tmp_path, "a.csv", {"text": ["a", "b"], "lang": ["en", "fr"]}))
    error = _refused(sessions, pid, _csv(tmp_path, "b.csv", {"text": ["c"]}))
    assert error.details == ["refused: column 'lang' (str) is missing from the file"]
    report = _import(
        sessions, pid, _csv(tmp_path, "b.csv", {"text": ["c"]}), ImportOptions(schema="evolve")
    )
    with session_scope(sessions) as session:
        assert current_schema(session, pid).schema["columns"]["lang"]["required"] is False
    assert report.schema["schema_version"] == 2


def test_empty_string_where_none_was_is_refused(sessions, tmp_path) -> None:
    pid = make_project(sessions)
    first = [
        {"text": "a", "note": None},
        {"text": "b", "note": "ok"},
        {"text": "c", "note": "fine"},
    ]
    _import(sessions, pid, _jsonl(tmp_path, "a.jsonl", first))
    later = [{"text": "d", "note": "ok"}, {"text": "e", "note": ""}, {"text": "f", "note": ""}]
    error = _refused(sessions, pid, _jsonl(tmp_path, "b.jsonl", later))
    assert error.details == [
        "refused: 2 empty string(s) where the schema has none (it had nulls) in column 'note' "
        "(first: line 2, line 3)"
    ]


def _import_four_rows(sessions, pid: int, tmp_path) -> None:
    """The first import, ``a.csv``: four texts, a number 1 to 4, a language en or fr."""
    rows = {"text": list("abcd"), "n": [1, 2, 3, 4], "lang": ["en", "en", "fr", "fr"]}
    _import(sessions, pid, _csv(tmp_path, "a.csv", rows))


def test_soft_problems_are_reported_and_stored_under_strict(sessions, tmp_path) -> None:
    pid = make_project(sessions)
    _import_four_rows(sessions, pid, tmp_path)
    report = _import(
        sessions,
        pid,
        _csv(
            tmp_path,
            "b.csv",
            {"text": ["e", "f" * 50], "n": [9, 2], "lang": ["de", "en"], "extra": ["x", "y"]},
        ),
    )
    kinds = {(p["column"], p["kind"]): (p["count"], p["lines"]) for p in report.schema["problems"]}
    assert kinds == {
        ("extra", "new_column"): (2, ["line 2", "line 3"]),
        ("n", "out_of_range"): (1, ["line 2"]),
        ("lang", "new_value"): (1, ["line 2"]),
        ("$text", "length"): (1, ["line 3"]),
    }
    assert report.items_created == 2 and report.schema["schema_version"] == 1


def test_admin_loosens_the_schema_and_cannot_tighten_it(sessions, tmp_path) -> None:
    pid = make_project(sessions)
    _import_four_rows(sessions, pid, tmp_path)
    with session_scope(sessions) as session:
        project = session.get(Project, pid)
        edit_schema(session, project, ColumnEdit("n", min_value=0, max_value=10), None)
        edit_schema(session, project, ColumnEdit("lang", add_values=["de"], optional=True), None)
        with pytest.raises(UserError, match="can only be widened"):
            edit_schema(session, project, ColumnEdit("n", max_value=5), None)
    with session_scope(sessions) as session:
        schema = current_schema(session, pid)
        assert (schema.version, schema.reason) == (3, "edited")
        assert schema.schema["columns"]["n"]["in_range"]["max_value"] == 10
        assert schema.schema["columns"]["lang"]["isin"] == ["de", "en", "fr"]
        assert schema.schema["columns"]["lang"]["required"] is False
    report = _import(sessions, pid, _csv(tmp_path, "b.csv", {"text": ["x"], "n": [9]}))
    assert report.schema["problems"] == []


def test_a_file_that_labels_existing_items_is_not_new_data(sessions, tmp_path) -> None:
    pid = make_project(sessions)
    _import(
        sessions,
        pid,
        _csv(tmp_path, "a.csv", {"id": ["1", "2"], "text": ["a", "b"], "lang": ["en", "fr"]}),
    )
    labels = _csv(
        tmp_path, "labels.csv", {"id": ["1", "2"], "text": ["a", "b"], "label": ["ham", "spam"]}
    )
    report = _import(sessions, pid, labels, ImportOptions(label_col="label", label_kind="human"))
    assert report.annotations_created == 2 and report.schema["problems"] == []
    # a new item in the same file is checked: its missing 'lang' refuses the file
    mixed = _csv(
        tmp_path, "mixed.csv", {"id": ["1", "3"], "text": ["a", "c"], "label": ["ham", "ham"]}
    )
    error = _refused(sessions, pid, mixed, ImportOptions(label_col="label", label_kind="human"))
    assert error.details == ["refused: column 'lang' (str) is missing from the file"]
