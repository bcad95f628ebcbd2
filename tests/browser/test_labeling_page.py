"""Annotating with the keyboard only, in real Chromium: label, skip, undo, guidelines."""

from __future__ import annotations

import time

from playwright.sync_api import expect
from sqlalchemy import select

from labelapp.db import session_scope
from labelapp.models import Annotation, Item
from labelapp.services.projects import save_guideline
from tests.app.factories import add_items, make_project, make_user
from tests.browser.conftest import log_in, shot

TEXTS = [
    "Check out my channel for free gift cards!!!",
    "This song reminds me of summer 2014",
    "subscribe to me pls",
    "Best video on youtube, love it",
    "Who is watching in 2026?",
]


def test_label_skip_undo_with_the_keyboard(page, live_server, sessions, tmp_path) -> None:
    project_id = make_project(sessions, "comments", ("ham", "spam"), allow_ambiguous=True)
    add_items(sessions, project_id, TEXTS, tmp_path)
    with session_scope(sessions) as session:
        from labelapp.models import Project

        save_guideline(
            session,
            session.get(Project, project_id),
            "# Spam\n\nSelf-promotion and links are **spam**.<script>alert(1)</script>",
            None,
        )
    alice = make_user(sessions, "alice", "annotator", (project_id,))

    log_in(page, live_server, alice.username, alice.password)
    page.get_by_role("link", name="Label", exact=True).click()
    ref = page.locator("#item-ref")
    expect(ref).to_have_text("Item t0")
    shot(page, "labeling-text")

    page.keyboard.press("2")  # spam
    expect(ref).to_have_text("Item t1")
    page.keyboard.press("1")  # ham
    expect(ref).to_have_text("Item t2")
    expect(page.locator("#done-today")).to_have_text("2")  # catches up after a quick burst
    page.keyboard.press("s")  # skip
    expect(ref).to_have_text("Item t3")
    page.keyboard.press("3")  # ambiguous
    expect(ref).to_have_text("Item t4")
    page.keyboard.press("z")  # undo the ambiguous answer: t3 comes back
    expect(ref).to_have_text("Item t3")
    expect(page.locator("#banner")).to_contain_text("Undone")
    page.keyboard.press("1")
    expect(ref).to_have_text("Item t4")

    page.keyboard.press("g")
    drawer = page.locator("#guidelines")
    expect(drawer).to_be_visible()
    expect(drawer.locator("strong")).to_have_text("spam")
    expect(drawer).to_contain_text("<script>")  # shown as text, never run
    shot(page, "labeling-guidelines")
    page.keyboard.press("Escape")
    expect(drawer).to_be_hidden()

    page.keyboard.press("2")
    expect(page.locator("#done")).to_be_visible()
    expect(page.locator("#saving")).to_have_text("All answers saved")
    expect(page.locator("#done-today")).to_have_text("4")
    shot(page, "labeling-done")

    with session_scope(sessions) as session:
        rows = session.execute(
            select(Item.external_id, Annotation.kind, Annotation.labels, Annotation.duration_ms)
            .join(Item, Item.id == Annotation.item_id)
            .where(Annotation.user_id == alice.id)
            .order_by(Annotation.id)
        ).all()
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("t0", "label", ["spam"]),
        ("t1", "label", ["ham"]),
        ("t2", "skip", []),
        ("t3", "label", ["ambiguous"]),
        ("t3", "retract", ["ambiguous"]),
        ("t3", "label", ["ham"]),
        ("t4", "label", ["spam"]),
    ]
    assert all(r[3] is not None and r[3] >= 0 for r in rows if r[1] != "retract")


def test_multi_label_toggles_and_submits_with_enter(page, live_server, sessions, tmp_path) -> None:
    project_id = make_project(sessions, "topics", ("sports", "music", "tech"), multi_label=True)
    add_items(sessions, project_id, ["A band plays at the stadium", "New phone"], tmp_path)
    bob = make_user(sessions, "bob", "annotator", (project_id,))
    log_in(page, live_server, bob.username, bob.password)
    page.goto(f"{live_server}/projects/{project_id}/label")
    ref = page.locator("#item-ref")
    expect(ref).to_have_text("Item t0")
    page.keyboard.press("1")
    page.keyboard.press("2")
    page.keyboard.press("3")
    page.keyboard.press("3")  # toggled off again
    expect(page.locator(".label-button.selected")).to_have_count(2)
    shot(page, "labeling-multi")
    page.keyboard.press("Enter")
    expect(ref).to_have_text("Item t1")
    with session_scope(sessions) as session:
        labels = session.scalar(select(Annotation.labels).where(Annotation.user_id == bob.id))
    assert labels == ["sports", "music"]


def wait_until_requests_fail(page, path: str, timeout_s: float = 20.0) -> None:
    """Wait until a request from the page to `path` fails: `page.route` has been seen to let a
    request through just after it returned (CI, Chromium), so the test makes sure it holds."""
    probe = "p => fetch(p, {method: 'POST'}).then(() => 'reached', () => 'failed')"
    deadline = time.monotonic() + timeout_s
    while page.evaluate(probe, path) != "failed":
        assert time.monotonic() < deadline, f"requests to {path} still reach the server"
        time.sleep(0.2)


def test_answers_survive_a_dead_server(page, live_server, sessions, tmp_path) -> None:
    """An answer given while the server is unreachable is kept and sent once it is back."""
    project_id = make_project(sessions, "offline", ("ham", "spam"))
    add_items(sessions, project_id, ["one", "two", "three"], tmp_path)
    carol = make_user(sessions, "carol", "annotator", (project_id,))
    log_in(page, live_server, carol.username, carol.password)
    page.goto(f"{live_server}/projects/{project_id}/label")
    expect(page.locator("#item-ref")).to_have_text("Item t0")

    page.route("**/api/items/**", lambda route: route.abort("connectionrefused"))
    wait_until_requests_fail(page, "/api/items/0/probe")
    page.keyboard.press("2")
    # The abort is answered by this test process's route handler: give a loaded CI machine time.
    expect(page.locator("#banner")).to_contain_text("Cannot reach the server", timeout=20_000)
    expect(page.locator("#saving")).to_contain_text("1 answer waiting")
    # The tab is reloaded while the server is still away: the answer waits in local storage.
    page.reload()
    expect(page.locator("#saving")).to_contain_text("1 answer waiting")
    page.unroute("**/api/items/**")
    expect(page.locator("#item-ref")).to_have_text("Item t1", timeout=20_000)
    expect(page.locator("#saving")).to_have_text("All answers saved")
    with session_scope(sessions) as session:
        stored = (
            session.execute(select(Annotation.labels).where(Annotation.user_id == carol.id))
            .scalars()
            .all()
        )
    assert stored == [["spam"]]


def test_a_label_given_while_the_server_restarts_is_kept(
    page, server_control, sessions, tmp_path
) -> None:
    """The server goes down between two items and comes back: the answer given meanwhile is
    stored once, and labeling goes on where it was."""
    project_id = make_project(sessions, "restart", ("ham", "spam"))
    add_items(sessions, project_id, ["one", "two", "three"], tmp_path)
    dan = make_user(sessions, "dan", "annotator", (project_id,))
    base = server_control.url
    log_in(page, base, dan.username, dan.password)
    page.goto(f"{base}/projects/{project_id}/label")
    expect(page.locator("#item-ref")).to_have_text("Item t0")
    page.keyboard.press("1")
    expect(page.locator("#item-ref")).to_have_text("Item t1")

    server_control.stop()
    page.keyboard.press("2")  # answered while the server is down
    expect(page.locator("#saving")).to_contain_text("1 answer waiting")
    expect(page.locator("#banner")).to_contain_text("Cannot reach the server")
    server_control.start()
    expect(page.locator("#item-ref")).to_have_text("Item t2", timeout=20_000)
    expect(page.locator("#saving")).to_have_text("All answers saved")
    with session_scope(sessions) as session:
        stored = session.execute(
            select(Item.external_id, Annotation.labels)
            .join(Item, Item.id == Annotation.item_id)
            .where(Annotation.user_id == dan.id)
            .order_by(Annotation.id)
        ).all()
    assert [(e, list(lab)) for e, lab in stored] == [("t0", ["ham"]), ("t1", ["spam"])]
