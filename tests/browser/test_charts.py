"""Interactive charts in real Chromium, on the demo as it first starts: the agreement page is
populated (three simulated annotators on overlapping comments), its kappa heatmap answers a hover
with the pair's kappa and shared items, the reliability bars keep their legend below the plot,
and every chart has titled axes at 1366x768."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from labelapp.db import session_scope
from labelapp.demo import prepare
from labelapp.services.export import export_project, request_from
from tests.app.factories import add_items, add_labels, make_project, make_user
from tests.browser.conftest import SCREENSHOTS, LiveServer, log_in, shot, wait_until


@pytest.fixture
def demo_server(tmp_path, monkeypatch):
    from labelapp.app import create_app

    monkeypatch.setenv("LABELAPP_DATA_DIR", "unset")  # prepare() sets both; restored afterwards
    monkeypatch.setenv("LABELAPP_DATABASE_URL", "unset")
    info = prepare(tmp_path / "demo")
    app = create_app(
        {"DATABASE_URL": info.database_url, "TESTING": True, "SECRET_KEY": "demo-test"}
    )
    live = LiveServer(app)
    live.start()
    yield live.url
    live.stop()
    app.extensions["labelapp.engine"].dispose()


def _chart(page, canvas_id: str) -> dict:
    return page.evaluate(
        """(id) => {
      const c = Chart.getChart(document.getElementById(id));
      const titles = Object.values(c.options.scales)
        .map((s) => s.title && s.title.display ? s.title.text : null);
      const legend = c.legend && c.options.plugins.legend.display !== false
        ? { bottom: c.legend.top >= c.chartArea.bottom,
            position: c.options.plugins.legend.position }
        : null;
      return { type: c.config.type, titles, legend,
               n: c.data.datasets.reduce((a, d) => a + d.data.length, 0) };
    }""",
        canvas_id,
    )


def _tooltip_at(page, canvas_id: str, point: dict) -> list[str]:
    """Hover the chart ``canvas_id`` at ``point`` (x, y within the canvas): its tooltip's lines."""
    box = page.locator(f"#{canvas_id}").bounding_box()
    page.mouse.move(box["x"] + point["x"], box["y"] + point["y"])
    chart = f"Chart.getChart(document.getElementById('{canvas_id}'))"
    wait_until(page, f"{chart}.tooltip.opacity > 0")
    return page.evaluate(f"() => {chart}.tooltip.body.flatMap((b) => b.lines)")


def test_demo_agreement_page_is_populated_with_interactive_charts(page, demo_server) -> None:
    page.set_viewport_size({"width": 1366, "height": 768})
    log_in(page, demo_server, "admin", "demo-admin")
    page.goto(f"{demo_server}/projects/1/agreement")
    # The first visit queues the report's job; the page follows it and reloads with the report.
    expect(page.locator("#agreement-pending")).to_be_visible()
    expect(page.locator(".agreement-stats")).to_be_visible(timeout=120_000)
    expect(page.locator("#agreement-status")).to_contain_text("Computed")
    overlap = page.locator(".agreement-stats .stat").first.locator(".value")
    assert int(overlap.inner_text().replace(",", "")) > 150
    expect(page.locator("#stat-fleiss")).not_to_have_text("–")
    expect(page.locator("#annotator-table tbody tr")).to_have_count(3)
    expect(page.locator("#annotator-table")).to_contain_text("carol")
    expect(page.locator("#no-reliability")).to_have_count(0)
    assert int(page.locator("#stat-backlog").inner_text()) > 20

    for canvas in ("kappa-chart", "reliability-chart", "time-chart"):
        info = _chart(page, canvas)
        assert all(info["titles"]), (canvas, info)  # every axis titled
        assert info["n"] > 0, (canvas, info)
        if info["legend"]:
            assert info["legend"]["bottom"], (canvas, info)  # legend below the plot, not over it
    assert _chart(page, "kappa-chart")["type"] == "matrix"

    heat = page.locator("#kappa-chart")
    heat.scroll_into_view_if_needed()
    cell = page.evaluate("""() => {
      const c = Chart.getChart(document.getElementById('kappa-chart'));
      const i = c.data.datasets[0].data.findIndex((d) => d.x !== d.y);
      const el = c.getDatasetMeta(0).data[i];
      const p = el.getCenterPoint();
      return { x: p.x, y: p.y, pair: c.data.datasets[0].data[i] };
    }""")
    lines = _tooltip_at(page, "kappa-chart", cell)
    pair = cell["pair"]
    assert lines == [
        f"{pair['y']} × {pair['x']}: Cohen's kappa {pair['v']:.2f} ({pair['n']} shared items)"
    ]
    page.screenshot(path=str(SCREENSHOTS / "agreement_demo_tooltip.png"))  # the view, tooltip shown
    shot(page, "agreement_demo")


def test_overlap_preview_counts_existing_items_before_saving(page, demo_server) -> None:
    log_in(page, demo_server, "admin", "demo-admin")
    page.goto(f"{demo_server}/projects/1/agreement#settings")
    form = page.locator("#settings form").first
    form.locator("input[name=overlap_share]").fill("0.3")
    form.locator("#apply-existing").check()
    note = page.locator("#overlap-preview")
    expect(note).to_contain_text("Saving queues", timeout=15_000)
    expect(note).to_contain_text("items already imported for")
    queued = int(note.inner_text().split("Saving queues ")[1].split(" of ")[0].replace(",", ""))
    assert queued > 100  # about 15% more of ~1,900 comments need three annotators
    shot(page, "agreement_overlap_preview")
    form.locator("#save-overlap").click()
    expect(page.locator(".flash").first).to_contain_text(
        f"{queued:,} items already imported were queued"
    )


def test_class_balance_per_split_chart_on_the_export_page(
    page, live_server, sessions, tmp_path
) -> None:
    project_id = make_project(sessions, "balance", ("ham", "spam"))
    texts = [f"comment number {i}" for i in range(40)]
    ids = add_items(sessions, project_id, texts, tmp_path)
    ann = make_user(sessions, "ann", "annotator", (project_id,))
    truth = ["spam" if i % 4 == 0 else "ham" for i in range(40)]  # 10 spam, 30 ham
    with session_scope(sessions) as session:
        add_labels(session, project_id, ann.id, ids, truth)
    export_project(
        sessions, project_id, request_from({"format": "csv", "seed": 3}), tmp_path / "out"
    )
    sme = make_user(sessions, "sid", "sme", (project_id,))
    log_in(page, live_server, sme.username, sme.password)
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{live_server}/projects/{project_id}/export")
    wait_until(page, "window.Chart && Chart.getChart(document.getElementById('balance-chart'))")
    info = page.evaluate("""() => {
      const c = Chart.getChart(document.getElementById('balance-chart'));
      return { labels: c.data.labels, series: c.data.datasets.map((d) => [d.label, d.data]),
               x: c.options.scales.x.title.text, y: c.options.scales.y.title.text,
               stacked: c.options.scales.x.stacked };
    }""")
    assert info["x"] == "split" and info["y"] == "share of the split's items" and info["stacked"]
    assert [name for name, _ in info["series"]] == ["ham", "spam"]
    sizes = [int(label.split("(")[1].split(" ")[0]) for label in info["labels"]]
    assert len(sizes) == 3 and sum(sizes) == 40, info
    ham, spam = (data for _, data in info["series"])
    assert all(abs(h + s - 1) < 1e-9 for h, s in zip(ham, spam, strict=True))  # shares of a split
    assert round(sum(h * n for h, n in zip(ham, sizes, strict=True))) == 30  # 30 ham in all
    canvas = page.locator("#balance-chart")
    canvas.scroll_into_view_if_needed()
    point = page.evaluate("""() => {
      const c = Chart.getChart(document.getElementById('balance-chart'));
      const bar = c.getDatasetMeta(0).data[0];
      return { x: bar.x, y: (bar.y + bar.base) / 2 };
    }""")
    lines = _tooltip_at(page, "balance-chart", point)
    assert any(line.startswith("ham: ") and f" of {sizes[0]})" in line for line in lines), lines
    shot(page, "export_class_balance")
