"""Exporting and previewing augmentation in real Chromium: an SME exports a project twice, sees
the versions and their differences; the preview shows augmented copies of the project's images."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import skimage
from playwright.sync_api import expect
from sqlalchemy import select

from labelapp.db import session_scope
from labelapp.models import Annotation, Item, Project
from labelapp.services.imports import ImportOptions, import_path
from tests.app.factories import labeled_project, make_project, make_user
from tests.app.youtube import demo_comments
from tests.browser.conftest import log_in, shot

PHOTOS = {"animal": ("chelsea", "horse", "astronaut"), "thing": ("coffee", "camera", "coins")}


def _text_project(sessions, tmp_path) -> tuple[int, list[int], list[str], object]:
    """40 real comments, each labeled by one annotator with its true class."""
    texts, truth = demo_comments(40)
    project_id, ids, ann = labeled_project(sessions, tmp_path, "comments", texts, truth)
    return project_id, ids, truth, ann


def test_sme_exports_twice_and_compares_versions(page, live_server, sessions, tmp_path) -> None:
    project_id, ids, truth, _ = _text_project(sessions, tmp_path)
    sme = make_user(sessions, "sid", "sme", (project_id,))
    log_in(page, live_server, sme.username, sme.password)
    page.goto(f"{live_server}/projects/{project_id}")
    page.locator("#export-link").click()
    expect(page.locator("h1")).to_have_text("Export")
    expect(page.locator("#format option")).to_have_count(5)  # no image folders for texts
    page.select_option("#format", "csv")
    page.fill("#ratios", "0.6,0.2,0.2")
    page.fill("#seed", "7")
    page.locator("#export-button").click()
    expect(page.locator("#job-result")).to_contain_text("Version 1 is ready", timeout=60_000)
    row = page.locator("#version-1")
    expect(row).to_contain_text("40")
    with session_scope(sessions) as session:  # the splits stored on the items, shown per split
        stored = pd.Series(session.scalars(select(Item.split).where(Item.id.in_(ids))).all())
    assert stored.notna().all() and 6 <= (stored == "dev").sum() <= 10
    for split, n in stored.value_counts().items():
        expect(row.locator(f".chip.split-{split}")).to_have_text(f"{split} {n}")
    expect(row.locator(".chip.source-human")).to_contain_text("human 40")
    row.locator("xpath=following-sibling::tr[1]//summary").click()
    expect(page.locator(".counts-table").first).to_contain_text("spam")
    shot(page, "export-first-version")

    # An SME overrules one label; the second export (Parquet, another seed) keeps the splits.
    flipped = {"spam": "ham", "ham": "spam"}[truth[0]]
    with session_scope(sessions) as session:
        session.add(
            Annotation(
                item_id=ids[0],
                project_id=project_id,
                user_id=sme.id,
                kind="adjudicate",
                labels=[flipped],
                source="adjudication",
            )
        )
    page.select_option("#format", "parquet")
    page.fill("#seed", "8")
    page.locator("#export-button").click()
    expect(page.locator("#job-result")).to_contain_text("Version 2 is ready", timeout=60_000)
    expect(page.locator("#version-table > tbody > tr:not(.detail)")).to_have_count(2)
    page.select_option("#old", "1")
    page.select_option("#new", "2")
    page.locator("#compare-button").click()
    expect(page.locator("#diff-relabeled")).to_have_text("1")
    expect(page.locator("#diff-moved")).to_have_text("0")
    expect(page.locator("#diff-added")).to_have_text("0")
    expect(page.locator("#relabeled-table")).to_contain_text(f"{truth[0]} (human)")
    expect(page.locator("#relabeled-table")).to_contain_text(f"{flipped} (adjudicated)")
    shot(page, "export-compare")

    # The download is the version's folder as a zip.
    with page.expect_download() as download:
        page.locator("#version-2 a.button").click()
    assert download.value.suggested_filename == "comments-v2.zip"


def test_text_augmentation_preview(page, live_server, sessions, tmp_path) -> None:
    project_id, *_ = _text_project(sessions, tmp_path)
    sme = make_user(sessions, "sid", "sme", (project_id,))
    log_in(page, live_server, sme.username, sme.password)
    page.goto(f"{live_server}/projects/{project_id}")
    page.locator("#augment-preview-link").click()
    page.fill("#swap-prob", "0.3")
    page.fill("#preview-copies", "3")
    page.locator("#preview-button").click()
    rows = page.locator("#text-samples tbody tr")
    expect(rows).to_have_count(6)
    expect(rows.first.locator(".aug-copies li")).to_have_count(3)
    expect(page.locator("#text-samples")).to_contain_text("swap")
    shot(page, "augment-preview-text")


def test_image_augmentation_preview(page, live_server, sessions, tmp_path) -> None:
    folder = tmp_path / "photos"
    data = Path(skimage.__file__).parent / "data"
    for label, names in PHOTOS.items():
        (folder / label).mkdir(parents=True)
        for name in names:
            shutil.copyfile(data / f"{name}.png", folder / label / f"{name}.png")
    project_id = make_project(sessions, "photos", tuple(PHOTOS), task_type="image")
    with session_scope(sessions) as session:
        import_path(
            session, session.get(Project, project_id), folder, ImportOptions(folder_labels=True)
        )
        n_images = len(session.scalars(select(Item.id).where(Item.project_id == project_id)).all())
    assert n_images == 6
    sme = make_user(sessions, "sid", "sme", (project_id,))
    log_in(page, live_server, sme.username, sme.password)
    # Each preview runs the augment library in a child process, never in the web process: it
    # imports albumentations (seconds on a busy machine), so navigations get time for it.
    page.goto(
        f"{live_server}/projects/{project_id}/augment?pipeline=typical&copies=3&seed=1",
        timeout=60_000,
    )
    tiles = page.locator(".aug-tile img")
    expect(page.locator(".aug-row")).to_have_count(6, timeout=30_000)
    # The horse is an RGBA PNG: it is read as RGB, so colour transforms take it like the rest.
    expect(page.locator(".aug-error")).to_have_count(0)
    expect(tiles).to_have_count(6 * 4)
    expect(page.locator(".aug-tile.original")).to_have_count(6)
    loaded = page.evaluate(
        "Array.from(document.querySelectorAll('.aug-tile img')).every(i => i.naturalWidth > 0)"
    )
    assert loaded
    expect(page.locator(".aug-tile figcaption").nth(1)).to_contain_text("copy 0")
    shot(page, "augment-preview-images")
    # The same seed gives the same copies; a broken plan says what is wrong.
    first = tiles.nth(1).get_attribute("src")
    page.reload(timeout=60_000)
    assert page.locator(".aug-tile img").nth(1).get_attribute("src") == first
    # A custom plan with a colour transform runs on every image, the RGBA horse included;
    # broken JSON says what is wrong.
    page.select_option("#pipeline", "custom")
    page.fill(
        "#spec",
        json.dumps(
            {
                "__version__": "2.0.8",
                "transform": {
                    "__class_fullname__": "Compose",
                    "p": 1.0,
                    "transforms": [
                        {"__class_fullname__": "HueSaturationValue", "p": 1.0},
                        {"__class_fullname__": "HorizontalFlip", "p": 1.0},
                    ],
                },
            }
        ),
    )
    page.locator("#preview-button").click(timeout=60_000)
    expect(page.locator(".aug-tile figcaption").nth(1)).to_contain_text(
        "HueSaturationValue, HorizontalFlip", timeout=30_000
    )
    expect(page.locator(".aug-error")).to_have_count(0)
    expect(page.locator(".aug-tile img")).to_have_count(6 * 4)
    shot(page, "augment-preview-custom")
    page.fill("#spec", '{"transform": ')
    page.locator("#preview-button").click(timeout=60_000)
    expect(page.locator("#preview-error")).to_contain_text("not valid JSON")
