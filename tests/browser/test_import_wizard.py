"""The import wizard with a zip of images, in Chromium: thumbnails of the first images, the label
subfolders, a check job and an import job followed by the page's progress bar to the numbers;
then a zip of images unlike the first (another mode, far larger), refused by the check under
strict (the default) and accepted under evolve as the schema's next version."""

from __future__ import annotations

import io
import zipfile

from playwright.sync_api import expect

from tests.app.factories import make_project, make_user
from tests.app.test_import_jobs import image_zip
from tests.browser.conftest import log_in, shot, wait_until

JOB_WAIT_MS = 90_000  # the first job waits for a worker to start


def photo_zip() -> bytes:
    """photos/0/*.png and photos/1/*.png: RGB and 64 pixels square, unlike the 8-pixel gray
    digits of image_zip()."""
    from PIL import Image

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for label in ("0", "1"):
            png = io.BytesIO()
            Image.new("RGB", (64, 64), (200, 40 + 100 * int(label), 90)).save(png, format="PNG")
            zf.writestr(f"photos/{label}/photo-{label}.png", png.getvalue())
    return out.getvalue()


def _upload_zip(page, name: str, content: bytes) -> None:
    """Step 1 of the wizard on its page: choose the zip and upload it."""
    page.set_input_files(
        "input[name=file]",
        files=[{"name": name, "mimeType": "application/zip", "buffer": content}],
    )
    page.get_by_role("button", name="Upload and preview").click()


def test_import_wizard_with_an_image_zip(page, live_server, sessions) -> None:
    pid = make_project(sessions, "digits", ("0", "1"), task_type="image")
    sam = make_user(sessions, "sam", "sme", (pid,))
    log_in(page, live_server, sam.username, sam.password)
    page.goto(f"{live_server}/projects/{pid}")
    page.click("#import-wizard-link")
    _upload_zip(page, "digits.zip", image_zip())
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
    _import_a_mismatched_zip(page)


def _import_a_mismatched_zip(page) -> None:
    """From the project page: a zip unlike the schema inferred from the digits, refused under
    strict with each property's problem, then checked and imported under evolve."""
    page.click("#import-wizard-link")
    _upload_zip(page, "photos.zip", photo_zip())
    expect(page.locator("#zip-preview")).to_contain_text("2 images in the zip")
    expect(page.locator("#schema")).to_have_value("strict")
    page.check("#folder_labels")
    page.click("#check-import")
    problems = page.locator("#check-problems")
    expect(problems).to_contain_text("against the project's schema", timeout=JOB_WAIT_MS)
    expect(problems).to_contain_text("refused: 2 image(s) of a mode the schema has not seen")
    expect(problems).to_contain_text("image(s) of a width outside")
    expect(page.locator("#check-report")).to_have_count(0)
    shot(page, "import-wizard-images-schema-refused")
    page.click("#choose-evolve")
    expect(page.locator("#schema")).to_have_value("evolve")
    expect(page.locator("#folder_labels")).to_be_checked()
    shot(page, "import-wizard-images-schema-choice")
    page.click("#check-import")
    report = page.locator("#check-report")
    expect(report).to_contain_text("schema: evolved from version 1 to 2", timeout=JOB_WAIT_MS)
    expect(report).to_contain_text("image_mode: 2 image(s) of a mode the schema has not seen")
    expect(page.locator("#run-import")).to_be_enabled()
    shot(page, "import-wizard-images-schema-check")
    page.click("#run-import")
    result = page.locator("#import-result")
    expect(result).to_contain_text("2 images read = 2 new items", timeout=JOB_WAIT_MS)
    expect(result).to_contain_text("schema: evolved from version 1 to 2")
    page.click("#to-project")
    expect(page.locator("#imports")).to_contain_text("photos.zip")
