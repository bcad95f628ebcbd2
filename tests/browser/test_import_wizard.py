"""The import wizard with a zip of images, in Chromium: thumbnails of the first images, the label
subfolders, a check job and an import job followed by the page's progress bar to the numbers."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.app.factories import make_project, make_user
from tests.app.test_import_jobs import image_zip
from tests.browser.conftest import log_in, shot, wait_until

JOB_WAIT_MS = 90_000  # the first job waits for a worker to start


def test_import_wizard_with_an_image_zip(page, live_server, sessions) -> None:
    pid = make_project(sessions, "digits", ("0", "1"), task_type="image")
    sam = make_user(sessions, "sam", "sme", (pid,))
    log_in(page, live_server, sam.username, sam.password)
    page.goto(f"{live_server}/projects/{pid}")
    page.click("#import-wizard-link")
    page.set_input_files(
        "input[name=file]",
        files=[{"name": "digits.zip", "mimeType": "application/zip", "buffer": image_zip()}],
    )
    page.get_by_role("button", name="Upload and preview").click()
    expect(page.locator("#zip-preview")).to_contain_text("6 images in the zip")
    expect(page.locator("#zip-folders")).to_contain_text("0")
    wait_until(
        page,
        "[...document.querySelectorAll('#thumbs img')].length === 6 && "
        "[...document.querySelectorAll('#thumbs img')]"
        ".every((i) => i.complete && i.naturalWidth === 8)",
    )
    shot(page, "import-wizard-images")
    page.check("#folder_labels")
    page.click("#check-import")
    expect(page.locator("#check-report")).to_contain_text(
        "Every image is fine", timeout=JOB_WAIT_MS
    )
    page.click("#run-import")
    expect(page.locator("#import-result")).to_contain_text(
        "6 images read = 6 new items", timeout=JOB_WAIT_MS
    )
    expect(page.locator("#import-numbers")).to_contain_text("labels (human)")
    shot(page, "import-wizard-images-result")
    page.click("#to-project")
    expect(page.locator("#imports")).to_contain_text("digits.zip")
