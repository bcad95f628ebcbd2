"""The augmentation preview in real Chromium: each shipped pipeline says what it does, and the
preview warns when a transform may change the label (flips, for a digits project)."""

from __future__ import annotations

import numpy as np
from PIL import Image
from playwright.sync_api import expect

from labelapp.db import session_scope
from labelapp.models import Project
from labelapp.services.imports import ImportOptions, import_path
from tests.app.factories import make_project, make_user
from tests.browser.conftest import log_in, shot


def test_preview_describes_the_pipeline_and_warns_about_flips(
    page, live_server, sessions, tmp_path
) -> None:
    folder = tmp_path / "digits"
    folder.mkdir()
    for i in range(4):
        pixels = np.full((48, 48), 255, dtype=np.uint8)
        pixels[8:40, 14 + 3 * i : 20 + 3 * i] = 0  # a "1", a little further right each time
        pixels[8:14, 10 + 3 * i : 20 + 3 * i] = 0
        Image.fromarray(pixels, mode="L").save(folder / f"d{i}.png")
    project_id = make_project(sessions, "digit-shapes", ("1", "7"), task_type="image")
    with session_scope(sessions) as session:
        import_path(session, session.get(Project, project_id), folder, ImportOptions())
    admin = make_user(sessions, "ada", "admin", (project_id,))
    log_in(page, live_server, admin.username, admin.password)
    page.goto(
        f"{live_server}/projects/{project_id}/augment?pipeline=light&copies=2&seed=3",
        timeout=60_000,
    )

    # Shipped pipelines say what they are for in the menu and on the page.
    expect(page.locator("#pipeline option[value=light]")).to_contain_text(
        "for photos whose class does not depend on left and right"
    )
    expect(page.locator("#pipeline-description")).to_contain_text("Not for digits")
    expect(page.locator("#pipeline-steps li").first).to_have_text(
        "HorizontalFlip: mirrors the image left to right (50% of the copies)."
    )
    # Flips keep labels (the default): nothing to warn about in "light".
    expect(page.locator("#label-warnings")).to_have_count(0)
    expect(page.locator("#flips-setting-text")).to_contain_text("horizontal flips keep its labels")

    # A digits project: flips change labels. The preview warns and leaves them out.
    page.locator("#flips-keep-label").uncheck()
    page.locator("#save-flips").click(timeout=60_000)
    expect(page.locator(".flash.info")).to_contain_text("exports leave them out")
    warnings = page.locator("#label-warnings")
    expect(warnings).to_be_visible()
    expect(warnings).to_contain_text("HorizontalFlip")
    expect(warnings).to_contain_text("left out of exports and this preview")
    expect(page.locator(".aug-row")).to_have_count(4, timeout=30_000)
    captions = page.locator(".aug-tile:not(.original) figcaption").all_inner_texts()
    assert captions and not any("HorizontalFlip" in c for c in captions), captions
    expect(page.locator("#flips-keep-label")).not_to_be_checked()
    shot(page, "augment-preview-flip-warning")

    # "typical" also warns that its dropout may hide small digits' strokes.
    page.select_option("#pipeline", "typical")
    page.locator("#preview-button").click(timeout=60_000)
    expect(page.locator("#label-warnings")).to_contain_text("CoarseDropout", timeout=30_000)
    with session_scope(sessions) as session:
        assert session.get(Project, project_id).flips_keep_label is False
