"""The command line as a user runs it: one database rule, tokens that work, imports with errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from labelapp.cli import main
from tests.app.youtube import UCI, cli_import, labeled_video

YOUTUBE = UCI / "Youtube02-KatyPerry.csv"


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_users_create_prints_a_working_token(db_url, app) -> None:
    result = run("projects", "create", "spam", "--labels", "ham,spam")
    assert result.exit_code == 0, result.output
    result = run("users", "create", "ann", "--role", "annotator", "--project", "spam")
    assert result.exit_code == 0, result.output
    token = next(
        line.split(": ", 1)[1]
        for line in result.output.splitlines()
        if line.startswith("API token")
    )
    client = app.test_client()
    response = client.get("/api/projects", headers={"Authorization": f"Bearer {token}"})
    assert [p["name"] for p in response.json["projects"]] == ["spam"]
    # A new token replaces the old one.
    new = run("users", "token", "ann").output.split(": ", 1)[1].strip()
    assert client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert (
        client.get("/api/me", headers={"Authorization": f"Bearer {new}"}).json["username"] == "ann"
    )


def test_import_command_with_create_labels_and_groups(db_url, tmp_path) -> None:
    path = tmp_path / "katy.csv"
    labeled_video(YOUTUBE, keep_class=True).to_csv(path, index=False)
    result = cli_import(
        path, "katy", "--label-col", "label", "--label-kind", "human", "--group-col", "AUTHOR"
    )
    assert result.exit_code == 0, result.output
    assert "350 rows -> 350 new items" in result.output and "350 labels (human)" in result.output
    listing = run("projects", "list").output
    assert "katy" in listing and "350 items" in listing
    again = run(
        "import", str(path), "--project", "katy", "--text-col", "CONTENT", "--id-col", "COMMENT_ID"
    )
    assert "0 new items, 350 already there" in again.output


def test_import_command_reports_bad_rows_and_exits_nonzero(db_url, tmp_path) -> None:
    run("projects", "create", "p", "--labels", "a,b")
    path = tmp_path / "bad.csv"
    path.write_text("text,label\nfine,a\nalso fine,c\n")
    result = run("import", str(path), "--project", "p", "--label-col", "label")
    assert result.exit_code == 1
    assert "line 3: unknown label 'c'" in result.output
    assert "0 items" in run("projects", "list").output


def test_unknown_project_says_how_to_create_it(db_url, tmp_path) -> None:
    result = run("import", str(YOUTUBE), "--project", "nope")
    assert result.exit_code == 1
    assert "no project named 'nope'" in result.output and "--create --labels" in result.output


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LABELAPP_")}
    env.update(extra)
    env["HOME"] = str(tmp_path / "home")
    return env


@pytest.mark.slow
def test_console_command_finds_the_database_from_data_dir(tmp_path) -> None:
    exe = Path(sys.executable).with_name("labelapp")
    env = _env(tmp_path, LABELAPP_DATA_DIR=str(tmp_path / "d"))
    refused = subprocess.run([exe, "projects", "list"], env=env, capture_output=True, text=True)
    assert refused.returncode == 1 and "labelapp db upgrade" in refused.stderr
    up = subprocess.run([exe, "db", "upgrade"], env=env, capture_output=True, text=True)
    assert up.returncode == 0, up.stderr
    assert (tmp_path / "d" / "labelapp.sqlite3").exists()
    current = subprocess.run([exe, "db", "current"], env=env, capture_output=True, text=True)
    assert "up to date" in current.stdout


@pytest.mark.slow
def test_demo_prepares_real_data_and_is_idempotent(tmp_path) -> None:
    exe = Path(sys.executable).with_name("labelapp")
    env = _env(tmp_path)
    cmd = [exe, "demo", "--data-dir", str(tmp_path / "demo"), "--no-serve"]
    first = subprocess.run(cmd, env=env, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    assert "(created)" in first.stdout and "admin  / demo-admin" in first.stdout
    second = subprocess.run(cmd, env=env, capture_output=True, text=True)
    assert "(reused)" in second.stdout
    env["LABELAPP_DATA_DIR"] = str(tmp_path / "demo")
    listing = subprocess.run(
        [exe, "projects", "list"], env=env, capture_output=True, text=True
    ).stdout
    assert "youtube-spam" in listing and "1,953 items" in listing  # 1,956 rows, 3 repeated ids
    assert "digits" in listing and "300 items" in listing
    # Annotators never see the data set's answers; 40 of them are gold items instead.
    from labelapp.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'demo' / 'labelapp.sqlite3'}")
    with engine.connect() as conn:
        metas = conn.exec_driver_sql("SELECT meta FROM items WHERE text IS NOT NULL").scalars()
        assert not any("CLASS" in json.loads(m) for m in metas)
        # Comments read as text, not as the HTML the data set stores them in.
        texts = (
            conn.exec_driver_sql("SELECT text FROM items WHERE text IS NOT NULL").scalars().all()
        )
        assert not any("<br" in t or "&#39;" in t or "&quot;" in t for t in texts)
        assert sum("\n" in t for t in texts) > 50 and sum("'" in t for t in texts) > 100
        gold = conn.exec_driver_sql("SELECT count(*) FROM queue_entries WHERE is_gold").scalar()
        assert gold == 40
    engine.dispose()


@pytest.mark.slow
def test_cli_and_app_import_no_heavy_libraries() -> None:
    code = (
        "import sys; import labelapp.cli, labelapp.app; from labelapp.app import create_app; "
        "heavy = [m for m in ('torch', 'snorkel', 'modAL', 'albumentations', 'sklearn', 'dask') "
        "if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
