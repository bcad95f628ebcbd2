"""Running a team in real Chromium (issue 17): an admin creates a project and a user, adds the
user as a member, deactivates them; an sme edits the label set; an annotator never sees the admin
pages or the columns that hold answers; everyone has a profile."""

from __future__ import annotations

import io
import re

from playwright.sync_api import expect

from tests.app.factories import make_project, make_user
from tests.browser.conftest import log_in, shot


def _context(browser):
    return browser.new_context(viewport={"width": 1366, "height": 860}).new_page()


def test_admin_creates_project_and_user_then_deactivates(browser, live_server, sessions) -> None:
    root = make_user(sessions, "root", "admin")
    page = _context(browser)
    log_in(page, live_server, root.username, root.password)
    page.click("#full-new-project")
    page.fill("input[name=name]", "support tickets")
    page.fill("textarea[name=labels]", "billing = b\nbug = u\nfeature = f")
    page.check("input[name=allow_ambiguous]")
    page.fill("input[name=overlap_k]", "2")
    page.fill("textarea[name=guidelines]", "# Rules\nA crash is a **bug**.")
    shot(page, "admin-new-project")
    page.get_by_role("button", name="Create project").click()
    expect(page.locator("h1")).to_have_text("support tickets")
    chips = page.locator(".card").filter(has_text="Labels").first
    expect(chips).to_contain_text("b billing")
    expect(page.locator("#labels-table")).to_contain_text("ambiguous")

    page.click("#nav-users")
    form = page.locator("#new-user")
    form.locator("input[name=username]").fill("dana")
    form.locator("select[name=role]").select_option("annotator")
    form.get_by_label("support tickets").check()
    form.get_by_role("button", name="Create user").click()
    password = page.locator("#shown-password").inner_text()
    expect(page.locator("#shown-token")).to_be_visible()
    shot(page, "admin-users-credentials")
    expect(page.locator("tr[data-user=dana]")).to_contain_text("support tickets")

    dana = _context(browser)
    log_in(dana, live_server, "dana", password)
    expect(dana.locator("table.grid")).to_contain_text("support tickets")
    expect(dana.locator("#nav-users")).to_have_count(0)

    page.locator("tr[data-user=dana] button[data-action=deactivate]").click()
    expect(page.locator(".flash.info")).to_contain_text("deactivated")
    expect(page.locator("tr[data-user=dana]")).to_contain_text("deactivated")
    shot(page, "admin-users")
    dana.reload()
    expect(dana).to_have_url(re.compile(r"/login"))  # logged out at once
    # The last admin stays.
    page.locator("tr[data-user=root] button[data-action=deactivate]").click()
    expect(page.locator(".flash.error")).to_contain_text("last active admin")
    page.click("#nav-admin")
    expect(page.locator("#admin-projects")).to_contain_text("support tickets")
    shot(page, "admin-team-overview")
    page.context.close()
    dana.context.close()


def test_members_label_set_columns_archive_and_delete(
    browser, live_server, sessions, tmp_path
) -> None:
    pid = make_project(sessions, "reviews", ("positive", "negative", "meh"))
    root = make_user(sessions, "root", "admin")
    sam = make_user(sessions, "sam", "sme", (pid,))
    ann = make_user(sessions, "ann", "annotator")
    csv = tmp_path / "reviews.csv"
    csv.write_text(
        "id,text,sentiment,mood,author\nr1,loved it,positive,negative,kim\n"
        "r2,awful,negative,positive,lee\n"
    )
    from labelapp.db import session_scope
    from labelapp.models import Project
    from labelapp.services.imports import import_path

    with session_scope(sessions) as session:
        import_path(session, session.get(Project, pid), csv)

    page = _context(browser)
    log_in(page, live_server, root.username, root.password)
    page.goto(f"{live_server}/projects/{pid}")
    members = page.locator("#members")
    members.locator("select[name=username]").select_option("ann")
    members.get_by_role("button", name="Add member").click()
    expect(page.locator("#members-table")).to_contain_text("ann")
    expect(page.locator("#columns-table tr[data-column=sentiment]")).to_contain_text(
        "looks like a label"
    )
    shot(page, "project-team-sections")
    page.context.close()

    # The annotator labels without seeing sentiment or mood (values that are labels).
    annp = _context(browser)
    log_in(annp, live_server, ann.username, ann.password)
    expect(annp.locator("#nav-admin")).to_have_count(0)
    annp.goto(f"{live_server}/projects/{pid}/label")
    expect(annp.locator("#item-body")).to_contain_text("loved it")
    expect(annp.locator("#item-meta")).to_contain_text("kim")
    expect(annp.locator("#item-meta")).not_to_contain_text("sentiment")
    expect(annp.locator("#item-meta")).not_to_contain_text("mood")
    shot(annp, "annotator-labeling-hidden-columns")
    annp.keyboard.press("3")  # "meh": the merge below rewrites this answer
    expect(annp.locator("#item-body")).to_contain_text("awful")
    for path in ("/admin", "/admin/users", f"/projects/{pid}/import-wizard"):
        response = annp.goto(f"{live_server}{path}")
        assert response.status == 403, path
    annp.goto(f"{live_server}/projects/{pid}")
    expect(annp.locator("#members")).to_have_count(0)
    expect(annp.locator("#label-set")).to_have_count(0)
    api = annp.request.get(f"{live_server}/api/projects/{pid}/columns")
    assert api.status == 403

    # The sme renames, retires and merges labels from the project page.
    smep = _context(browser)
    log_in(smep, live_server, sam.username, sam.password)
    smep.goto(f"{live_server}/projects/{pid}#label-set")
    expect(smep.locator("#members-table")).to_contain_text("ann")
    expect(smep.locator("#members-table button")).to_have_count(0)  # only admins manage here
    rename = smep.locator("#rename-label")
    rename.locator("select[name=old]").select_option("positive")
    rename.locator("input[name=new]").fill("good")
    rename.get_by_role("button", name="Rename").click()
    expect(smep.locator(".flash.info")).to_contain_text("Renamed 'positive' to 'good'")
    merge = smep.locator("#merge-labels")
    merge.locator("select[name=source]").select_option("meh")
    merge.locator("select[name=target]").select_option("negative")
    merge.get_by_role("button", name="Preview merge…").click()
    expect(smep.locator("#merge-count")).to_have_text("1")
    shot(smep, "label-merge-preview")
    smep.click("#confirm-merge")
    expect(smep.locator("tr[data-label=meh]")).to_contain_text("retired")
    expect(smep.locator("tr[data-label=negative]")).to_contain_text("1")  # the answer moved
    row = smep.locator("tr[data-label=negative]")
    row.locator("button[data-move=up]").click()
    smep.locator("tr[data-label=negative] input.hotkey").fill("n")
    smep.click("#save-order")
    expect(smep.locator("#labels-table tbody tr").first).to_have_attribute("data-label", "negative")
    smep.locator("details.history summary").click()
    expect(smep.locator("#label-history")).to_contain_text("renamed “positive” to “good”")
    shot(smep, "project-label-set")
    # Columns: show the mood column to annotators.
    smep.locator("#columns-table input[value=mood]").check()
    smep.get_by_role("button", name="Show annotators the ticked columns").click()
    expect(smep.locator(".flash.info")).to_contain_text("Annotators now see author, mood")
    smep.context.close()

    annp.goto(f"{live_server}/projects/{pid}/label")
    expect(annp.locator("#item-meta")).to_contain_text("mood")
    expect(annp.locator("#labels")).not_to_contain_text("meh")
    annp.context.close()

    # The admin archives (the annotator loses the project), unarchives, then deletes it.
    page = _context(browser)
    log_in(page, live_server, root.username, root.password)
    page.goto(f"{live_server}/projects/{pid}#lifecycle")
    page.click("#archive")
    expect(page.locator("#archived-banner")).to_be_visible()
    shot(page, "project-archived")
    other = _context(browser)
    log_in(other, live_server, ann.username, ann.password)
    expect(other.locator("body")).not_to_contain_text("reviews")
    assert other.goto(f"{live_server}/projects/{pid}").status == 404
    other.context.close()
    page.click("#unarchive")
    page.fill("#delete-form input[name=confirm]", "review")
    page.click("#delete-project")
    expect(page.locator(".flash.error")).to_contain_text("type the project's name")
    page.fill("#delete-form input[name=confirm]", "reviews")
    page.click("#delete-project")
    expect(page.locator(".flash.info")).to_contain_text("Deleted reviews: 2 items")
    page.context.close()


JOB_WAIT_MS = 90_000  # a check or an import is a job: the first one waits for a worker to start


def test_import_wizard_and_profile(browser, live_server, sessions, tmp_path) -> None:
    pid = make_project(sessions, "comments", ("ham", "spam"))
    sam = make_user(sessions, "sam", "sme", (pid,))
    page = _context(browser)
    log_in(page, live_server, sam.username, sam.password)
    page.goto(f"{live_server}/projects/{pid}")
    page.click("#import-wizard-link")
    data = (
        "id,text,label,author\nc1,nice song,ham,a\nc2,visit my channel,spam,b\n"
        "c2,visit my channel,spam,b\nc3,hello,eggs,c\n"
    )
    page.set_input_files(
        "input[name=file]",
        files=[
            {
                "name": "comments.csv",
                "mimeType": "text/csv",
                "buffer": io.BytesIO(data.encode()).getvalue(),
            }
        ],
    )
    page.get_by_role("button", name="Upload and preview").click()
    expect(page.locator("#preview-table")).to_contain_text("visit my channel")
    expect(page.locator("#label-like-hint")).to_contain_text("label")
    page.select_option("#label_col", "label")
    page.click("#check-import")  # a job: its page follows it, then shows each problem
    expect(page.locator("#import-job .progress")).to_be_visible()
    expect(page.locator("#check-problems")).to_contain_text("eggs", timeout=JOB_WAIT_MS)
    shot(page, "import-wizard-problems")
    page.click("#choose-again")  # back to the columns, as chosen
    expect(page.locator("#label_col")).to_have_value("label")
    page.select_option("#label_col", "")
    page.click("#check-import")
    expect(page.locator("#check-report")).to_contain_text("rows read", timeout=JOB_WAIT_MS)
    shot(page, "import-wizard-check")
    page.click("#run-import")
    result = page.locator("#import-result")
    expect(result).to_contain_text("4 rows read = 3 new items", timeout=JOB_WAIT_MS)
    expect(page.locator("#job-status")).to_have_text("done")
    assert page.eval_on_selector("#job-bar", "el => el.style.width") == "100%"
    shot(page, "import-wizard-result")
    page.click("#to-project")
    expect(page.locator("#imports")).to_contain_text("comments.csv")
    expect(page.locator("#count-items")).to_contain_text("3")
    expect(page.locator("#count-to-label")).to_contain_text("3")

    page.click("#nav-profile")
    page.check("#token-form input[name=confirm]")
    page.get_by_role("button", name="Make a new token").click()
    token = page.locator("#shown-token").inner_text()
    assert len(token) > 30
    shot(page, "profile")
    assert (
        page.request.get(
            f"{live_server}/api/me", headers={"Authorization": f"Bearer {token}"}
        ).status
        == 200
    )
    assert (
        page.request.get(
            f"{live_server}/api/me", headers={"Authorization": f"Bearer {sam.token}"}
        ).status
        == 401
    )
    page.context.close()
