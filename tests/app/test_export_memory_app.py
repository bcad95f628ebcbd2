"""A project export reads the content of the items it can place only (issue 16): the files are
those of reading every labeled item's content."""

from __future__ import annotations

import numpy as np

import labelapp.export
from labelapp.export import read_manifest
from labelapp.services.export import rows as export_rows
from tests.app.test_export_app import _export, files_of, spam  # noqa: F401 (spam: a fixture)


def test_items_left_out_of_the_split_are_read_without_content(spam, tmp_path, monkeypatch):  # noqa: F811
    read: list[int] = []
    real = export_rows.items_frame

    def spy(session, project, ids=None, **options):
        frame = real(session, project, ids, **options)
        read.append(int(frame["text"].notna().sum()))
        return frame

    monkeypatch.setattr(export_rows, "items_frame", spy)
    lean = tmp_path / "lean"
    assert _export("jsonl", lean, "--seed", "3", "--resplit").exit_code == 0
    # The same export reading every labeled item's content (as before issue 16).
    monkeypatch.setattr(
        labelapp.export, "may_take_part", lambda items, m: np.ones(len(items), bool)
    )
    full = tmp_path / "full"
    assert _export("jsonl", full, "--seed", "3", "--resplit").exit_code == 0
    # The manifests differ by the drift of the second version from the first only.
    lean_files, full_files = files_of(lean), files_of(full)
    assert lean_files.pop("manifest.json") and full_files.pop("manifest.json")
    assert lean_files == full_files
    for key in ("files", "rows_sha256", "items_sha256", "split_report", "counts"):
        assert read_manifest(lean)[key] == read_manifest(full)[key], key
    assert read[0] == read[1] - 5  # the 5 label-model labels below 0.9 confidence
