"""An annotator flags an item from the labeling page with the keyboard; the reviewer sees it on
the project page and resolves it."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.app.factories import add_items, make_project, make_user
from tests.browser.conftest import log_in, shot


def test_flag_with_the_keyboard(browser, live_server, sessions, tmp_path) -> None:
    pid = make_project(sessions, "comments", ("ham", "spam"))
    add_items(sessions, pid, ["great song!!", "check out my channel"], tmp_path)
    ann = make_user(sessions, "ann", "annotator", (pid,))
    sid = make_user(sessions, "sid", "sme", (pid,))

    page = browser.new_context(viewport={"width": 1366, "height": 860}).new_page()
    log_in(page, live_server, ann.username, ann.password)
    page.goto(f"{live_server}/projects/{pid}/label")
    expect(page.locator("#item-body .item-text")).to_have_text("great song!!")
    page.keyboard.press("f")
    form = page.locator("#flag-form")
    expect(form).to_be_visible()
    page.keyboard.press("3")  # offensive
    page.keyboard.press("Tab")
    page.keyboard.type("rude words in the second line")
    shot(page, "flag-form")
    page.keyboard.press("Enter")
    expect(form).to_be_hidden()
    expect(page.locator("#banner")).to_contain_text("Flagged item t0")
    expect(page.locator("#item-ref")).to_contain_text("flagged")
    page.keyboard.press("1")  # the item is still there to label
    expect(page.locator("#item-body .item-text")).to_have_text("check out my channel")
    page.keyboard.press("f")
    page.keyboard.press("Escape")  # cancel: nothing stored
    expect(form).to_be_hidden()
    page.context.close()

    page = browser.new_context(viewport={"width": 1366, "height": 860}).new_page()
    log_in(page, live_server, sid.username, sid.password)
    page.goto(f"{live_server}/projects/{pid}")
    flags = page.locator("#flags")
    expect(flags).to_contain_text("1 open")
    expect(flags).to_contain_text("Offensive content")
    expect(flags).to_contain_text("rude words in the second line")
    shot(page, "flags-on-project-page")
    flags.locator("input[name=resolution]").fill("removed the comment from the data")
    flags.get_by_role("button", name="Resolve").click()
    expect(page.locator("#flags")).to_contain_text("0 open")
    page.context.close()
