"""Roles per project in real Chromium (issue 17): the admin sets a member's role on the project
page; an sme account that only annotates the project sees no review pages there and labels."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.app.factories import add_items, make_project, make_user
from tests.browser.conftest import log_in


def test_admin_sets_a_role_and_the_sme_then_annotates(
    browser, live_server, sessions, tmp_path
) -> None:
    pid = make_project(sessions, "triage", ("bug", "feature"))
    add_items(sessions, pid, ["the app crashes on save", "please add dark mode"], tmp_path)
    root = make_user(sessions, "root", "admin")
    sam = make_user(sessions, "sam", "sme", (pid,))
    make_user(sessions, "kim", "sme")
    context = browser.new_context(viewport={"width": 1366, "height": 860})
    page = context.new_page()
    log_in(page, live_server, root.username, root.password)
    page.goto(f"{live_server}/projects/{pid}#members")
    members = page.locator("#members")
    expect(members.locator("tr[data-member=sam]")).to_have_attribute("data-role", "sme")
    add = members.locator("#add-member")
    add.locator("select[name=username]").select_option("kim")
    add.locator("select[name=role]").select_option("annotator")
    add.get_by_role("button", name="Add member").click()
    expect(page.locator(".flash.info")).to_contain_text("kim is now a member of triage")
    row = page.locator("#members tr[data-member=sam]")
    row.get_by_label("Role of sam in this project").select_option("annotator")
    row.get_by_role("button", name="Set the role of sam").click()
    expect(page.locator(".flash.info")).to_contain_text("sam is now annotator in triage")
    expect(page.locator("#members tr[data-member=sam]")).to_have_attribute("data-role", "annotator")
    expect(page.locator("#members tr[data-member=sam]")).to_contain_text("account: sme")
    page.locator("#members").screenshot(path="/tmp/h_b_members_admin.png")
    context.close()

    context = browser.new_context(viewport={"width": 1366, "height": 860})
    smep = context.new_page()
    log_in(smep, live_server, sam.username, sam.password)
    smep.goto(f"{live_server}/projects/{pid}")
    expect(smep.locator("#my-role")).to_have_text("You are an annotator in this project.")
    for hidden in ("#review-link", "#adjudicate-link", "#export-link", "#lfs-link", "#members"):
        expect(smep.locator(hidden)).to_have_count(0)
    smep.screenshot(path="/tmp/h_b_sme_as_annotator.png", full_page=True)
    assert smep.goto(f"{live_server}/projects/{pid}/review").status == 403
    assert smep.request.get(f"{live_server}/api/projects/{pid}/items").status == 403
    smep.goto(f"{live_server}/projects/{pid}/label")
    expect(smep.locator("#item-body")).to_contain_text("the app crashes on save")
    smep.keyboard.press("1")
    expect(smep.locator("#item-body")).to_contain_text("please add dark mode")
    context.close()
