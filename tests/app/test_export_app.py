"""Exporting a project as a user does: the CLI, the job behind the browser, versions and diffs,
Label Studio round trips, and who may export."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from labelapp.cli import main
from labelapp.db import session_scope
from labelapp.models import (
    Annotation,
    Item,
    LabelingFunction,
    LabelModelRun,
    ProbLabel,
    Project,
)
from tests.app.factories import make_project, make_user, wait_for_job
from tests.paths import SHARED_DATA

PSY = SHARED_DATA / "youtube_spam_uci" / "Youtube01-Psy.csv"
N_ITEMS = 80


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _export(fmt: str, out: Path, *options: str, project: str = "psy"):
    """``labelapp export --project PROJECT --format FMT --out OUT`` with more ``options``."""
    return run("export", "--project", project, "--format", fmt, "--out", str(out), *options)


def read_rows(folder: Path) -> pd.DataFrame:
    return pd.concat(
        [pd.read_csv(p, dtype={"external_id": str}) for p in sorted(folder.glob("*.csv"))],
        ignore_index=True,
    )


def files_of(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def spam(sessions, tmp_path) -> dict:
    """80 real YouTube comments grouped by author: two annotators label the first 50 (8 of
    them disputed: one adjudicated, one majority of three, one tie, one 'ambiguous'), an import
    imports 5 more as weak labels, the label model labels the rest (5 below 0.9 confidence)."""
    comments = pd.read_csv(PSY).drop_duplicates("CONTENT").head(N_ITEMS).reset_index(drop=True)
    truth = ["spam" if c == 1 else "ham" for c in comments["CLASS"]]
    source = tmp_path / "psy.csv"
    comments.assign(id=[f"c{i}" for i in range(N_ITEMS)]).to_csv(source, index=False)
    project_id = make_project(sessions, "psy", ("ham", "spam"), allow_ambiguous=True)
    assert (
        run(
            "import",
            str(source),
            "--project",
            "psy",
            "--text-col",
            "CONTENT",
            "--group-col",
            "AUTHOR",
        ).exit_code
        == 0
    )
    uci = tmp_path / "uci.csv"
    pd.DataFrame(
        {
            "id": [f"c{i}" for i in range(50, 55)],
            "CONTENT": comments["CONTENT"][50:55],
            "label": truth[50:55],
        }
    ).to_csv(uci, index=False)
    assert (
        run(
            "import",
            str(uci),
            "--project",
            "psy",
            "--text-col",
            "CONTENT",
            "--label-col",
            "label",
            "--label-kind",
            "weak",
        ).exit_code
        == 0
    )
    people = {name: make_user(sessions, name, "annotator", (project_id,)) for name in "abc"}
    sme = make_user(sessions, "sme", "sme", (project_id,))
    flip = {"spam": "ham", "ham": "spam"}
    with session_scope(sessions) as session:
        ids = list(
            session.scalars(
                select(Item.id).where(Item.project_id == project_id).order_by(Item.position)
            )
        )

        def label(i: int, who: str, value: str, kind: str = "label") -> None:
            user = sme if who == "sme" else people[who]
            session.add(
                Annotation(
                    item_id=ids[i],
                    project_id=project_id,
                    user_id=user.id,
                    kind=kind,
                    labels=[value],
                    source="adjudication" if kind == "adjudicate" else "human",
                )
            )

        label(7, "a", "ambiguous")  # the only answer: left out
        for i in (i for i in range(50) if i != 7):
            label(i, "a", truth[i])
            label(i, "b", flip[truth[i]] if i in (3, 4, 5) else truth[i])
        label(3, "sme", truth[3], "adjudicate")  # disputed, adjudicated
        label(4, "c", truth[4])  # disputed, 2 of 3 agree: majority
        # item 5: a tie between a and b, nobody adjudicated: left out
        label(6, "c", "ambiguous")  # 2 agree, 1 unsure: majority, not unanimous
        lf = LabelingFunction(
            project_id=project_id, name="has_link", kind="keyword", spec={"keywords": ["http"]}
        )
        session.add(lf)
        session.flush()
        lm_run = LabelModelRun(project_id=project_id, kind="label_model", lf_ids=[lf.id])
        session.add(lm_run)
        session.flush()
        for i in range(50, N_ITEMS):
            confidence = 0.5 if i >= N_ITEMS - 5 else 0.95
            session.add(
                ProbLabel(
                    item_id=ids[i],
                    project_id=project_id,
                    source="label_model",
                    label_model_run_id=lm_run.id,
                    probs=[0.05, 0.95],
                    label=truth[i],
                    confidence=confidence,
                )
            )
    return {
        "project": project_id,
        "ids": ids,
        "truth": truth,
        "sme": sme,
        "people": people,
        "lm_run": lm_run.id,
        "lf": lf.id,
    }


@pytest.mark.slow
def test_cli_export_versions_diff_and_identical_reexport(spam, sessions, tmp_path) -> None:
    ids, truth = spam["ids"], spam["truth"]
    first = tmp_path / "v1"
    result = _export("csv", first, "--seed", "3", "--ratios", "0.6,0.2,0.2")
    assert result.exit_code == 0, result.output
    assert "version 1:" in result.output
    rows = read_rows(first).set_index("item_id")
    by_id = {item_id: i for i, item_id in enumerate(ids)}

    # Who labeled what: the sources and which items are left out.
    source = {by_id[i]: s for i, s in rows["label_source"].items()}
    assert source[3] == "adjudicated" and source[4] == "majority" and source[6] == "majority"
    assert {source[i] for i in range(50) if i not in (3, 4, 5, 6, 7)} == {"human"}
    assert {source[i] for i in range(50, 55)} == {"import"}  # imported labels beat the label model
    assert {source[i] for i in range(55, N_ITEMS - 5)} == {"label_model"}
    left_out = {5, 7} | set(range(N_ITEMS - 5, N_ITEMS))  # tie, only 'ambiguous', low confidence
    assert set(source) == set(range(N_ITEMS)) - left_out
    assert all(rows.loc[ids[i], "label"] == truth[i] for i in source)
    assert rows.loc[ids[0], "external_id"] == "c0"
    assert json.loads(rows.loc[ids[0], "metadata"])["CLASS"] in ("0", "1")

    # Dev and test: human labels only; train carries the rest, marked with confidences.
    evaluation = rows[rows["split"] != "train"]
    assert len(evaluation) > 5 and set(evaluation["label_source"]) <= {"human", "adjudicated"}
    weak = rows[rows["label_source"] == "label_model"]
    assert set(weak["split"]) == {"train"} and (weak["confidence"] == 0.95).all()
    # One author's comments never straddle splits.
    assert (rows.groupby("group_key")["split"].nunique() == 1).all()
    manifest = json.loads((first / "manifest.json").read_text())
    assert manifest["provenance"]["lf_set"] == [
        {"id": spam["lf"], "name": "has_link", "version": 1}
    ]
    assert manifest["provenance"]["label_model_runs"] == [
        {"id": spam["lm_run"], "kind": "label_model"}
    ]

    # The splits are stored on the items and kept by the next export (another format, seed).
    with session_scope(sessions) as session:
        stored = dict(session.execute(select(Item.id, Item.split).where(Item.id.in_(ids))).all())
    assert all(stored[i] == s for i, s in rows["split"].items())
    second = tmp_path / "v2"
    assert _export("parquet", second, "--seed", "99").exit_code == 0
    again = pd.concat([pd.read_parquet(p) for p in second.glob("*.parquet")]).set_index("item_id")
    assert again["split"].to_dict() == {str(k): v for k, v in rows["split"].items()}

    # A past version, written again: the same bytes.
    copy = tmp_path / "v1-again"
    result = run("export", "again", "--project", "psy", "1", "--out", str(copy))
    assert result.exit_code == 0, result.output
    assert files_of(copy) == files_of(first)
    refused = CliRunner().invoke(
        main, ["export", "again", "--project", "psy", "1", "--out", str(copy)]
    )
    assert refused.exit_code != 0 and "not an empty folder" in refused.output

    # Someone adjudicates the tie and overrules item 0: the diff says so.
    with session_scope(sessions) as session:
        for i, value in ((5, truth[5]), (0, {"spam": "ham", "ham": "spam"}[truth[0]])):
            session.add(
                Annotation(
                    item_id=ids[i],
                    project_id=spam["project"],
                    user_id=spam["sme"].id,
                    kind="adjudicate",
                    labels=[value],
                    source="adjudication",
                )
            )
    assert _export("jsonl", tmp_path / "v3").exit_code == 0
    listing = run("export", "versions", "--project", "psy").output
    assert [line.split()[0] for line in listing.splitlines()] == ["v1", "v2", "v3"]
    diff = run("export", "diff", "--project", "psy", "1", "3")
    assert diff.exit_code == 0, diff.output
    assert "1 added, 0 removed, 1 relabeled" in diff.output
    assert f"relabeled {ids[0]} (c0): {truth[0]} (human) -> " in diff.output
    assert f"added: {ids[5]} (c5)" in diff.output
    data = json.loads(run("export", "diff", "--project", "psy", "1", "3", "--json").output)
    assert [r["item_id"] for r in data["items"]["relabeled"]] == [str(ids[0])]


def test_export_rejects_bad_requests_clearly(spam, tmp_path) -> None:
    def fails(*args: str) -> str:
        result = CliRunner().invoke(main, ["export", *args])
        assert result.exit_code != 0
        return result.output

    out = str(tmp_path / "x")
    assert "needs --format, --out" in fails("--project", "psy")
    assert "three numbers" in fails(
        "--project", "psy", "--format", "csv", "--out", out, "--ratios", "0.5,0.5"
    )
    assert "summing to 1" in fails(
        "--project", "psy", "--format", "csv", "--out", out, "--ratios", "0.5,0.5,0.5"
    )
    assert "imagefolder format is for image projects" in fails(
        "--project", "psy", "--format", "imagefolder", "--out", out
    )
    assert "shipped pipelines" in fails(
        "--project", "psy", "--format", "csv", "--out", out, "--augment", "nope"
    )
    assert "image augmentation plan cannot augment the text items" in fails(
        "--project", "psy", "--format", "csv", "--out", out, "--augment", "light"
    )
    assert "versions: none yet (export first)" in fails("diff", "--project", "psy", "1", "4")


def test_text_augmentation_adds_train_copies_with_lineage(spam, tmp_path) -> None:
    plan = tmp_path / "text.json"
    plan.write_text(json.dumps({"text": {"swap_prob": 0.2, "delete_prob": 0.1}, "copies": 2}))
    out = tmp_path / "aug"
    result = _export("jsonl", out, "--augment", str(plan))
    assert result.exit_code == 0, result.output
    rows = pd.DataFrame.from_records(
        [json.loads(line) for p in out.glob("*.jsonl") for line in p.read_text().splitlines()]
    )
    copies = rows[rows["augmented_from"].notna()]
    originals = rows[rows["augmented_from"].isna()]
    assert set(copies["split"]) == {"train"}
    assert len(copies) == 2 * (originals["split"] == "train").sum()
    assert set(copies["augmented_from"].astype(str)) == set(
        originals.loc[originals["split"] == "train", "item_id"].astype(str)
    )
    assert all("operations" in p for p in copies["transform_params"])


def test_label_studio_round_trip_through_the_import_command(spam, sessions, tmp_path) -> None:
    out = tmp_path / "ls"
    assert _export("label_studio", out, "--min-confidence", "0").exit_code == 0
    tasks = out / "tasks.json"
    exported = read_rows_ls(tasks)
    make_project(sessions, "copy", ("ham", "spam"), allow_ambiguous=True)
    result = run("import", str(tasks), "--project", "copy", "--format", "label_studio")
    assert result.exit_code == 0, result.output
    assert f"{len(exported)} new items" in result.output
    again = run("import", str(tasks), "--project", "copy")  # auto-detected: a list of tasks
    assert "0 new items" in again.output and "0 labels" in again.output

    # Every label comes back with its source, on the same text and group.
    from labelapp.services.export import export_items

    with session_scope(sessions) as session:
        copy = session.scalar(select(Project).where(Project.name == "copy"))
        back, _ = export_items(session, copy)
    key = ["text", "label", "label_source", "group_key"]
    assert sorted(map(tuple, back[key].values.tolist())) == sorted(
        map(tuple, exported[key].values.tolist())
    )
    assert set(back["label_source"]) == {
        "human",
        "adjudicated",
        "majority",
        "import",
        "label_model",
    }

    # Tasks exported from a project come back to their own items there.
    home = run("import", str(tasks), "--project", "psy")
    assert home.exit_code == 0 and f"0 new items, {len(exported)} already there" in home.output


def read_rows_ls(tasks: Path) -> pd.DataFrame:
    from labelapp.export import read_label_studio_json

    return read_label_studio_json(tasks)


def test_label_studio_import_validates_every_task_first(sessions, tmp_path) -> None:
    project_id = make_project(sessions, "ls", ("ham", "spam"))
    tasks = [
        {
            "id": 1,
            "data": {"text": "check my channel"},
            "annotations": [
                {"result": [{"type": "choices", "value": {"choices": ["spam"]}}]},
                {"result": [{"type": "choices", "value": {"choices": ["spam"]}}]},
                {"result": [{"type": "choices", "value": {"choices": ["ham"]}}]},
            ],
        },
        {
            "id": 2,
            "data": {"text": "nice song"},
            "annotations": [{"result": [{"type": "choices", "value": {"choices": ["ham"]}}]}],
            "predictions": [
                {
                    "model_version": "bert",
                    "score": 0.7,
                    "result": [{"type": "choices", "value": {"choices": ["spam"]}}],
                }
            ],
        },
        {"id": 3, "data": {"text": "love it"}},
        {
            "id": 4,
            "data": {"text": "meh"},
            "annotations": [
                {"result": [{"type": "choices", "value": {"choices": ["ham"]}}]},
                {"result": [{"type": "choices", "value": {"choices": ["spam"]}}]},
            ],
        },
    ]
    bad = [
        *tasks,
        {
            "id": 9,
            "data": {"text": "x"},
            "annotations": [{"result": [{"type": "choices", "value": {"choices": ["eggs"]}}]}],
        },
    ]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    result = CliRunner().invoke(main, ["import", str(path), "--project", "ls"])
    assert result.exit_code != 0
    assert "task #5 (id 9): unknown label 'eggs'" in result.output
    assert "nothing was imported" in result.output
    with session_scope(sessions) as session:
        assert session.scalar(select(Item.id).where(Item.project_id == project_id)) is None

    path.write_text(json.dumps(tasks))
    result = CliRunner().invoke(main, ["import", str(path), "--project", "ls"])
    assert result.exit_code == 0, result.output
    assert "4 new items" in result.output
    assert "3 labels from 'bert, human, majority'" in result.output
    assert "1 task(s) had annotations that tie" in result.output
    from labelapp.services.export import export_items

    with session_scope(sessions) as session:
        rows = session.execute(
            select(Item.external_id, Annotation.labels, Annotation.source)
            .join(Annotation, Annotation.item_id == Item.id)
            .order_by(Item.external_id, Annotation.source)
        ).all()
        resolved, _ = export_items(session, session.get(Project, project_id))
    assert [tuple(r) for r in rows] == [
        ("1", ["spam"], "majority"),
        ("2", ["spam"], "bert"),
        ("2", ["ham"], "human"),
    ]
    # The person's annotation beats the model's prediction imported beside it.
    assert sorted(
        zip(resolved["external_id"], resolved["label"], resolved["label_source"], strict=True)
    ) == [("1", "spam", "majority"), ("2", "ham", "human")]


def test_multi_label_project_exports_label_sets(sessions, tmp_path) -> None:
    project_id = make_project(sessions, "tags", ("music", "promo", "question"), multi_label=True)
    texts = [f"comment {i} about the song and my channel" for i in range(12)]
    path = tmp_path / "tags.csv"
    pd.DataFrame({"id": [f"m{i}" for i in range(12)], "text": texts}).to_csv(path, index=False)
    assert run("import", str(path), "--project", "tags").exit_code == 0
    a, b = (make_user(sessions, n, "annotator", (project_id,)) for n in ("a", "b"))
    sets = [["music"], ["music", "promo"], ["question"]]
    with session_scope(sessions) as session:
        ids = session.scalars(
            select(Item.id).where(Item.project_id == project_id).order_by(Item.position)
        ).all()
        for i, item_id in enumerate(ids):
            for user in (a, b):
                given = sets[i % 3] if user is a or i != 11 else ["promo"]
                session.add(
                    Annotation(
                        item_id=item_id,
                        project_id=project_id,
                        user_id=user.id,
                        kind="label",
                        labels=list(reversed(given)),
                    )
                )
    out = tmp_path / "tags"
    result = _export("csv", out, project="tags")
    assert result.exit_code == 0, result.output
    rows = read_rows(out).set_index("external_id")
    assert len(rows) == 11  # m11: a and b disagree, a tie: left out
    assert rows.loc["m1", "label"] == "music|promo" and rows.loc["m1", "label_source"] == "human"
    assert set(rows["label"]) == {"music", "music|promo", "question"}


@pytest.mark.slow
def test_api_export_job_versions_diff_and_roles(spam, client, sessions, monkeypatch) -> None:
    # The POST waits for its export job (up to this long) and answers it finished: 201.
    monkeypatch.setenv("LABELAPP_EXPORT_WAIT_SECONDS", "60")
    project_id = spam["project"]
    sme, annotator = spam["sme"], spam["people"]["a"]
    url = f"/api/projects/{project_id}/exports"
    for method, path in (
        ("post", url),
        ("get", url),
        ("get", f"{url}/1"),
        ("get", f"{url}/diff?old=1&new=1"),
    ):
        assert (
            client.open(
                path, method=method, headers=annotator.headers, json={"format": "csv"}
            ).status_code
            == 403
        )
    for path in (
        f"/projects/{project_id}/export",
        f"/projects/{project_id}/augment",
        f"/projects/{project_id}/export/v1.zip",
    ):
        assert client.get(path, headers=annotator.headers).status_code == 403
    bad = client.post(url, json={"format": "xml"}, headers=sme.headers)
    assert (
        bad.status_code == 400
        and "format: Input should be 'csv'" in bad.get_json()["error"]["message"]
    )

    started = client.post(
        url,
        json={"format": "parquet", "seed": 1, "ratios": [0.7, 0.15, 0.15], "min_confidence": 0.9},
        headers=sme.headers,
    )
    assert started.status_code == 201, started.get_json()
    job = started.get_json()
    assert job["status"] == "done", job
    assert job["result"]["version"] == 1
    listing = client.get(url, headers=sme.headers).get_json()["versions"]
    assert [v["version"] for v in listing] == [1]
    version = listing[0]
    assert version["n_items"] == N_ITEMS - 7
    assert set(version["label_sources"]["dev"]) <= {"human", "adjudicated"}
    assert "out_dir" not in version  # no server paths in answers: a link to download it
    assert version["download_url"] == f"/projects/{project_id}/export/v1.zip"
    with session_scope(sessions) as session:
        assert session.scalar(select(Item.split).where(Item.id == spam["ids"][0])) is not None
    second = client.post(url, json={"format": "csv"}, headers=sme.headers)
    assert wait_for_job(client, second.get_json()["id"], sme.headers)["status"] == "done"
    diff = client.get(f"{url}/diff?old=1&new=2", headers=sme.headers).get_json()
    assert diff["items"]["added"] == [] and diff["items"]["moved"] == []
    assert diff["changed_parameters"] == ["format", "ratios", "seed"]
    zipped = client.get(f"/projects/{project_id}/export/v1.zip", headers=sme.headers)
    assert zipped.status_code == 200 and zipped.mimetype == "application/zip"
    import io
    import zipfile

    names = zipfile.ZipFile(io.BytesIO(zipped.data)).namelist()
    assert "manifest.json" in names and "train.parquet" in names


def test_image_project_exports_a_folder_tree_per_split_and_label(sessions, tmp_path) -> None:
    import shutil

    import skimage

    from labelapp.services.imports import ImportOptions, import_path

    photos = {
        "animal": ("chelsea", "astronaut", "horse", "cat"),
        "thing": ("coffee", "camera", "coins", "moon", "clock_motion", "brick"),
    }
    folder, data = tmp_path / "photos", Path(skimage.__file__).parent / "data"
    for label, names in photos.items():
        (folder / label).mkdir(parents=True)
        for name in names:
            if (data / f"{name}.png").exists():
                shutil.copyfile(data / f"{name}.png", folder / label / f"{name}.png")
    project_id = make_project(sessions, "photos", tuple(photos), task_type="image")
    sme = make_user(sessions, "sme", "sme", (project_id,))
    with session_scope(sessions) as session:
        import_path(
            session, session.get(Project, project_id), folder, ImportOptions(folder_labels=True)
        )
        items = session.execute(
            select(Item.id, Item.external_id).where(Item.project_id == project_id)
        ).all()
        for item_id, external_id in items[::2]:  # half confirmed by a person
            session.add(
                Annotation(
                    item_id=item_id,
                    project_id=project_id,
                    user_id=sme.id,
                    kind="label",
                    labels=[external_id.split("/")[0]],
                )
            )
    out = tmp_path / "tree"
    result = _export("imagefolder", out, "--ratios", "0.5,0.25,0.25", project="photos")
    assert result.exit_code == 0, result.output
    pictures = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.png"))
    assert len(pictures) == len(items)
    for path in pictures:
        split, label, name = path.split("/")
        external = dict((str(i), e) for i, e in items)[name.removesuffix(".png")]
        assert external.startswith(f"{label}/")
    metadata = pd.concat([pd.read_csv(p) for p in out.glob("*/metadata.csv")])
    assert set(metadata.loc[metadata["label_source"] == "folder", "split"]) == {"train"}
    assert {"dev", "test"} <= set(metadata["split"])
    assert set(metadata.loc[metadata["split"] != "train", "label_source"]) == {"human"}
