"""Import: every format, validation before storage (all-or-nothing), de-duplication, labels."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select

from labelapp.db import session_scope
from labelapp.models import Annotation, ImportBatch, Item, Project, QueueEntry
from labelapp.services.errors import UserError
from labelapp.services.imports import ImportOptions, import_path
from tests.app.factories import api_import, make_project
from tests.paths import SHARED_DATA

YOUTUBE = SHARED_DATA / "youtube_spam_uci" / "Youtube01-Psy.csv"
YT_OPTIONS = ImportOptions(text_col="CONTENT", id_col="COMMENT_ID", group_col="AUTHOR")


def _import(sessions, project_id: int, path: Path, options: ImportOptions | None = None):
    with session_scope(sessions) as session:
        return import_path(session, session.get(Project, project_id), path, options)


def _count(sessions, model, project_id: int) -> int:
    with session_scope(sessions) as session:
        return session.scalar(
            select(func.count()).select_from(model).where(model.project_id == project_id)
        )


def _youtube_with_labels(tmp_path: Path) -> Path:
    df = pd.read_csv(YOUTUBE, dtype=str, keep_default_na=False)
    df["label"] = df["CLASS"].map({"0": "ham", "1": "spam"})
    path = tmp_path / "yt.csv"
    df.to_csv(path, index=False)
    return path


def test_csv_import_of_real_data(sessions, tmp_path) -> None:
    pid = make_project(sessions)
    report = _import(sessions, pid, YOUTUBE, YT_OPTIONS)
    assert (report.rows, report.items_created, report.items_existing) == (350, 350, 0)
    with session_scope(sessions) as session:
        item = session.scalar(
            select(Item).where(Item.project_id == pid).order_by(Item.position).limit(1)
        )
        assert item.external_id == "LZQPQhLyRh80UYxNuaDWhIGQYNQ96IuCg-AYWqNPjpU"
        assert item.text.startswith("Huh, anyway check out this you[tube] channel")
        assert item.group_key == "Julius NM"
        assert item.meta == {"DATE": "2013-11-07T06:20:48", "CLASS": "1"}
        assert len(item.content_hash) == 64
    assert _count(sessions, QueueEntry, pid) == 350  # every item is queued


def test_reimport_does_not_duplicate(sessions) -> None:
    pid = make_project(sessions)
    _import(sessions, pid, YOUTUBE, YT_OPTIONS)
    again = _import(sessions, pid, YOUTUBE, YT_OPTIONS)
    assert (again.items_created, again.items_existing) == (0, 350)
    assert _count(sessions, Item, pid) == 350
    assert _count(sessions, QueueEntry, pid) == 350


def test_without_id_column_duplicates_collapse_by_content(sessions, tmp_path) -> None:
    path = tmp_path / "t.csv"
    pd.DataFrame({"text": ["a cat", "a dog", "a cat"], "lang": ["en", "en", "fr"]}).to_csv(
        path, index=False
    )
    pid = make_project(sessions)
    report = _import(sessions, pid, path)
    assert (report.items_created, report.duplicates_in_file) == (2, 1)
    again = _import(sessions, pid, path)
    assert (again.items_created, again.items_existing) == (0, 2)


@pytest.mark.parametrize("fmt", ["jsonl", "parquet", "tsv"])
def test_other_formats_store_the_same_items(sessions, tmp_path, fmt: str) -> None:
    df = pd.read_csv(YOUTUBE, dtype=str, keep_default_na=False)
    path = tmp_path / f"yt.{fmt}"
    if fmt == "jsonl":
        df.to_json(path, orient="records", lines=True, force_ascii=False)
    elif fmt == "parquet":
        df.to_parquet(path)
    else:
        df.to_csv(path, sep="\t", index=False)
    pid = make_project(sessions)
    report = _import(sessions, pid, path, YT_OPTIONS)
    assert report.items_created == 350
    with session_scope(sessions) as session:
        texts = session.scalars(
            select(Item.text).where(Item.project_id == pid).order_by(Item.position)
        ).all()
    assert texts == df["CONTENT"].tolist()


def test_bad_row_rejects_whole_file_with_its_line(sessions, tmp_path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text('id,text\n1,hello\n2,"multi\nline text"\n3,\n4,fine\n')
    pid = make_project(sessions)
    with pytest.raises(UserError) as err:
        _import(sessions, pid, path)
    assert "nothing was imported" in err.value.message
    # Row 3 (id 3) starts on line 5 because row 2 spans two lines.
    assert err.value.details == ["line 5: column 'text' is empty; every item needs text"]
    assert _count(sessions, Item, pid) == 0
    assert _count(sessions, ImportBatch, pid) == 0


def test_unknown_label_and_duplicate_id_are_reported(sessions, tmp_path) -> None:
    path = tmp_path / "bad.jsonl"
    rows = [
        {"id": "a", "text": "one", "label": "spam"},
        {"id": "b", "text": "two", "label": "eggs"},
        {"id": "a", "text": "three", "label": "ham"},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    pid = make_project(sessions)
    with pytest.raises(UserError) as err:
        _import(sessions, pid, path, ImportOptions(label_col="label", label_kind="human"))
    details = "\n".join(err.value.details)
    assert "line 2: unknown label 'eggs'" in details
    assert "line 3: id 'a' is used for different rows (line 1, line 3)" in details
    assert _count(sessions, Item, pid) == 0


def test_broken_jsonl_names_the_line(sessions, tmp_path) -> None:
    path = tmp_path / "broken.jsonl"
    path.write_text('{"text": "ok"}\n{"text": "no closing brace"\n')
    pid = make_project(sessions)
    with pytest.raises(UserError, match="line 2: not valid JSON"):
        _import(sessions, pid, path)


def test_missing_column_lists_the_columns(sessions, tmp_path) -> None:
    pid = make_project(sessions)
    with pytest.raises(
        UserError, match=r"no column 'text' for the text; the columns are: COMMENT_ID"
    ):
        _import(sessions, pid, YOUTUBE)


def test_changed_content_under_existing_id_is_refused(sessions, tmp_path) -> None:
    pid = make_project(sessions)
    first = tmp_path / "a.csv"
    pd.DataFrame({"id": ["x", "y"], "text": ["one", "two"]}).to_csv(first, index=False)
    _import(sessions, pid, first)
    second = tmp_path / "b.csv"
    pd.DataFrame({"id": ["z", "y"], "text": ["three", "TWO changed"]}).to_csv(second, index=False)
    with pytest.raises(UserError, match="reuse an existing id with different content"):
        _import(sessions, pid, second)
    assert _count(sessions, Item, pid) == 2  # 'z' was not stored either


def test_labels_become_annotations_by_their_source(sessions, tmp_path) -> None:
    path = _youtube_with_labels(tmp_path)
    pid = make_project(sessions)
    options = ImportOptions(
        text_col="CONTENT", id_col="COMMENT_ID", label_col="label", label_kind="human"
    )
    report = _import(sessions, pid, path, options)
    assert report.annotations_created == 350
    with session_scope(sessions) as session:
        rows = session.execute(
            select(Annotation.source, Annotation.user_id, Annotation.labels).where(
                Annotation.project_id == pid
            )
        ).all()
    assert {(source, user) for source, user, _ in rows} == {("human", None)}
    assert sum(labels == ["spam"] for _, _, labels in rows) == 175
    # The same labels again add nothing; a changed label is a new (appended) annotation.
    assert _import(sessions, pid, path, options).annotations_created == 0
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df.loc[0, "label"] = "ham" if df.loc[0, "label"] == "spam" else "spam"
    df.to_csv(path, index=False)
    assert _import(sessions, pid, path, options).annotations_created == 1
    assert _count(sessions, Annotation, pid) == 351


def test_multi_label_values(sessions, tmp_path) -> None:
    pid = make_project(sessions, labels=("news", "sport", "tech"), multi_label=True)
    path = tmp_path / "m.csv"
    pd.DataFrame({"text": ["a", "b"], "tags": ["sport|news", ""]}).to_csv(path, index=False)
    report = _import(sessions, pid, path, ImportOptions(label_col="tags"))
    assert report.annotations_created == 1
    with session_scope(sessions) as session:
        assert session.scalar(select(Annotation.labels).where(Annotation.project_id == pid)) == [
            "news",
            "sport",
        ]


def test_single_label_project_rejects_two_labels(sessions, tmp_path) -> None:
    pid = make_project(sessions)
    path = tmp_path / "m.csv"
    pd.DataFrame({"text": ["a"], "label": ["ham|spam"]}).to_csv(path, index=False)
    with pytest.raises(UserError) as err:
        _import(sessions, pid, path, ImportOptions(label_col="label"))
    assert err.value.details == ["line 2: 2 labels, but the project is single-label"]


def _digit_folder(root: Path, per_label: int = 3) -> Path:
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    for label in ("0", "1"):
        (root / label).mkdir(parents=True)
        idx = [i for i, t in enumerate(digits.target) if str(t) == label][:per_label]
        for i in idx:
            img = Image.fromarray((digits.images[i] * 15).astype("uint8"), mode="L")
            img.save(root / label / f"d{i}.png")
    return root


def test_image_folder_with_labels_from_subfolders(sessions, tmp_path) -> None:
    folder = _digit_folder(tmp_path / "imgs")
    pid = make_project(sessions, labels=("0", "1"), task_type="image")
    report = _import(sessions, pid, folder, ImportOptions(folder_labels=True))
    assert (report.items_created, report.annotations_created) == (6, 6)
    with session_scope(sessions) as session:
        items = session.scalars(select(Item).where(Item.project_id == pid)).all()
        labels = session.execute(select(Annotation.labels, Annotation.source)).all()
    assert {i.external_id.split("/")[0] for i in items} == {"0", "1"}
    assert all(i.image_path and i.meta["width"] == 8 for i in items)
    assert (
        sorted((tuple(lab), src) for lab, src in labels)
        == [(("0",), "folder")] * 3 + [(("1",), "folder")] * 3
    )
    assert _import(sessions, pid, folder, ImportOptions(folder_labels=True)).items_created == 0


def test_broken_image_rejects_the_folder(sessions, tmp_path) -> None:
    folder = _digit_folder(tmp_path / "imgs")
    (folder / "1" / "broken.png").write_bytes(b"not a png")
    pid = make_project(sessions, labels=("0", "1"), task_type="image")
    with pytest.raises(UserError) as err:
        _import(sessions, pid, folder, ImportOptions(folder_labels=True))
    assert err.value.details[0].startswith("1/broken.png: not a readable image")
    assert _count(sessions, Item, pid) == 0
    media = Path(__import__("os").environ["LABELAPP_DATA_DIR"]) / "media"
    assert not any(p.is_file() for p in media.rglob("*")) if media.exists() else True


def test_text_file_into_image_project_is_refused(sessions) -> None:
    pid = make_project(sessions, labels=("0", "1"), task_type="image")
    with pytest.raises(UserError, match="image project"):
        _import(sessions, pid, YOUTUBE, YT_OPTIONS)


def _zip(folder: Path, target: Path, extra: dict[str, bytes] | None = None) -> Path:
    import zipfile

    with zipfile.ZipFile(target, "w") as zf:
        for path in sorted(folder.rglob("*.png")):
            zf.write(path, Path("digits") / path.relative_to(folder))
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return target


@pytest.mark.slow
def test_api_imports_a_zip_of_image_folders(client, sessions, tmp_path) -> None:
    from tests.app.factories import make_user

    archive = _zip(_digit_folder(tmp_path / "imgs"), tmp_path / "digits.zip")
    pid = make_project(sessions, labels=("0", "1"), task_type="image")
    sme = make_user(sessions, "sam", "sme", (pid,))
    with archive.open("rb") as f:
        job = api_import(
            client, pid, sme.headers, {"file": (f, "digits.zip"), "folder_labels": "true"}
        )
    assert job["status"] == "done", job
    assert (job["result"]["items_created"], job["result"]["annotations_created"]) == (6, 6)
    item = client.get(f"/api/projects/{pid}/items", headers=sme.headers).get_json()["items"][0]
    image = client.get(item["image_url"], headers=sme.headers)
    assert image.status_code == 200 and image.data[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_api_refuses_a_zip_that_escapes_its_folder(client, sessions, tmp_path) -> None:
    from tests.app.factories import make_user

    archive = _zip(_digit_folder(tmp_path / "imgs"), tmp_path / "bad.zip", {"../evil.png": b"x"})
    pid = make_project(sessions, labels=("0", "1"), task_type="image")
    sme = make_user(sessions, "sam", "sme", (pid,))
    with archive.open("rb") as f:
        job = api_import(client, pid, sme.headers, {"file": (f, "bad.zip")})
    assert job["status"] == "failed" and "outside the archive" in job["error"], job
    assert _count(sessions, Item, pid) == 0
    assert not (tmp_path / "evil.png").exists()
