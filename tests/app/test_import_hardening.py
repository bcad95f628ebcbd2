"""Bad files are refused with a line-numbered 400 and nothing stored: encodings, NUL bytes,
unterminated quotes, repeated headers (issue 13, row 10)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select

from labelapp.db import session_scope
from labelapp.models import ImportBatch, Item, Project
from labelapp.services.errors import UserError
from labelapp.services.imports import ImportOptions, import_path
from tests.app.factories import api_import, make_project, make_user, wait_for_job


def _import(sessions, project_id: int, path: Path, options: ImportOptions | None = None):
    with session_scope(sessions) as session:
        return import_path(session, session.get(Project, project_id), path, options)


def _refused(sessions, path: Path, options: ImportOptions | None = None) -> str:
    """Import ``path``; it must fail with a UserError and leave the project empty."""
    pid = make_project(sessions, f"p-{path.stem}")
    with pytest.raises(UserError) as err:
        _import(sessions, pid, path, options)
    with session_scope(sessions) as session:
        assert session.scalar(select(func.count()).select_from(Item)) == 0
        assert session.scalar(select(func.count()).select_from(ImportBatch)) == 0
    return str(err.value)


def test_latin1_jsonl_names_the_line_and_byte(sessions, tmp_path) -> None:
    path = tmp_path / "latin.jsonl"
    lines = ['{"text": "fine"}', '{"text": "also fine"}', '{"text": "caf\u00e9 au lait"}']
    path.write_bytes("\n".join(lines).encode("latin-1") + b"\n")
    message = _refused(sessions, path)
    assert "latin.jsonl: line 3: not UTF-8 (byte 0xe9 at byte 14 of the line)" in message
    assert "save the file as UTF-8" in message


def test_latin1_csv_after_a_chunk_boundary_names_the_right_line(
    sessions, tmp_path, monkeypatch
) -> None:
    from labelapp.services.imports import readers

    monkeypatch.setattr(readers, "SCAN_CHUNK_BYTES", 7)  # multi-byte characters cut by chunks
    path = tmp_path / "latin.csv"
    body = "id,text\n1,\u00fcber gr\u00fc\u00dfe\n2,ok\n".encode() + "3,d\u00e9j\u00e0\n".encode(
        "latin-1"
    )
    path.write_bytes(body)
    assert "latin.csv: line 4: not UTF-8 (byte 0xe9 at byte 4 of the line)" in _refused(
        sessions, path
    )


def test_utf8_split_across_chunks_is_accepted(sessions, tmp_path, monkeypatch) -> None:
    from labelapp.services.imports import readers

    monkeypatch.setattr(readers, "SCAN_CHUNK_BYTES", 5)
    path = tmp_path / "ok.csv"
    path.write_text(
        "id,text\n1,\u00fcber \U0001f600 gr\u00fc\u00dfe\n2,\u65e5\u672c\u8a9e\n", "utf-8"
    )
    pid = make_project(sessions)
    assert _import(sessions, pid, path).items_created == 2


def test_nul_byte_in_csv_names_line_and_column(sessions, tmp_path) -> None:
    path = tmp_path / "nul.csv"
    path.write_bytes(b"id,text,source\n1,fine,web\n2,bad\x00text,web\n3,ok,a\x00pp\n")
    message = _refused(sessions, path)
    assert "line 3: column 'text' holds a NUL character (\\x00) at character 4" in message
    assert "line 4: column 'source' holds a NUL character" in message


def test_escaped_nul_in_jsonl_metadata_is_refused(sessions, tmp_path) -> None:
    path = tmp_path / "nul.jsonl"
    path.write_text(
        json.dumps({"text": "a"}) + "\n" + json.dumps({"text": "b", "meta": {"k": "x\x00"}}) + "\n"
    )
    assert "line 2: column 'meta' holds a NUL character" in _refused(sessions, path)


def test_nul_in_parquet_is_refused(sessions, tmp_path) -> None:
    path = tmp_path / "nul.parquet"
    pd.DataFrame({"text": ["a", "b\x00"]}).to_parquet(path)
    assert "row 2: column 'text' holds a NUL character" in _refused(sessions, path)


def test_unterminated_quote_names_the_line_it_opens(sessions, tmp_path) -> None:
    path = tmp_path / "quote.csv"
    path.write_text('id,text\n1,hello\n2,"broken quote\n3,three\n4,four\n5,five\n')
    message = _refused(sessions, path)
    assert (
        "quote.csv: line 3: a quoted field starts on this line and its closing quote never comes"
        in message
    )


def test_unterminated_quote_after_good_multiline_fields(sessions, tmp_path) -> None:
    path = tmp_path / "quote.tsv"
    path.write_text('id\ttext\n1\t"two\nlines"\n2\t"say ""hi"""\n3\t"open\n4\tx\n')
    assert "quote.tsv: line 5: a quoted field starts on this line" in _refused(sessions, path)


def test_quotes_inside_fields_are_still_fine(sessions, tmp_path) -> None:
    path = tmp_path / "ok.csv"
    path.write_text('id,text\n1,"a ""quoted"" word"\n2,"multi\nline"\n3,5 inch" screen\n')
    pid = make_project(sessions)
    assert _import(sessions, pid, path).items_created == 3
    with session_scope(sessions) as session:
        texts = session.scalars(select(Item.text).order_by(Item.position)).all()
    assert texts == ['a "quoted" word', "multi\nline", '5 inch" screen']


def test_repeated_header_is_refused_naming_the_column(sessions, tmp_path) -> None:
    path = tmp_path / "dup.csv"
    path.write_text("id,text,text\n1,a,b\n")
    message = _refused(sessions, path)
    assert "dup.csv: line 1: the header names column 'text' 2 times (columns 2, 3)" in message


@pytest.mark.slow
def test_api_import_job_fails_for_each_bad_file(client, sessions, tmp_path) -> None:
    pid = make_project(sessions)
    sme = make_user(sessions, "sam", "sme", (pid,))
    files = {
        "latin.jsonl": '{"text": "caf\u00e9"}\n'.encode("latin-1"),
        "nul.csv": b"text\nbad\x00\n",
        "quote.csv": b'id,text\n1,"open\n2,b\n',
        "dup.csv": b"id,text,text\n1,a,b\n",
    }
    expected = {
        "latin.jsonl": "line 1: not UTF-8",
        "nul.csv": "NUL character",
        "quote.csv": "line 2: a quoted field starts",
        "dup.csv": "column 'text' 2 times",
    }
    for name, data in files.items():
        path = tmp_path / name
        path.write_bytes(data)
        with path.open("rb") as f:
            job = api_import(client, pid, sme.headers, {"file": (f, name)})  # imports are jobs
        assert job["status"] == "failed", (name, job)
        assert expected[name] in job["error"], job["error"]
    with session_scope(sessions) as session:
        assert session.scalar(select(func.count()).select_from(Item)) == 0


# --- image zips (issue 13, row 11) -------------------------------------------------------------


def _png_claiming(width: int, height: int) -> bytes:
    """A valid 1-bit PNG of ``width`` x ``height`` black pixels, built row by row (the file is a
    few kB; decoding it would take width x height bytes)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    packer = zlib.compressobj(9)
    row = b"\x00" * (1 + (width + 7) // 8)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


def _small_png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("L", (8, 8), 200).save(out, format="PNG")
    return out.getvalue()


def _zip_of(target: Path, entries: dict[str, bytes], method: int | None = None) -> Path:
    import zipfile

    with zipfile.ZipFile(target, "w", compression=method or zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return target


def _corrupt_deflate(target: Path) -> Path:
    """A zip whose one entry's deflate stream starts with a reserved block type."""
    import zipfile

    _zip_of(target, {"imgs/a.png": _small_png() * 50})
    with zipfile.ZipFile(target) as zf:
        info = zf.infolist()[0]
    data = bytearray(target.read_bytes())
    name_len, extra_len = (
        int.from_bytes(data[info.header_offset + o : info.header_offset + o + 2], "little")
        for o in (26, 28)
    )
    start = info.header_offset + 30 + name_len + extra_len
    data[start : start + 16] = b"\xff" * 16
    target.write_bytes(bytes(data))
    return target


def _lying_crc(target: Path) -> Path:
    """A stored entry whose CRC-32 (local header and directory alike) does not match its bytes."""
    import struct
    import zipfile
    import zlib

    payload = _small_png()
    _zip_of(target, {"imgs/a.png": payload}, zipfile.ZIP_STORED)
    crc = struct.pack("<I", zlib.crc32(payload))
    data = target.read_bytes()
    assert data.count(crc) == 2
    target.write_bytes(data.replace(crc, struct.pack("<I", zlib.crc32(payload) ^ 0xFFFF)))
    return target


def _bomb(target: Path, megabytes: int, name: str = "imgs/bomb.png") -> Path:
    """``megabytes`` of zeros in one deflated entry (about 1 MB compressed per GB)."""
    import zipfile

    block = b"\x00" * 1024**2
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(target, "w") as zf, zf.open(info, "w", force_zip64=True) as out:
        for _ in range(megabytes):
            out.write(block)
    return target


def _post_zip(client, pid: int, headers: dict, path: Path):
    with path.open("rb") as f:
        return client.post(
            f"/api/projects/{pid}/imports", data={"file": (f, path.name)}, headers=headers
        )


BAD_ZIPS = {
    "huge_png": "big.png: 400,000,000 pixels; the limit is 100,000,000 pixels "
    "(LABELAPP_IMAGE_MAX_PIXELS)",
    "corrupt_deflate": "corrupt_deflate.zip: entry 'imgs/a.png' is damaged",
    "lying_crc": "lying_crc.zip: entry 'imgs/a.png' is damaged (Bad CRC-32",
    "bomb": "bomb.zip: entry 'imgs/bomb.png': unpacks to more than 100 times its compressed size",
    "too_many": "too_many.zip: 6 entries; the limit is 5 (LABELAPP_ZIP_MAX_FILES)",
    "too_big": "too_big.zip: entry 'imgs/b.bmp': the archive unpacks to more than 1 MB",
    "not_zip": "not_zip.zip: not a zip archive",
    "escape": "escape.zip: entry '../evil.png' points outside the archive",
}


def _bad_zip(path: Path, kind: str) -> None:
    if kind == "huge_png":
        _zip_of(path, {"imgs/ok.png": _small_png(), "imgs/big.png": _png_claiming(20000, 20000)})
    elif kind == "corrupt_deflate":
        _corrupt_deflate(path)
    elif kind == "lying_crc":
        _lying_crc(path)
    elif kind == "bomb":
        _bomb(path, 300)
    elif kind == "too_many":
        _zip_of(path, {f"imgs/{i}.png": _small_png() for i in range(6)})
    elif kind == "too_big":
        blob = bytes(range(256)) * 3000  # 768 kB that barely compress
        _zip_of(path, {"imgs/a.bmp": blob, "imgs/b.bmp": blob})
    elif kind == "not_zip":
        path.write_bytes(b"PK\x03\x04 this is not really a zip")
    else:
        _zip_of(path, {"imgs/a.png": _small_png(), "../evil.png": b"x"})


# Each kind into a project of its own: their import jobs run side by side on one worker. The
# size limit of 1 MB would stop the bomb before its ratio does: that kind runs apart.
@pytest.mark.slow
@pytest.mark.parametrize(
    "kinds", [tuple(k for k in BAD_ZIPS if k != "too_big"), ("too_big",)], ids=["each", "size"]
)
def test_api_import_job_refuses_each_bad_zip(
    client, sessions, tmp_path, monkeypatch, kinds: tuple[str, ...]
) -> None:
    monkeypatch.setenv("LABELAPP_ZIP_MAX_FILES", "5")  # too_many has 6 entries, others 1 or 2
    if "too_big" in kinds:
        monkeypatch.setenv("LABELAPP_ZIP_MAX_MB", "1")
    pids = {k: make_project(sessions, k, labels=("0", "1"), task_type="image") for k in kinds}
    sme = make_user(sessions, "sam", "sme", tuple(pids.values()))
    started = {}
    for kind, pid in pids.items():
        path = tmp_path / f"{kind}.zip"
        _bad_zip(path, kind)
        res = _post_zip(client, pid, sme.headers, path)
        assert res.status_code == 202, (kind, res.status_code, res.get_data(as_text=True)[:400])
        started[kind] = res.get_json()["id"]
    for kind, job_id in started.items():
        job = wait_for_job(client, job_id, sme.headers)
        assert job["status"] == "failed", (kind, job)
        assert BAD_ZIPS[kind] in job["error"], job["error"]
        assert "/tmp" not in job["error"] and str(tmp_path) not in job["error"]  # no server paths
    with session_scope(sessions) as session:
        assert session.scalar(select(func.count()).select_from(Item)) == 0
    media = Path(__import__("os").environ["LABELAPP_DATA_DIR"]) / "media"
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))


@pytest.mark.slow
def test_a_good_zip_still_imports(client, sessions, tmp_path) -> None:
    pid = make_project(sessions, labels=("0", "1"), task_type="image")
    sme = make_user(sessions, "sam", "sme", (pid,))
    blank = b"BM" + bytes(200_000)  # an entry that compresses 1000x but stays under 1 MB
    path = _zip_of(
        tmp_path / "good.zip",
        {"imgs/0/a.png": _small_png(), "imgs/1/b.png": _small_png(), "imgs/notes.txt": blank},
    )
    res = _post_zip(client, pid, sme.headers, path)
    assert res.status_code == 202, res.get_json()
    job = wait_for_job(client, res.get_json()["id"], sme.headers)
    assert job["status"] == "done" and job["result"]["items_created"] == 2, job


_PEAK_RSS = """
import json, resource, sys, tempfile
from pathlib import Path
from labelapp.services.errors import UserError
from labelapp.services.imports import images
from labelapp.services.imports.archive import unpack_images_zip
import PIL.Image, pandas, numpy  # what a server has loaded already
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
outcome = "imported"
with tempfile.TemporaryDirectory(dir=sys.argv[2]) as tmp:
    try:
        folder = unpack_images_zip(Path(sys.argv[1]), Path(tmp) / "unpacked", "bomb.zip")
        images.validate_folder(folder, ["0", "1"], False, lambda *a: None)
    except UserError as exc:
        outcome = str(exc)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"grew_mb": (after - before) / 1024, "outcome": outcome}))
"""


@pytest.mark.slow
@pytest.mark.parametrize("limits", ["default", "raised"])
def test_zip_bomb_never_lands_in_memory(tmp_path, limits: str) -> None:
    """Unpacking and checking a 1 GB zip bomb grows the process by well under 100 MB, whether a
    limit stops it (default) or it is unpacked to disk in full (limits raised)."""
    import os
    import subprocess
    import sys

    bomb = _bomb(tmp_path / "bomb.zip", 1024)
    env = dict(os.environ)
    if limits == "raised":
        env.update(LABELAPP_ZIP_MAX_RATIO="100000", LABELAPP_ZIP_MAX_MB="4096")
    done = subprocess.run(
        [sys.executable, "-c", _PEAK_RSS, str(bomb), str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["outcome"] != "imported"
    expected = "times its compressed size" if limits == "default" else "not a readable image"
    assert expected in result["outcome"]
    assert result["grew_mb"] < 100, result


def test_upload_limit_is_a_setting_and_answers_413(db_url, sessions, tmp_path, monkeypatch) -> None:
    from labelapp.app import create_app

    monkeypatch.setenv("LABELAPP_MAX_UPLOAD_MB", "1")
    app = create_app({"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": "test-secret"})
    try:
        assert app.config["MAX_CONTENT_LENGTH"] == 1024**2
        pid = make_project(sessions)
        sme = make_user(sessions, "sam", "sme", (pid,))
        path = tmp_path / "big.csv"
        path.write_text("text\n" + "a line of text\n" * 100_000)  # 1.5 MB
        res = _post_zip(app.test_client(), pid, sme.headers, path)
        assert res.status_code == 413
        assert "larger than 1 MB" in res.get_json()["error"]["message"]
        assert "LABELAPP_MAX_UPLOAD_MB" in res.get_json()["error"]["message"]
        with session_scope(sessions) as session:
            assert session.scalar(select(func.count()).select_from(Item)) == 0
    finally:
        app.extensions["labelapp.engine"].dispose()


def test_label_studio_json_with_nul_or_latin1_is_refused(sessions, tmp_path) -> None:
    tasks = [{"id": 1, "data": {"text": "fine"}}, {"id": 2, "data": {"text": "ok", "src": "a\x00"}}]
    nul = tmp_path / "tasks.json"
    nul.write_text(json.dumps(tasks))
    assert "task #2 (id 2): the task's data holds a NUL character" in _refused(sessions, nul)
    latin = tmp_path / "latin.json"
    latin.write_bytes('[{"id": 1, "data": {"text": "caf\u00e9"}}]'.encode("latin-1"))
    assert "latin.json: line 1: not UTF-8 (byte 0xe9" in _refused(
        sessions, latin, ImportOptions(format="label_studio")
    )


@pytest.mark.slow
def test_zip_of_a_million_tiny_entries_is_refused_before_it_is_parsed(tmp_path) -> None:
    """zipfile builds one object per entry when it opens an archive (about 600 bytes each): the
    count is read from the end record first, so 150,000 empty entries cost no memory."""
    import os
    import subprocess
    import sys
    import zipfile

    archive = tmp_path / "many.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for i in range(150_000):
            zf.writestr(f"imgs/{i}.png", b"")
    done = subprocess.run(
        [sys.executable, "-c", _PEAK_RSS, str(archive), str(tmp_path)],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert "150,000 entries; the limit is 100,000 (LABELAPP_ZIP_MAX_FILES)" in result["outcome"]
    assert result["grew_mb"] < 30, result
