"""The project's featurizer in the app: sentence embeddings by default for text projects, each
text embedded once (cached by content, embedded again when it changes), TF-IDF above the size
setting or when the model cannot load (and the reason kept), the setting on the project page and
in the API, and every model on the texts (queue, propagation, end model, label-issue scan) using
it. Real YouTube comments, a small sample: the offline MiniLM model, nothing downloaded."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from labelapp.db import session_scope
from labelapp.models import Annotation, Item, LabelIssue, LabelIssueRun, Project, QueueEntry
from labelapp.services import featurizers, label_issues
from labelapp.services.retrain import retrain_project
from labelapp.services.retrain_run import labeling_order
from labelapp.services.weak.end_model import train_end_model
from labelapp.services.weak.lfs import save_lf
from labelapp.services.weak.models import fit_label_model, propagate
from labelapp.services.weak.votes import apply_lfs
from tests.app.factories import labeled_project, make_project, make_user
from tests.app.youtube import KEYWORD_LFS, demo_comments
from tests.conftest import csrf_token_from, login

N_ITEMS, N_LABELED = 60, 30


@pytest.fixture
def yt(sessions, tmp_path) -> dict:
    """60 real comments, the first 30 labeled (true class) by an annotator, created by the
    service's defaults (no featurizer or strategy given)."""
    texts, truth = demo_comments(N_ITEMS)
    project_id, ids, _ = labeled_project(sessions, tmp_path, "yt", texts, truth[:N_LABELED])
    return {"project": project_id, "ids": ids, "truth": truth, "texts": texts}


@pytest.fixture
def encoded(monkeypatch) -> list[str]:
    """Every text the embedding model is asked to encode (the model still runs)."""
    from active_learning import embeddings

    seen: list[str] = []
    real = embeddings.encode

    def counting(texts: list[str], batch_size: int = 64, **kwargs):
        seen.extend(texts)
        return real(texts, batch_size=batch_size, **kwargs)

    monkeypatch.setattr(embeddings, "encode", counting)
    return seen


def _set(sessions, project_id: int, **values) -> None:
    with session_scope(sessions) as session:
        project = session.get(Project, project_id)
        for name, value in values.items():
            setattr(project, name, value)


def test_new_projects_default_to_embeddings_and_auto(client, sessions) -> None:
    admin = make_user(sessions, "root", "admin")
    res = client.post(
        "/api/projects", json={"name": "fresh", "labels": ["a", "b"]}, headers=admin.headers
    )
    assert res.status_code == 201, res.get_json()
    body = res.get_json()
    assert (body["strategy"], body["featurizer"], body["embedding_max_items"]) == (
        "auto",
        "embeddings",
        200_000,
    )


@pytest.mark.slow
def test_retrain_embeds_each_text_once_and_again_when_it_changes(yt, sessions, encoded) -> None:
    run = retrain_project(sessions, yt["project"])
    assert (run.featurizer, run.strategy) == ("embeddings", "auto")
    assert run.params["featurizer_reason"] is None and run.n_train > 0
    with session_scope(sessions) as session:
        ranked = session.scalars(
            select(QueueEntry.item_id).where(QueueEntry.model_run_id == run.id)
        ).all()
    assert set(ranked) and not set(ranked) & set(yt["ids"][:N_LABELED])  # the pool, reordered
    assert set(encoded) <= set(yt["texts"])  # texts embedded before are not embedded again

    encoded.clear()
    retrain_project(sessions, yt["project"])
    assert encoded == []  # nothing changed: every vector comes from the cache

    edited = f"Totally new comment {uuid.uuid4()} about this song"
    with session_scope(sessions) as session:
        session.get(Item, yt["ids"][-1]).text = edited
    again = retrain_project(sessions, yt["project"])
    assert encoded == [edited]  # only the changed text is embedded again
    assert again.params["data_version"] != run.params["data_version"]


def test_tfidf_above_the_size_setting_or_when_the_model_cannot_load(
    yt, sessions, monkeypatch
) -> None:
    _set(sessions, yt["project"], embedding_max_items=59)
    run = retrain_project(sessions, yt["project"])
    assert run.featurizer == "tfidf"
    assert "60 items is more than the embedding limit (59)" in run.params["featurizer_reason"]

    _set(sessions, yt["project"], embedding_max_items=200_000)
    from active_learning import embeddings

    def broken(texts: list[str], batch_size: int = 64, **kwargs):
        raise embeddings.EmbeddingsUnavailable("Sentence embeddings are unavailable: test.")

    monkeypatch.setattr(embeddings, "encode", broken)
    with session_scope(sessions) as session:  # a text the cache has never seen
        session.get(Item, yt["ids"][-1]).text = f"unseen {uuid.uuid4()}"
    run = retrain_project(sessions, yt["project"])
    assert run.featurizer == "tfidf"
    assert "unavailable" in run.params["featurizer_reason"]

    monkeypatch.setattr(featurizers, "_EMBEDDING_PACKAGE_MODULE", "no_such_package_here")
    with session_scope(sessions) as session:
        status = featurizers.featurizer_status(session, session.get(Project, yt["project"]))
    assert status["expected"] == "tfidf" and "not installed" in status["reason"]


def test_auto_gets_the_labels_oldest_first(yt, sessions, monkeypatch) -> None:
    # Label the remaining items newest-position first, so labeling order != position order.
    late = list(reversed(yt["ids"][N_LABELED : N_LABELED + 6]))
    with session_scope(sessions) as session:
        user_id = session.scalar(select(Annotation.user_id).limit(1))
        for item_id in late:
            session.add(
                Annotation(
                    item_id=item_id,
                    project_id=yt["project"],
                    user_id=user_id,
                    kind="label",
                    labels=["ham"],
                )
            )
            session.flush()
        order = labeling_order(session, yt["project"], sorted(yt["ids"][: N_LABELED + 6]))
    assert order == yt["ids"][:N_LABELED] + late

    import active_learning.retrain as library

    seen: dict = {}
    real = library.retrain_and_score

    def spy(data, labeled_indices, labels, **kwargs):
        seen["rows"] = list(labeled_indices)
        return real(data, labeled_indices, labels, **kwargs)

    monkeypatch.setattr(library, "retrain_and_score", spy)
    retrain_project(sessions, yt["project"])
    position = {item_id: i for i, item_id in enumerate(yt["ids"])}
    assert seen["rows"] == [position[i] for i in order]


@pytest.mark.slow
def test_propagation_end_model_and_label_issues_use_the_project_featurizer(yt, sessions) -> None:
    with session_scope(sessions) as session:
        project = session.get(Project, yt["project"])
        for spec in KEYWORD_LFS:
            save_lf(session, project, dict(spec), None)
    apply_lfs(sessions, yt["project"])
    fit_label_model(sessions, yt["project"])
    propagation = propagate(sessions, yt["project"])
    assert propagation.params["features"] == "embeddings"
    assert propagation.metrics["featurizer_reason"] is None
    end = train_end_model(sessions, yt["project"])
    assert end.params["features"].startswith("sentence embeddings")
    assert end.metrics["featurizer"] == "embeddings"
    summary = label_issues.scan(sessions, yt["project"])
    with session_scope(sessions) as session:
        scan = session.get(LabelIssueRun, summary["run_id"])
        assert scan.params["features"] == "embeddings"

    _set(sessions, yt["project"], featurizer="tfidf")
    assert propagate(sessions, yt["project"]).params["features"] == "tfidf"
    assert train_end_model(sessions, yt["project"]).metrics["featurizer"] == "tfidf"


def test_label_issue_scan_links_paraphrases_by_their_embeddings(sessions, tmp_path) -> None:
    """Two rewordings of one message labeled differently: word shingles miss them (few shared
    word pairs), the embeddings do, and the scan says so."""
    from active_learning.near_duplicates import vector_near_pairs
    from augment.duplicates import near_duplicate_pairs

    texts, truth = demo_comments(N_ITEMS)
    a = "Check out my channel for free gift cards"
    b = "Check my channel out for gift cards that are free"  # cosine 0.98, no shared shingles
    project_id, ids, _ = labeled_project(
        sessions, tmp_path, "para", [*texts[:40], a, b], [*truth[:40], "spam", "ham"]
    )
    assert len(near_duplicate_pairs([a, b])) == 0
    setting = featurizers.FeaturizerSetting("embeddings", 200_000, 2)
    assert vector_near_pairs(featurizers.text_features(setting, [a, b]).X).tolist() == [[0, 1]]
    label_issues.scan(sessions, project_id)
    with session_scope(sessions) as session:
        reasons = {
            row.item_id: " ".join(row.reasons) for row in session.scalars(select(LabelIssue))
        }
    assert "near-duplicate" in reasons[ids[-1]] and "near-duplicate" in reasons[ids[-2]]


def test_the_featurizer_is_shown_and_set_on_the_project_page_and_api(client, sessions) -> None:
    project_id = make_project(sessions, "page", ("ham", "spam"))
    admin = make_user(sessions, "root", "admin")
    login(client, admin.username, admin.password)
    page = client.get(f"/projects/{project_id}").get_data(as_text=True)
    assert 'id="features"' in page and "sentence embeddings (all-MiniLM-L6-v2)" in page
    token = csrf_token_from(page)

    def save(featurizer: str) -> str:
        form = {"csrf_token": token, "featurizer": featurizer, "embedding_max_items": "5000"}
        url = f"/projects/{project_id}/featurizer"
        return client.post(url, data=form, follow_redirects=True).get_data(as_text=True)

    assert "Featurizer saved" in save("tfidf")
    with session_scope(sessions) as session:
        project = session.get(Project, project_id)
        assert (project.featurizer, project.embedding_max_items) == ("tfidf", 5000)
    assert "Not a valid choice" in save("bert")
    with session_scope(sessions) as session:
        assert session.get(Project, project_id).featurizer == "tfidf"

    api = f"/api/projects/{project_id}"
    res = client.patch(api, json={"featurizer": "embeddings"}, headers=admin.headers)
    assert res.status_code == 200 and res.get_json()["featurizer"] == "embeddings"
    res = client.patch(api, json={"embedding_max_items": -1}, headers=admin.headers)
    assert res.status_code == 400 and "embedding_max_items" in res.get_data(as_text=True)
    sme = make_user(sessions, "sid", "sme", (project_id,))
    res = client.patch(api, json={"featurizer": "tfidf"}, headers=sme.headers)
    assert res.status_code == 403
    with session_scope(sessions) as session:
        assert session.get(Project, project_id).featurizer == "embeddings"
