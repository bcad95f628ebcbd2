"""The project page's active-learning card in real Chromium: one story (strategy, the model run
that ordered the queue, the next retrain), "Retrain now" with the job's progress live in the card,
and the model-run chart with labelled axes."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.app.factories import add_items, answer_queue, make_project, make_user
from tests.browser.conftest import log_in, shot, wait_until

SPAM = [
    f"check out my channel {w} and subscribe"
    for w in ("now", "today", "please", "here", "free", "quick")
]
HAM = [
    f"great song about {w}, love it" for w in ("summer", "rain", "home", "love", "roads", "night")
]


def test_retrain_progress_is_live_and_the_card_tells_one_story(
    page, live_server, sessions, client, tmp_path
) -> None:
    project_id = make_project(sessions, "al-card", ("ham", "spam"))
    pool = [f"comment number {i} about the video" for i in range(30)]
    add_items(sessions, project_id, SPAM + HAM + pool, tmp_path)
    ann = make_user(sessions, "ann", "annotator", (project_id,))
    answer_queue(client, project_id, ann, len(SPAM) + len(HAM), "channel")
    sme = make_user(sessions, "sam", "sme", (project_id,))
    log_in(page, live_server, sme.username, sme.password)
    page.goto(f"{live_server}/projects/{project_id}#learning")

    card = page.locator("#learning")
    expect(page.locator("#al-now")).to_contain_text("Strategy:")
    expect(page.locator("#al-queue")).to_have_text(
        "No model has ordered the queue yet: items come in import order."
    )
    expect(page.locator("#al-next")).to_contain_text(
        "The next retrain starts after 38 more labels (12 of 50"
    )
    # The labels card no longer names a second "queue order".
    expect(page.locator("body")).not_to_contain_text("queue order: import")

    seen = []
    page.expose_function("noteJob", lambda text: seen.append(text))
    page.evaluate("""() => new MutationObserver(
            () => window.noteJob(document.getElementById('al-job-text').textContent))
        .observe(document.getElementById('al-job'),
                 {subtree: true, childList: true, characterData: true})""")
    page.locator("#retrain-now").click()
    job = page.locator("#al-job")
    expect(job).to_be_visible()
    expect(job).to_be_in_viewport()
    expect(page.locator("#al-job-text")).to_contain_text("Retrain job #")
    expect(page.locator("#al-job-text")).to_contain_text("finished: model run #", timeout=120_000)
    # The progress was shown while it ran (queued or running, then done), without a reload.
    assert any("is queued" in t or "is running" in t for t in seen), seen
    expect(page.locator("#al-queue")).to_contain_text("The queue is ordered by model run #")
    expect(page.locator("#al-next")).to_contain_text(
        "The next retrain starts after 50 more labels (0 of 50"
    )
    expect(page.locator("#model-runs-table tbody tr")).to_have_count(1)

    # The model-run chart: drawn in the browser, x labelled by run and labels trained on.
    expect(page.locator("#model-runs-box")).to_be_visible()
    wait_until(page, "window.Chart && Chart.getChart(document.getElementById('model-runs-chart'))")
    axes = page.evaluate("""() => {
        const c = Chart.getChart(document.getElementById('model-runs-chart'));
        return {labels: c.data.labels, x: c.options.scales.x.title.text,
                y: c.options.scales.y.title.text};
    }""")
    n_train = page.locator("#model-runs-table tbody tr td").nth(3).inner_text()
    assert re.fullmatch(rf"#\d+ · {n_train}", axes["labels"][0]), axes
    assert axes["x"] and axes["y"]
    # The learning curve beside it: accuracy by the number of labels trained on.
    expect(page.locator("#learning-curve-box")).to_be_visible()
    curve = page.evaluate("""() => {
        const c = Chart.getChart(document.getElementById('learning-curve-chart'));
        return {x: c.options.scales.x.title.text, points: c.data.datasets[0].data};
    }""")
    assert curve["x"] == "labels trained on" and curve["points"][0]["x"] == int(n_train), curve
    card.scroll_into_view_if_needed()
    shot(page, "project-learning-card")
