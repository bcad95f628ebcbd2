"""A Python LF in real Chromium: an SME types it into the code editor (CodeMirror, vendored),
previews it (run in the sandbox), saves it, is asked before saving over its name, and sees a
sandbox limit stop a preview with a message saying so; the LF chart answers a hover."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from labelapp.db import session_scope
from labelapp.models import Item, LabelingFunction, LabelModelRun, Project, WeakLabel
from labelapp.services.weak.lfs import save_lf
from tests.app.factories import make_user
from tests.browser.conftest import labeled_comments_project, log_in, shot

BODY = [  # typed line by line: the editor keeps the indentation it is given
    "from snorkel.labeling import labeling_function",
    "",
    "",
    "@labeling_function()",
    "def py_check(x):",
    '    return 1 if "check" in x.text.lower() else -1',
]


def _type_code(page, lines: list[str]) -> None:
    editor = page.locator(".lf-code .CodeMirror")
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    for n, line in enumerate(lines):
        page.keyboard.press("Home")
        page.keyboard.press("Shift+Home")  # the editor's auto-indent is replaced by the line's own
        page.keyboard.type(line)
        if n < len(lines) - 1:
            page.keyboard.press("Enter")


def test_python_lf_written_previewed_and_saved_in_the_browser(
    page, live_server, sessions, tmp_path
) -> None:
    project_id, texts, truth = labeled_comments_project(sessions, tmp_path)
    hits = [i for i, t in enumerate(texts) if "check" in t.lower()]
    labeled = [i for i in hits if i < 30]
    sme = make_user(sessions, "sid", "sme", (project_id,))
    log_in(page, live_server, sme.username, sme.password)
    page.goto(f"{live_server}/projects/{project_id}/lfs")
    page.select_option("#lf-kind", "python")
    expect(page.locator(".lf-code .CodeMirror")).to_be_visible()
    expect(page.locator("#lf-name")).to_be_hidden()
    expect(page.locator(".CodeMirror .cm-keyword").first).to_be_visible()  # highlighted code

    _type_code(page, BODY)
    page.locator("#preview-button").click()
    expect(page.locator("#preview-hits")).to_have_text(str(len(hits)), timeout=60_000)
    expect(page.locator("#preview-coverage")).to_have_text(f"{100 * len(hits) / 60:.1f}%")
    expect(page.locator("#preview-coverage-note")).to_contain_text(
        "coverage on 60 items, 95% interval"
    )
    correct = sum(truth[i] == "spam" for i in labeled)
    expect(page.locator("#preview-accuracy")).to_have_text(f"({100 * correct / len(labeled):.1f}%)")
    expect(page.locator("#preview-accuracy-note")).to_contain_text("too few to rely on")
    expect(page.locator("#preview-note")).to_contain_text("LF py_check, run in the sandbox")
    expect(page.locator("#preview-table tbody tr")).to_have_count(min(20, len(hits)))
    shot(page, "lf_python_preview")

    page.locator("#save-button").click()
    expect(page.locator("#lf-py_check")).to_be_visible(timeout=30_000)
    expect(page.locator("#lf-py_check")).to_contain_text("not applied")
    with session_scope(sessions) as session:
        row = session.query(LabelingFunction).filter_by(name="py_check").one()
        assert row.kind == "python" and row.version == 1 and "def py_check" in row.source

    page.locator("#lf-py_check .lf-edit").click()  # edit: the code comes back into the editor
    expect(page.locator(".lf-code .CodeMirror")).to_contain_text("def py_check(x):")
    _type_code(page, [*BODY[:-1], '    return 1 if "check out" in x.text.lower() else -1'])
    page.locator("#save-button").click()
    expect(page.locator("#replace-confirm")).to_be_visible(timeout=30_000)
    expect(page.locator("#replace-text")).to_contain_text("'py_check' exists (version 1, python)")
    shot(page, "lf_python_replace_asked")
    page.locator("#replace-button").click()
    expect(page.locator("#lf-py_check")).to_contain_text("v2", timeout=30_000)
    page.locator("#lf-py_check + tr.detail details.lf-history summary").click()
    page.locator("#lf-py_check + tr.detail .lf-compare").click()
    expect(page.locator("#lf-py_check + tr.detail .lf-diff")).to_contain_text(
        '+    return 1 if "check out"'
    )
    shot(page, "lf_python_versions")


def test_a_sandbox_limit_stops_a_preview_and_says_so(
    page, live_server, sessions, tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv("LABELAPP_LF_CPU_SECONDS", "3")
    monkeypatch.setenv("LABELAPP_LF_WALL_SECONDS", "8")
    project_id, _, _ = labeled_comments_project(sessions, tmp_path)
    sme = make_user(sessions, "sid", "sme", (project_id,))
    log_in(page, live_server, sme.username, sme.password)
    page.goto(f"{live_server}/projects/{project_id}/lfs")
    page.select_option("#lf-kind", "python")
    _type_code(page, [*BODY[:-1], "    while True:", "        pass"])
    page.locator("#preview-button").click()
    message = page.locator("#lf-message")
    expect(message).to_contain_text("stopped in the sandbox", timeout=60_000)
    expect(message).to_contain_text("limit (LABELAPP_LF_")
    expect(message).to_have_class("small error-text")
    expect(page.locator("#preview")).to_be_hidden()
    shot(page, "lf_python_sandbox_limit")


def test_lf_chart_tooltip_gives_the_rate_with_its_count(
    page, live_server, sessions, tmp_path
) -> None:
    project_id, texts, _ = labeled_comments_project(sessions, tmp_path)
    with session_scope(sessions) as session:
        lf, _ = save_lf(
            session,
            session.get(Project, project_id),
            {"kind": "keyword", "name": "kw_check", "label": "spam", "keywords": ["check"]},
            None,
        )
        item_ids = sorted(session.scalars(select(Item.id).where(Item.project_id == project_id)))
        hits = [item_ids[i] for i, t in enumerate(texts) if "check" in t.lower()]
        for item_id in hits:
            session.add(WeakLabel(item_id=item_id, lf_id=lf.id, vote=1))
        session.add(
            LabelModelRun(
                project_id=project_id,
                kind="apply",
                lf_ids=[lf.id],
                metrics={"n_votes": len(hits), "n_items": 60, "applier": "pandas"},
            )
        )
    sme = make_user(sessions, "sid", "sme", (project_id,))
    log_in(page, live_server, sme.username, sme.password)
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{live_server}/projects/{project_id}/lfs")
    canvas = page.locator("#lf-chart")
    canvas.wait_for(timeout=90_000)  # the LF analysis is a job: the page reloads when it is done
    canvas.scroll_into_view_if_needed()
    chart = page.evaluate("""() => {
      const c = Chart.getChart(document.getElementById('lf-chart'));
      const bar = c.getDatasetMeta(0).data[0];
      return {x: bar.x, y: bar.y, title: c.options.scales.x.title.text,
              legend: c.options.plugins.legend.position};
    }""")
    assert chart["title"].startswith("share") and chart["legend"] == "bottom"
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + chart["x"] - 5, box["y"] + chart["y"])
    tooltip = page.evaluate("""() => {
      const t = Chart.getChart(document.getElementById('lf-chart')).tooltip;
      return {opacity: t.opacity, lines: t.body ? t.body.flatMap((b) => b.lines) : []};
    }""")
    assert tooltip["opacity"] > 0, tooltip
    assert any(
        line.startswith(f"coverage: {100 * len(hits) / 60:.1f}% (n = 60, 95% CI")
        for line in tooltip["lines"]
    ), tooltip
    shot(page, "lf_chart_tooltip")
