"""The project page's schema, drift and slices sections in real Chromium: an admin sees the
inferred schema, loosens it, compares two imports (two videos: drifted) and reads the slices."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.app.factories import make_project, make_user
from tests.app.youtube import UCI, import_labeled, labeled_video
from tests.browser.conftest import log_in, shot

VIDEOS = ("Youtube01-Psy.csv", "Youtube04-Eminem.csv")


def _project(sessions, tmp_path) -> int:
    pid = make_project(sessions, "comments", ("ham", "spam"))
    for i, video in enumerate(VIDEOS):
        df = labeled_video(UCI / video)
        df["likes"] = [str((n * 7 + i) % 13) for n in range(len(df))]
        df["lang"] = ["en" if n % 4 else "es" for n in range(len(df))]
        path = tmp_path / video
        df.to_csv(path, index=False)
        import_labeled(sessions, pid, path, schema="evolve")
    return pid


# The page, not the database, is under test here (tests/app/test_schema*.py and test_drift.py
# run both databases): SQLite only keeps CI within its budget.
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_admin_reads_schema_drift_and_slices(page, live_server, sessions, tmp_path) -> None:
    pid = _project(sessions, tmp_path)
    admin = make_user(sessions, "ada", "admin", (pid,))
    log_in(page, live_server, admin.username, admin.password)
    page.goto(f"{live_server}/projects/{pid}")
    section = page.locator("#schema-section")
    expect(section.locator("#schema-summary")).to_contain_text("Version 2 (evolved")
    expect(section.locator("tr[data-column='likes'] td").nth(1)).to_have_text("Int64")
    expect(section.locator("tr[data-column='lang'] td").nth(6)).to_have_text("en, es")
    expect(section.locator("#schema-checks li")).to_have_count(2)

    section.locator("#loosen-column").select_option("lang")
    section.locator("input[name=add_values]").fill("pt")
    section.locator("#schema-loosen button").click()
    expect(section.locator("#schema-summary")).to_contain_text("Version 3 (edited")
    expect(section.locator("tr[data-column='lang'] td").nth(6)).to_have_text("en, es, pt")

    drift = page.locator("#drift-section")
    drift.locator("input[name=a]").fill(f"import:{VIDEOS[0]}")
    drift.locator("input[name=b]").fill(f"import:{VIDEOS[1]}")
    drift.locator("button").click()
    expect(drift.locator("#drift-verdict")).to_contain_text("drifted", timeout=60_000)
    expect(drift.locator("#drift-verdict")).to_contain_text("A: 350 items, B: 446 items")
    rows = drift.locator("#drift-table tbody tr")
    expect(rows.filter(has_text="domain classifier (AUC)")).to_contain_text("drifted")
    expect(rows.filter(has_text="lang")).to_contain_text("chi2")

    drift.locator("input[name=b]").fill("nonsense")
    drift.locator("button").click()
    expect(drift.locator("#drift-verdict")).to_contain_text(
        "cannot read the selector 'nonsense'", timeout=60_000
    )
    drift.locator("input[name=b]").fill(f"import:{VIDEOS[1]}")
    drift.locator("button").click()
    expect(drift.locator("#drift-table")).to_be_visible(timeout=60_000)

    slices = page.locator("#slices-section")
    slices.locator("#slices-by").fill("lang")
    slices.locator("button").click()
    expect(slices.locator("#slices-status")).to_contain_text("796 items", timeout=60_000)
    expect(slices.locator("table").first.locator("tbody tr")).to_have_count(2)
    expect(slices.locator("table").nth(1).locator("tbody tr")).to_have_count(2)
    shot(page, "schema_drift_slices")
