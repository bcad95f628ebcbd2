"""An image project's schema: each image's width, height, mode and format, inferred by the first
import and checked on every later one (a zip upload or a folder), with the same report as a
table's columns: per property the count and the first entries."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from labelapp.db import session_scope
from labelapp.models import ImportBatch, Item, Project, ProjectSchema, SchemaCheck
from labelapp.services.errors import UserError
from labelapp.services.imports import ImportOptions, import_path
from labelapp.services.schema import current_schema
from tests.app.factories import api_import, make_project, make_user


def _folder(root: Path, images: dict[str, tuple[str, tuple[int, int], str]]) -> Path:
    """Write ``{entry: (mode, (width, height), format)}`` as tiny images under ``root``."""
    from PIL import Image

    for entry, (mode, size, kind) in images.items():
        path = root / entry
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.new(mode, size).save(path, format=kind)
    return root


def _import(sessions, pid: int, folder: Path, schema: str = "strict"):
    with session_scope(sessions) as session:
        return import_path(session, session.get(Project, pid), folder, ImportOptions(schema=schema))


def _counts(sessions, pid: int) -> tuple[int, ...]:
    with session_scope(sessions) as session:
        return tuple(
            session.scalar(select(func.count()).select_from(m).where(m.project_id == pid))
            for m in (Item, ImportBatch, ProjectSchema, SchemaCheck)
        )


RGB = {f"a/{i}.png": ("RGB", (4 + i, 4), "PNG") for i in range(3)}


def test_first_image_import_infers_the_image_properties(sessions, tmp_path) -> None:
    pid = make_project(sessions, labels=("0", "1"), task_type="image")
    report = _import(sessions, pid, _folder(tmp_path / "one", RGB))
    assert report.schema["schema_version"] == 1 and report.schema["problems"] == []
    with session_scope(sessions) as session:
        columns = current_schema(session, pid).schema["columns"]
        meta = session.scalars(select(Item.meta).where(Item.project_id == pid)).first()
    assert set(columns) == {"$width", "$height", "$mode", "$format"}
    # sizes seen 4 to 6 wide, 4 high: within 4x of them passes (far outside does not)
    assert (
        columns["$width"]["in_range"]["min_value"],
        columns["$width"]["in_range"]["max_value"],
    ) == (1, 24)
    assert columns["$height"]["in_range"]["max_value"] == 16
    assert columns["$mode"]["isin"] == ["RGB"] and columns["$format"]["isin"] == ["PNG"]
    assert meta["format"] == "PNG" and meta["mode"] == "RGB"


def test_another_mode_is_refused_under_strict_and_evolves(sessions, tmp_path) -> None:
    pid = make_project(sessions, labels=("0", "1"), task_type="image")
    _import(sessions, pid, _folder(tmp_path / "one", RGB))
    gray = {"b/x.png": ("RGB", (4, 4), "PNG"), "b/y.png": ("L", (4, 4), "PNG")}
    gray |= {"b/z.png": ("L", (5, 4), "PNG")}
    later = _folder(tmp_path / "two", gray)
    before = _counts(sessions, pid)
    with pytest.raises(UserError) as info:
        _import(sessions, pid, later)
    assert _counts(sessions, pid) == before  # no item, import, schema version or check stored
    assert "nothing was imported" in str(info.value)
    assert info.value.details == [
        "refused: 2 image(s) of a mode the schema has not seen (e.g. 'L') (first: b/y.png, b/z.png)"
    ]

    report = _import(sessions, pid, later, schema="evolve")
    assert report.items_created == 3
    assert report.schema["evolved"] and report.schema["schema_version"] == 2
    [problem] = report.schema["problems"]
    assert (problem["column"], problem["kind"], problem["count"], problem["lines"]) == (
        "$mode",
        "image_mode",
        2,
        ["b/y.png", "b/z.png"],
    )
    with session_scope(sessions) as session:
        evolved = current_schema(session, pid)
        check = session.scalars(select(SchemaCheck).order_by(SchemaCheck.id.desc())).first()
        assert (evolved.version, evolved.reason, evolved.import_id) == (
            2,
            "evolved",
            report.import_id,
        )
        assert evolved.schema["columns"]["$mode"]["isin"] == ["L", "RGB"]
        assert (check.mode, check.checked_version, check.schema_version) == ("evolve", 1, 2)
    # the evolved schema takes gray images without a problem
    again = _import(sessions, pid, _folder(tmp_path / "three", {"c/g.png": ("L", (4, 4), "PNG")}))
    assert again.schema["problems"] == [] and again.schema["schema_version"] == 2


def test_far_larger_images_and_a_new_format_are_reported_and_stored(sessions, tmp_path) -> None:
    pid = make_project(sessions, labels=("0", "1"), task_type="image")
    _import(sessions, pid, _folder(tmp_path / "one", RGB))
    later = {
        "b/big.png": ("RGB", (30, 4), "PNG"),  # 30 wide: beyond 4x the widest seen (6)
        "b/ok.png": ("RGB", (20, 4), "PNG"),  # within 4x
        "b/photo.jpg": ("RGB", (4, 4), "JPEG"),
    }
    report = _import(sessions, pid, _folder(tmp_path / "two", later))
    assert report.items_created == 3 and report.schema["schema_version"] == 1
    found = {
        (p["column"], p["kind"], p["count"], tuple(p["lines"]), p["blocking"])
        for p in report.schema["problems"]
    }
    assert found == {
        ("$width", "out_of_range", 1, ("b/big.png",), False),
        ("$format", "new_value", 1, ("b/photo.jpg",), False),
    }
    with session_scope(sessions) as session:
        assert current_schema(session, pid).version == 1


@pytest.mark.slow
def test_image_schema_over_the_api_zip_upload(app, sessions, tmp_path) -> None:
    pid = make_project(sessions, labels=("0", "1"), task_type="image")
    sme = make_user(sessions, "sam", "sme", (pid,))
    api = app.test_client()

    def upload(images: dict, name: str, **fields) -> dict:
        folder = _folder(tmp_path / name, images)
        data = io.BytesIO()
        with zipfile.ZipFile(data, "w") as zf:
            for path in sorted(folder.rglob("*.png")):
                zf.write(path, path.relative_to(folder).as_posix())
        data.seek(0)
        return api_import(api, pid, sme.headers, {"file": (data, f"{name}.zip"), **fields})

    assert upload(RGB, "one")["result"]["schema"]["schema_version"] == 1
    gray = {"b/y.png": ("L", (4, 4), "PNG")}
    before = _counts(sessions, pid)
    refused = upload(gray, "two")  # a zip of one folder imports that folder: entries are in it
    assert _counts(sessions, pid) == before  # refused under strict (the default): nothing stored
    assert refused["status"] == "failed" and "nothing was imported" in refused["error"]
    assert refused["result"]["details"] == [
        "refused: 1 image(s) of a mode the schema has not seen (e.g. 'L') (first: y.png)"
    ]
    evolved = upload(gray, "three", schema="evolve")
    assert evolved["status"] == "done", evolved
    assert evolved["result"]["schema"]["schema_version"] == 2
    import_id = evolved["result"]["import_id"]
    with session_scope(sessions) as session:  # the new version, in the import's provenance
        check = session.scalars(select(SchemaCheck).where(SchemaCheck.import_id == import_id)).one()
        assert (check.mode, check.checked_version, check.schema_version) == ("evolve", 1, 2)
        assert current_schema(session, pid).import_id == import_id
