"""An export whose dev or test split cannot be trusted says so: on the command line, in the
manifest and in the API (the probe: importing labeled comments gave no dev or test, silently)."""

from __future__ import annotations

import pandas as pd
from click.testing import CliRunner

from labelapp.cli import main
from tests.app.factories import make_user
from tests.app.youtube import DEMO_CSV, cli_import


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_imported_labels_alone_leave_dev_and_test_empty_with_a_warning(
    client, sessions, db_url, tmp_path
) -> None:
    frame = pd.read_csv(DEMO_CSV).drop_duplicates("COMMENT_ID").head(300)
    frame["CLASS"] = frame["CLASS"].map({0: "ham", 1: "spam"})
    path = tmp_path / "comments.csv"
    frame.to_csv(path, index=False)
    created = cli_import(path, "yt", "--label-col", "CLASS", "--label-kind", "weak")
    assert created.exit_code == 0, created.output
    result = run("export", "--project", "yt", "--format", "csv", "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert (
        "warning: dev is empty: no item has a label of source 'human' or 'adjudicated' or "
        "'corrected'" in result.output
    )
    assert "warning: test is empty" in result.output
    sme = make_user(sessions, "sid", "sme", (1,))
    version = client.get("/api/projects/1/exports", headers=sme.headers).get_json()["versions"][0]
    assert len(version["warnings"]) == 2 and version["warnings"][0].startswith("dev is empty")
    manifest = client.get("/api/projects/1/exports/1", headers=sme.headers).get_json()["manifest"]
    assert manifest["split_report"]["warnings"] == version["warnings"]
