"""The labeling page in real Chromium: the empty state, changing earlier answers, progress
counts, and the image viewer (zoom, pan, fit, 1:1, contrast)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import select

from labelapp.db import session_scope
from labelapp.models import Annotation, Item, Project
from labelapp.services.imports import ImportOptions, import_path
from tests.app.factories import add_items, make_project, make_user
from tests.browser.conftest import log_in, shot, wait_until

TEXTS = ["Cool video", "Subscribe to my channel", "nice song", "Check my channel out"]


def _answers(sessions, user_id: int) -> list[tuple[str, str, list[str]]]:
    with session_scope(sessions) as session:
        rows = session.execute(
            select(Item.external_id, Annotation.kind, Annotation.labels)
            .join(Item, Item.id == Annotation.item_id)
            .where(Annotation.user_id == user_id)
            .order_by(Annotation.id)
        ).all()
    return [(e, k, list(v)) for e, k, v in rows]


def test_empty_state_replaces_the_item_on_the_last_item_and_on_a_fresh_load(
    page, live_server, sessions, tmp_path
) -> None:
    project_id = make_project(sessions, "short", ("ham", "spam"), overlap_k=2)
    add_items(sessions, project_id, TEXTS[:2], tmp_path)
    alice = make_user(sessions, "alice", "annotator", (project_id,))
    log_in(page, live_server, alice.username, alice.password)
    page.goto(f"{live_server}/projects/{project_id}/label")
    expect(page.locator("#item-ref")).to_have_text("Item t0")
    expect(page.locator("#left-for-me")).to_have_text("2 items left for you.")
    page.keyboard.press("1")
    expect(page.locator("#item-ref")).to_have_text("Item t1")
    # The counts follow each answer at once.
    expect(page.locator("#done-today")).to_have_text("1")
    expect(page.locator("#left-for-me")).to_have_text("1 item left for you.")
    expect(page.locator("#project-left")).to_contain_text("3 of 4 labels still needed")
    page.keyboard.press("2")  # the last item

    done = page.locator("#done")
    expect(done).to_be_visible()
    for gone in ("#item-card", "#labels", "#skip", "#show-flag"):
        expect(page.locator(gone)).to_be_hidden()
    expect(page.locator("#done-today")).to_have_text("2")
    expect(page.locator("#left-for-me")).to_have_text("Nothing left for you in this queue.")
    # The project's count is told as the project's: labels from other annotators.
    expect(page.locator("#done-project")).to_contain_text(
        "still needs 2 label(s), from other annotators"
    )
    page.keyboard.press("1")  # a label key on the empty state stores nothing
    shot(page, "labeling-empty-after-last")

    page.reload()  # a fresh load with nothing left: the empty state, not "Loading..."
    expect(done).to_be_visible()
    expect(page.locator("#item-card")).to_be_hidden()
    expect(page.locator("#labels")).to_be_hidden()
    expect(page.get_by_text("Loading the next item")).to_be_hidden()
    expect(page.locator("#done-project")).to_contain_text("still needs 2 label(s)")
    expect(page.locator("#left-for-me")).to_have_text("Nothing left for you in this queue.")
    shot(page, "labeling-empty-fresh-load")
    assert _answers(sessions, alice.id) == [("t0", "label", ["ham"]), ("t1", "label", ["spam"])]


def test_change_an_earlier_answer_from_recent_and_from_the_search(
    page, live_server, sessions, tmp_path
) -> None:
    project_id = make_project(sessions, "edits", ("ham", "spam"))
    add_items(sessions, project_id, TEXTS, tmp_path)
    bob = make_user(sessions, "bob", "annotator", (project_id,))
    log_in(page, live_server, bob.username, bob.password)
    page.goto(f"{live_server}/projects/{project_id}/label")
    ref = page.locator("#item-ref")
    expect(ref).to_have_text("Item t0")
    page.keyboard.press("1")  # t0 ham
    expect(ref).to_have_text("Item t1")
    page.keyboard.press("1")  # t1 ham
    expect(ref).to_have_text("Item t2")
    recent = page.locator("#history .answer-row")
    expect(recent).to_have_count(2)
    expect(recent.first).to_contain_text("Subscribe to my channel")

    # Recent: reopen t1 (two items back: no undo of t0's answer needed), change it to spam.
    recent.first.click()
    expect(page.locator("#editing")).to_be_visible()
    expect(page.locator("#editing-was")).to_have_text("ham")
    expect(ref).to_have_text("Item t1")
    expect(page.locator(".label-button.was")).to_have_attribute("data-label", "ham")
    shot(page, "labeling-change-answer")
    page.keyboard.press("2")
    # Back to the item the queue gave (still leased), the change stored and shown.
    expect(ref).to_have_text("Item t2")
    expect(page.locator("#editing")).to_be_hidden()
    expect(page.locator("#banner")).to_contain_text("Changed your answer on item t1 to spam")
    expect(recent.first.locator(".chip")).to_have_text("spam")

    # The earlier-answers view: search, pick t0, change it; Esc would go back unchanged.
    page.keyboard.press("h")
    drawer = page.locator("#answers")
    expect(drawer).to_be_visible()
    expect(page.locator("#answers-total")).to_have_text("(2 answers)")
    page.fill("#answers-q", "cool")
    rows = page.locator("#answers-list .answer-row")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Cool video")
    shot(page, "labeling-earlier-answers")
    rows.first.click()
    expect(drawer).to_be_hidden()
    expect(ref).to_have_text("Item t0")
    page.keyboard.press("Escape")  # changed my mind: nothing stored, back to t2
    expect(ref).to_have_text("Item t2")
    page.keyboard.press("h")
    page.fill("#answers-q", "cool")
    expect(rows).to_have_count(1)
    rows.first.click()
    expect(page.locator("#editing")).to_be_visible()
    expect(ref).to_have_text("Item t0")
    page.keyboard.press("s")  # the answer becomes a skip
    expect(ref).to_have_text("Item t2")
    page.keyboard.press("1")  # and labeling goes on
    expect(ref).to_have_text("Item t3")
    expect(page.locator("#done-total")).to_have_text("2")  # t1 and t2 labeled; t0 now a skip

    assert _answers(sessions, bob.id) == [
        ("t0", "label", ["ham"]),
        ("t1", "label", ["ham"]),
        ("t1", "label", ["spam"]),  # appended, as undo is
        ("t0", "skip", []),
        ("t2", "label", ["ham"]),
    ]


def _image_project(sessions, tmp_path: Path) -> int:
    folder = tmp_path / "shapes"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(3):
        pixels = (rng.random((32, 48)) * 80 + 90).astype(np.uint8)
        pixels[8:24, 10 + 8 * i : 20 + 8 * i] = 20
        Image.fromarray(pixels, mode="L").save(folder / f"shape{i}.png")
    project_id = make_project(sessions, "shapes", ("bar", "blob"), task_type="image")
    with session_scope(sessions) as session:
        import_path(session, session.get(Project, project_id), folder, ImportOptions())
    return project_id


def test_image_zoom_pan_fit_and_contrast(page, live_server, sessions, tmp_path) -> None:
    project_id = _image_project(sessions, tmp_path)
    cara = make_user(sessions, "cara", "annotator", (project_id,))
    log_in(page, live_server, cara.username, cara.password)
    page.goto(f"{live_server}/projects/{project_id}/label")
    img = page.locator(".image-frame img")
    expect(img).to_be_visible()
    wait_until(page, "document.querySelector('.image-frame img').naturalWidth > 0")
    # The importer's technical metadata is not shown to annotators.
    expect(page.locator("#item-meta")).not_to_contain_text("width")
    expect(page.locator("#item-meta")).not_to_contain_text("mode")

    def box() -> dict:
        return img.bounding_box()

    fitted = box()
    frame = page.locator(".image-frame").bounding_box()
    # Fit: the whole 48x32 image fills the frame's width or height.
    assert abs(fitted["width"] - frame["width"]) < 2 or abs(fitted["height"] - frame["height"]) < 2
    expect(page.locator("#zoom-level")).to_contain_text("fit")

    page.keyboard.press("a")  # 1:1
    expect(page.locator("#zoom-level")).to_have_text("100%")
    assert abs(box()["width"] - 48) < 1

    page.keyboard.press("x")  # fit again, then zoom in with the keys and the wheel
    page.keyboard.press("+")
    page.keyboard.press("+")
    zoomed = box()
    assert zoomed["width"] > fitted["width"] * 1.5
    page.mouse.move(frame["x"] + frame["width"] / 2, frame["y"] + frame["height"] / 2)
    page.mouse.wheel(0, -300)
    expect(page.locator("#zoom-level")).not_to_contain_text("fit")
    wait_until(
        page,
        "document.querySelector('.image-frame img').getBoundingClientRect().width"
        f" > {zoomed['width'] + 1}",
    )

    before = box()
    page.keyboard.press("ArrowRight")  # pan: the image moves left under the frame
    after = box()
    assert after["x"] < before["x"]
    page.mouse.move(frame["x"] + 100, frame["y"] + 100)
    page.mouse.down()
    page.mouse.move(frame["x"] + 160, frame["y"] + 130)
    page.mouse.up()
    dragged = box()
    assert dragged["x"] > after["x"]

    page.keyboard.press("c")  # contrast 150%
    expect(page.locator("#contrast-value")).to_have_text("150%")
    assert "contrast(150%)" in img.evaluate("i => i.style.filter")
    shot(page, "labeling-image-zoomed")
    page.keyboard.press("x")
    expect(page.locator("#zoom-level")).to_contain_text("fit")

    # The answer goes in as usual; Recent shows a thumbnail of the image.
    page.keyboard.press("1")
    thumb = page.locator("#history .answer-row img.thumb")
    expect(thumb).to_have_count(1)
    wait_until(page, "document.querySelector('#history img.thumb').naturalWidth > 0")
    shot(page, "labeling-image-recent")
