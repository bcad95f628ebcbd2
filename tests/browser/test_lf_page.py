"""The labeling-functions page in real Chromium: an SME writes a keyword LF, previews its hits and
numbers, saves it, and runs the pipeline job; the analysis table shows it; then the end model is
trained and its run shows with its held-out scores."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from labelapp.db import session_scope
from labelapp.models import LabelModelRun
from tests.app.factories import make_user
from tests.browser.conftest import labeled_comments_project, log_in, shot


def test_sme_writes_previews_saves_and_applies_a_keyword_lf(
    page, live_server, sessions, tmp_path
) -> None:
    project_id, texts, truth = labeled_comments_project(sessions, tmp_path)
    hits = [i for i, t in enumerate(texts) if "check" in t.lower()]
    labeled = [i for i in hits if i < 30]
    correct = sum(truth[i] == "spam" for i in labeled)

    sme = make_user(sessions, "sid", "sme", (project_id,))
    log_in(page, live_server, sme.username, sme.password)
    page.goto(f"{live_server}/projects/{project_id}")
    page.locator("#lfs-link").click()
    expect(page.locator("h1")).to_have_text("Labeling functions")
    expect(page.locator("#no-lfs")).to_be_visible()
    expect(page.locator("#lf-pattern")).to_be_hidden()  # keyword is the default kind

    page.fill("#lf-name", "kw_check")
    page.select_option("#lf-label", "spam")
    page.fill("#lf-keywords", "check")
    page.locator("#preview-button").click()
    expect(page.locator("#preview-hits")).to_have_text(str(len(hits)))
    expect(page.locator("#preview-coverage")).to_have_text(f"{100 * len(hits) / 60:.1f}%")
    # accuracy on fewer than 20 labeled hits: shown in brackets with its count, not as a headline
    expect(page.locator("#preview-accuracy")).to_have_text(f"({100 * correct / len(labeled):.1f}%)")
    expect(page.locator("#preview-accuracy-note")).to_contain_text(
        f"on {len(labeled)} hits with a human label, 95% interval"
    )
    expect(page.locator("#preview-accuracy-note")).to_contain_text("too few to rely on")
    expect(page.locator("#preview-table mark").first).to_have_text("check", ignore_case=True)
    expect(page.locator("#preview-table tbody tr")).to_have_count(min(20, len(hits)))
    expect(page.locator("#preview-table tbody tr").first).to_contain_text(f"t{hits[0]}")
    shot(page, "lf_page_preview")

    page.select_option("#lf-kind", "regex")  # a bad pattern is refused with the reason
    page.fill("#lf-pattern", "(check")
    page.locator("#preview-button").click()
    expect(page.locator("#lf-message")).to_contain_text("invalid pattern '(check'")
    page.select_option("#lf-kind", "keyword")

    page.locator("#save-button").click()
    expect(page.locator("#lf-kw_check")).to_be_visible()
    expect(page.locator("#lf-kw_check")).to_contain_text("not applied")

    page.locator("#run-pipeline").click()
    expect(page.locator("#prob-counts")).to_contain_text(f"label_model {len(hits)}", timeout=90_000)
    row = page.locator("#lf-kw_check")
    # The LF analysis of the new votes is a job too: the page reloads when it is done.
    expect(row.locator(".cov .rate")).to_have_text(f"{100 * len(hits) / 60:.1f}%", timeout=90_000)
    expect(row.locator(".cov")).to_contain_text("n=60")
    expect(row.locator(".acc .rate")).to_have_text(f"{100 * correct / len(labeled):.1f}%")
    expect(row.locator(".acc")).to_contain_text(f"n={len(labeled)}, too few to rely on")
    expect(page.locator("#lf-chart")).to_be_visible()
    expect(page.locator("#ws-job-status")).to_have_text("done")
    shot(page, "lf_page_applied")
    expect(page.locator("#apply-run")).to_contain_text("applied on pandas (in process)")
    # "Run all" tried the end model too: one LF voting one class gives it nothing to learn
    expect(page.locator("#end-model-skipped")).to_contain_text("single class")
    expect(page.locator("#end-model-run")).to_contain_text("Not trained yet")

    page.fill("#lf-name", "kw_song")  # a second LF, voting ham, then the pipeline again
    page.select_option("#lf-label", "ham")
    page.fill("#lf-keywords", "song, love")
    page.locator("#save-button").click()
    expect(page.locator("#lf-kw_song")).to_contain_text("not applied")
    page.locator("#run-pipeline").click()
    expect(page.locator("#lf-kw_song")).not_to_contain_text("not applied", timeout=90_000)
    expect(page.locator("#ws-job-status")).to_have_text("done")

    page.locator("#run-train").click()
    expect(page.locator("#end-model-table")).to_be_visible(timeout=90_000)
    with session_scope(sessions) as session:
        run = session.scalar(select(LabelModelRun).where(LabelModelRun.kind == "end_model"))
        metrics = dict(run.metrics)
    cells = page.locator("#end-model-table tbody tr").first.locator("td")
    expect(cells.nth(1)).to_have_text(str(metrics["n_evaluated"]))
    expect(cells.nth(2)).to_contain_text(f"{metrics['accuracy']}% (95% interval")
    expect(cells.nth(3)).to_have_text(f"{metrics['f1_macro']}%")
    assert metrics["n_evaluated"] == 30 and metrics["n_items"] == 60
    expect(page.locator("#prob-counts")).to_contain_text("model 60")
    expect(page.locator("#ws-job-kind")).to_have_text("ws_train")
    shot(page, "lf_page_end_model")


def test_sme_renames_switches_off_and_on_and_deletes_an_lf(
    page, live_server, sessions, tmp_path
) -> None:
    """The row buttons call the API at the URLs the page gives them (url_for), each then
    showing its effect after the reload."""
    project_id, _, _ = labeled_comments_project(sessions, tmp_path)
    sme = make_user(sessions, "sid", "sme", (project_id,))
    log_in(page, live_server, sme.username, sme.password)
    page.goto(f"{live_server}/projects/{project_id}/lfs")
    page.fill("#lf-name", "kw_check")
    page.select_option("#lf-label", "spam")
    page.fill("#lf-keywords", "check")
    page.locator("#save-button").click()
    expect(page.locator("#lf-kw_check")).to_be_visible()

    page.once("dialog", lambda dialog: dialog.accept("kw_look"))  # the new name, asked for
    page.locator("#lf-kw_check .lf-rename").click()
    expect(page.locator("#lf-table #lf-kw_look")).to_be_visible()
    expect(page.locator("#lf-kw_check")).to_have_count(0)

    page.locator("#lf-kw_look .lf-toggle").click()
    expect(page.locator("#inactive-table #lf-kw_look")).to_be_visible()
    expect(page.locator("#no-lfs")).to_be_visible()
    page.locator("#inactive-table #lf-kw_look .lf-toggle").click()
    expect(page.locator("#lf-table #lf-kw_look")).to_be_visible()

    page.once("dialog", lambda dialog: dialog.accept())  # "Delete kw_look? ..."
    page.locator("#lf-table #lf-kw_look .lf-delete").click()
    expect(page.locator("#no-lfs")).to_be_visible()
    expect(page.locator("#lf-kw_look")).to_have_count(0)
    shot(page, "lf_page_after_delete")
