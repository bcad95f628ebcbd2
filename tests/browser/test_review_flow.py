"""The review loop in a browser: an annotator flags an item from the labeling page; a reviewer
filters the review list, opens an item with the keyboard, corrects its label with a reason, and
sends a filtered set to adjudication; an admin follows the open flag from the Team page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from labelapp.db import session_scope
from labelapp.models import LabelIssue, LabelIssueRun, Project
from labelapp.services.labels import refresh_item_labels
from tests.app.factories import add_items, add_labels, make_project, make_user
from tests.browser.conftest import log_in, shot

pytestmark = pytest.mark.browser

TEXTS = [
    "check out my channel for free gift cards",
    "this song never gets old",
    "subscribe to me pls",
    "2024 and still listening",
    "visit my site for cheap followers",
    "love the guitar at 2:10",
    "who else is here from the radio",
    "click this link to win an iphone",
]


def test_filter_open_correct_send_and_flag(browser, live_server, sessions, tmp_path) -> None:
    pid = make_project(sessions, "comments", ("ham", "spam"))
    ids = add_items(sessions, pid, TEXTS, tmp_path)
    ann = make_user(sessions, "ann", "annotator", (pid,))
    bob = make_user(sessions, "bob", "annotator", (pid,))
    sid = make_user(sessions, "sid", "sme", (pid,))
    with session_scope(sessions) as session:
        for n, item in enumerate(ids[1:]):  # item 0 stays in ann's queue for the flag
            add_labels(session, pid, ann.id, [item], ["spam" if n % 2 else "ham"])
            add_labels(session, pid, bob.id, [item], ["spam" if "my" in TEXTS[n + 1] else "ham"])
        run = LabelIssueRun(project_id=pid, n_scored=7, n_flagged=2)
        session.add(run)
        session.flush()
        for n, item in enumerate(ids[1:]):
            session.add(
                LabelIssue(
                    run_id=run.id,
                    item_id=item,
                    label="ham",
                    suggested="spam",
                    score=round(0.1 + n / 10, 2),
                    flagged=n > 4,
                    reasons=["out-of-sample probability of 'spam' is high"],
                )
            )
        session.flush()
        # The rows above bypass the services: refresh the resolved-label table as they would.
        refresh_item_labels(session, session.get(Project, pid))

    # The annotator flags the first item from the labeling page.
    page = browser.new_context(viewport={"width": 1366, "height": 860}).new_page()
    log_in(page, live_server, ann.username, ann.password)
    page.goto(f"{live_server}/projects/{pid}/label")
    expect(page.locator("#item-body .item-text")).to_have_text(TEXTS[0])
    page.keyboard.press("f")
    page.keyboard.press("2")  # broken item
    page.keyboard.press("Tab")
    page.keyboard.type("the text is cut off")
    page.keyboard.press("Enter")
    expect(page.locator("#banner")).to_contain_text("Flagged")
    page.context.close()

    page = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    log_in(page, live_server, sid.username, sid.password)
    page.goto(f"{live_server}/projects/{pid}")
    page.locator("#review-link").click()
    expect(page.locator("#total")).to_have_text("8")
    shot(page, "review-list")
    page.check("#f-flagged")
    page.locator("#apply-filters").click()
    expect(page.locator("tr.review-row")).to_have_count(1)
    expect(page.locator("#review-table")).to_contain_text("the text is cut off")
    page.uncheck("#f-flagged")
    page.check("#f-disagreement")
    page.locator("#apply-filters").click()
    rows = page.locator("tr.review-row")
    expect(rows.first).to_contain_text("0.60")  # sorted by issue score, highest first
    n_disagree = rows.count()
    assert 0 < n_disagree < 7
    shot(page, "review-list-disagreement")

    # Open the top item with the keyboard and correct it.
    page.keyboard.press("o")
    expect(page).to_have_url(re.compile(r"/review/items/\d+"))
    expect(page.locator("#history")).to_contain_text("answer")
    page.wait_for_load_state("load")  # the page's keys work once its script has run
    page.keyboard.press("2")  # spam
    expect(page.locator("#correct-labels .label-button[aria-pressed=true]")).to_have_count(1)
    page.keyboard.type("a link to a channel is spam by the guideline")
    page.keyboard.press("Enter")
    expect(page.locator("#current-label")).to_contain_text("corrected")
    expect(page.locator("#history")).to_contain_text("a link to a channel is spam by the guideline")
    shot(page, "review-item")
    page.keyboard.press("Escape")
    expect(page.locator("#f-disagreement")).to_be_checked()  # back to the filtered list

    # Send the filtered set to adjudication.
    page.check("#select-all")
    page.fill("#adjudicate-reason", "annotators disagree on channel links")
    page.locator("#send-adjudication").click()
    expect(page.locator("#banner")).to_contain_text(f"{n_disagree} item(s) sent to adjudication")
    page.goto(f"{live_server}/projects/{pid}/adjudicate")
    expect(page.locator("#item-reason")).to_be_visible()
    page.context.close()

    # The admin's Team page counts the open flag and links to the flagged items.
    boss = make_user(sessions, "boss", "admin")
    page = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    log_in(page, live_server, boss.username, boss.password)
    page.goto(f"{live_server}/admin")
    page.locator('tr[data-project="comments"] td.flags a').click()
    expect(page.locator("tr.review-row")).to_have_count(1)
    expect(page.locator("#f-flagged")).to_be_checked()
    page.context.close()
