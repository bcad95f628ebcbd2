"""The end model in the app: trained as a job on the label model's probabilistic labels of items
without a human label, scored on the human-labeled ones, its predictions stored for every item as
``model`` labels with their run, listed by the API with source and run, and shown on the LF page."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from labelapp.cli import main
from labelapp.db import session_scope
from labelapp.models import Annotation, LabelModelRun, ProbLabel, Project
from labelapp.services.errors import UserError
from labelapp.services.weak import pipeline as weak_pipeline
from labelapp.services.weak.end_model import train_end_model
from labelapp.services.weak.lfs import load_python_lfs, save_lf
from labelapp.services.weak.models import fit_label_model
from tests.app.factories import add_labels, labeled_project, make_user, wait_for_job
from tests.app.youtube import demo_comments

pytestmark = pytest.mark.one_backend  # its subject is not storage (tests/conftest.py)

N_HUMAN = 300
# The keyword, regex and short-comment LFs of Snorkel's spam tutorial (shared/data/
# youtube_spam_uci/lf_spec_snorkel_spam.md); its spaCy and TextBlob LFs are left out.
SPECS = (
    {"kind": "keyword", "name": "keyword_my", "label": "spam", "keywords": ["my"]},
    {"kind": "keyword", "name": "keyword_subscribe", "label": "spam", "keywords": ["subscribe"]},
    {"kind": "keyword", "name": "keyword_http", "label": "spam", "keywords": ["http"]},
    {"kind": "keyword", "name": "keyword_please", "label": "spam", "keywords": ["please", "plz"]},
    {"kind": "keyword", "name": "keyword_song", "label": "ham", "keywords": ["song"]},
    {"kind": "regex", "name": "regex_check_out", "label": "spam", "pattern": "check.*out"},
)
SHORT_COMMENT = """
from snorkel.labeling import labeling_function

@labeling_function()
def short_comment(x):
    return 0 if len(x.text.split()) < 5 else -1
"""


@pytest.fixture
def yt(sessions, tmp_path) -> dict:
    """The demo's real YouTube comments, the first 300 labeled by an annotator (their true
    class), the tutorial's keyword/regex LFs saved and its short_comment LF loaded."""
    texts, truth = demo_comments()
    project_id, ids, ann = labeled_project(sessions, tmp_path, "yt", texts, truth[:N_HUMAN])
    sme = make_user(sessions, "sme", "sme", (project_id,))
    with session_scope(sessions) as session:
        project = session.get(Project, project_id)
        for spec in SPECS:
            save_lf(session, project, dict(spec), None)
        (tmp_path / "tutorial_lfs.py").write_text(SHORT_COMMENT)
        load_python_lfs(session, project, tmp_path / "tutorial_lfs.py", None)
    return {"project": project_id, "ids": ids, "truth": truth, "sme": sme, "ann": ann}


@pytest.mark.slow
def test_train_job_stores_held_out_scored_predictions_for_every_item(yt, client, sessions) -> None:
    url, headers = f"/api/projects/{yt['project']}", yt["sme"].headers
    early = wait_for_job(
        client, client.post(f"{url}/ws/train", headers=headers).get_json()["id"], headers
    )
    assert early["status"] == "failed" and "fit the label model first" in early["error"]

    weak_pipeline.pipeline(sessions, yt["project"], ("apply", "fit"))
    started = client.post(f"{url}/ws/train", headers=headers)
    assert started.status_code == 202, started.get_json()
    job = wait_for_job(client, started.get_json()["id"], headers)
    assert job["status"] == "done", job
    assert job["kind"] == "ws_train" and job["progress"] == 1.0
    m = job["result"]["end_model"]

    with session_scope(sessions) as session:
        runs = {r.kind: r for r in session.scalars(select(LabelModelRun))}
        model = session.execute(
            select(
                ProbLabel.item_id, ProbLabel.probs, ProbLabel.label, ProbLabel.label_model_run_id
            ).where(ProbLabel.source == "model")
        ).all()
        lm_items = set(
            session.scalars(select(ProbLabel.item_id).where(ProbLabel.source == "label_model"))
        )
    end, lm = runs["end_model"], runs["label_model"]
    assert end.id == job["result"]["end_model_run_id"] and end.job_id == job["id"]
    assert end.params["label_model_run_id"] == lm.id == m["label_model_run_id"]
    assert end.lf_ids == lm.lf_ids
    assert end.params["estimator"].startswith("LogisticRegression(C=")
    # every item holds a model label from this run; probabilities are distributions
    assert sorted(r[0] for r in model) == sorted(yt["ids"])
    assert {r[3] for r in model} == {end.id}
    assert all(
        abs(sum(r[1]) - 1) < 1e-3 and r[2] == ("ham", "spam")[int(np.argmax(r[1]))] for r in model
    )
    # trained on label-model labels of unlabeled items only, scored on all the human labels
    assert m["n_train"] == len(lm_items - set(yt["ids"][:N_HUMAN])) > 0
    assert m["n_evaluated"] == m["n_human"] == N_HUMAN
    predicted = {r[0]: r[2] for r in model}
    right = [predicted[i] == yt["truth"][n] for n, i in enumerate(yt["ids"][:N_HUMAN])]
    assert m["accuracy"] == pytest.approx(100 * np.mean(right), abs=0.01)
    majority = 100 * max(yt["truth"][:N_HUMAN].count(c) for c in ("ham", "spam")) / N_HUMAN
    assert m["accuracy"] > majority + 10 and m["f1_macro"] > 60
    covered = [n for n, i in enumerate(yt["ids"][:N_HUMAN]) if i in lm_items]
    assert m["where_label_model"]["n"] == len(covered)

    page = client.get(f"/projects/{yt['project']}/lfs", headers=headers).get_data(as_text=True)
    for text in (
        'id="run-train"',
        'id="end-model-table"',
        f"Run #{end.id}",
        f"{m['accuracy']}%",
        f"{m['f1_macro']}%",
        f"model {len(yt['ids']):,}",
        "never trained on",
    ):
        assert text in page, text
    assert 'id="end-model-stale"' not in page
    fit_label_model(sessions, yt["project"])  # a newer label model: the page says retrain
    page = client.get(f"/projects/{yt['project']}/lfs", headers=headers).get_data(as_text=True)
    assert 'id="end-model-stale"' in page


@pytest.mark.slow
def test_human_labeled_items_are_not_trained_on(yt, sessions, monkeypatch) -> None:
    import weak_supervision.end_model as library

    seen: list[np.ndarray] = []
    fit = library.fit_end_model

    def spy(X, probs, estimator=None):
        seen.append(np.asarray(probs))
        return fit(X, probs, estimator)

    monkeypatch.setattr(library, "fit_end_model", spy)
    weak_pipeline.pipeline(sessions, yt["project"], ("apply", "fit"))
    run = train_end_model(sessions, yt["project"])
    with session_scope(sessions) as session:
        lm = dict(
            session.execute(
                select(ProbLabel.item_id, ProbLabel.probs).where(ProbLabel.source == "label_model")
            ).all()
        )
    unlabeled = [i for i in yt["ids"][N_HUMAN:] if i in lm]
    assert len(seen) == 1 and len(seen[0]) == run.metrics["n_train"] == len(unlabeled)
    np.testing.assert_allclose(seen[0], [lm[i] for i in unlabeled], atol=1e-6)


@pytest.mark.slow
def test_prob_labels_api_keeps_source_and_run(yt, client, sessions) -> None:
    weak_pipeline.pipeline(sessions, yt["project"], ("apply", "fit", "propagate", "train"))
    url, headers = f"/api/projects/{yt['project']}/prob-labels", yt["sme"].headers
    with session_scope(sessions) as session:
        expected = {
            (s, k)
            for s, k in session.execute(
                select(ProbLabel.source, LabelModelRun.kind).join(
                    LabelModelRun, LabelModelRun.id == ProbLabel.label_model_run_id
                )
            ).all()
        }
        total = len(session.scalars(select(ProbLabel.id)).all())
    assert expected == {
        ("label_model", "label_model"),
        ("propagation", "propagation"),
        ("model", "end_model"),
    }
    seen, after = [], 0
    while after is not None:
        page = client.get(f"{url}?limit=250&after={after}", headers=headers).get_json()
        seen += page["prob_labels"]
        after = page["next_after"]
    assert len(seen) == total and len({r["id"] for r in seen}) == total
    assert {(r["source"], r["run_kind"]) for r in seen} == expected
    only = client.get(f"{url}?source=model&limit=5", headers=headers).get_json()
    assert page["classes"] == ["ham", "spam"]
    assert [r["source"] for r in only["prob_labels"]] == ["model"] * 5
    first = only["prob_labels"][0]
    assert first["external_id"].startswith("t") and len(first["probs"]) == 2
    assert first["label"] in ("ham", "spam") and 0.5 <= first["confidence"] <= 1
    for bad, message in (
        ("?source=gold", "source: Input should be ''"),
        ("?limit=0", "limit: Input should be greater than or equal to 1"),
        ("?limit=x", "limit: Input should be a valid integer"),
    ):
        res = client.get(f"{url}{bad}", headers=headers)
        assert res.status_code == 400 and message in res.get_json()["error"]["message"], bad
    assert client.get(url, headers=yt["ann"].headers).status_code == 403
    assert (
        client.post(
            f"/api/projects/{yt['project']}/ws/train", headers=yt["ann"].headers
        ).status_code
        == 403
    )


@pytest.mark.slow
def test_cli_trains_the_end_model_and_refuses_without_unlabeled_training_items(
    yt, sessions
) -> None:
    out = CliRunner().invoke(main, ["lf", "apply", "--project", "yt", "--steps", "apply,fit,train"])
    assert out.exit_code == 0, out.output
    assert (
        "end model run" in out.output and f"on {N_HUMAN} held-out human-labeled items" in out.output
    )
    bad = CliRunner().invoke(main, ["lf", "apply", "--project", "yt", "--steps", "fit,teach"])
    assert bad.exit_code != 0 and "use apply, fit, propagate, train" in bad.output

    with session_scope(sessions) as session:  # label every item: nothing left to train on
        ann = session.scalar(select(Annotation.user_id))
        labeled = set(session.scalars(select(Annotation.item_id)))
        todo = [n for n, item_id in enumerate(yt["ids"]) if item_id not in labeled]
        ids, truth = [yt["ids"][n] for n in todo], [yt["truth"][n] for n in todo]
        add_labels(session, yt["project"], ann, ids, truth)
    with pytest.raises(UserError, match="nothing is left to train on"):
        train_end_model(sessions, yt["project"])
