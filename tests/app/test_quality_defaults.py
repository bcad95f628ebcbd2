"""The app's label-quality defaults end to end, on SQLite and PostgreSQL: a project created with
no settings retrains on sentence embeddings with the ``auto`` strategy, its label model is chosen
from the zoo by cross-validation on its human labels, and its crowd answers are aggregated by the
method with the best accuracy on its gold items (the documented rule without gold), which the
agreement page names and the adjudication suggestions use."""

from __future__ import annotations

import pytest

from labelapp.db import session_scope
from labelapp.models import Project
from labelapp.services.agreement import agreement_dict, open_backlog, project_agreement
from labelapp.services.retrain import retrain_project
from labelapp.services.weak.lfs import save_lf
from labelapp.services.weak.models import fit_label_model
from labelapp.services.weak.votes import apply_lfs
from tests.app.factories import (
    add_items,
    add_labels,
    import_gold,
    labeled_project,
    make_project,
    make_user,
)
from tests.app.youtube import KEYWORD_LFS, demo_comments
from tests.conftest import login


@pytest.mark.slow
def test_a_default_project_retrains_on_embeddings_with_auto_and_picks_a_zoo_label_model(
    sessions, tmp_path
) -> None:
    from weak_supervision.zoo import CANDIDATES

    texts, truth = demo_comments(60)
    project_id, ids, _ = labeled_project(sessions, tmp_path, "defaults", texts, truth[:40])
    with session_scope(sessions) as session:
        project = session.get(Project, project_id)
        assert (project.strategy, project.featurizer) == ("auto", "embeddings")
        for spec in (
            *KEYWORD_LFS,
            {
                "kind": "regex",
                "name": "re_short",
                "label": "ham",
                "pattern": r"^\W*\w+(\W+\w+){0,3}\W*$",
            },
        ):
            save_lf(session, project, dict(spec), None)

    run = retrain_project(sessions, project_id)
    assert (run.featurizer, run.strategy) == ("embeddings", "auto")
    assert run.n_train > 0 and run.metrics.get("accuracy") is not None

    apply_lfs(sessions, project_id)
    lm = fit_label_model(sessions, project_id)
    assert lm.metrics["chosen"] in CANDIDATES
    assert "cross-validation over 40 human labels" in lm.metrics["chosen_because"]
    scored = set(lm.metrics["candidates"])
    assert {
        "label_model",
        "majority_vote",
        "dawid_skene",
        "flyingsquid",
        "semi_supervised",
    } <= scored
    assert lm.metrics["chosen"] in scored


# Five annotators on 48 items, 12 of them gold: ann is always right, the four others are each
# wrong on a random 40% (seeded), so they often outvote ann and Dawid-Skene follows them.
N_GOLD, N_PLAIN = 12, 36
NAMES = ("ann", "bob", "cat", "dan", "eve")


def _answers(n: int) -> dict[str, list[str]]:
    import numpy as np

    truth = ["spam" if i % 2 else "ham" for i in range(n)]
    flip = {"ham": "spam", "spam": "ham"}
    rng = np.random.default_rng(7)
    out = {"truth": truth, "ann": truth}
    for name in NAMES[1:]:
        out[name] = [flip[t] if rng.random() < 0.4 else t for t in truth]
    return out


@pytest.fixture
def crowd(sessions, tmp_path):
    answers = _answers(N_GOLD + N_PLAIN)
    project_id = make_project(sessions, "crowd", ("ham", "spam"), overlap_k=3)
    add_items(sessions, project_id, [f"plain comment {i}" for i in range(N_PLAIN)], tmp_path)
    gold = tmp_path / "gold.csv"
    gold.write_text(
        "id,text,answer\n"
        + "".join(f"g{i},gold comment {i},{answers['truth'][N_PLAIN + i]}\n" for i in range(N_GOLD))
    )
    ids = import_gold(sessions, project_id, gold)
    order = [ids[f"t{i}"] for i in range(N_PLAIN)] + [ids[f"g{i}"] for i in range(N_GOLD)]
    people = {name: make_user(sessions, name, "annotator", (project_id,)) for name in NAMES}
    with session_scope(sessions) as session:
        for name, account in people.items():
            add_labels(session, project_id, account.id, order, answers[name])
    return {"project": project_id, "order": order, "answers": answers}


@pytest.mark.slow
def test_aggregation_is_picked_by_gold_accuracy_and_drives_the_suggestions(
    crowd, sessions, client, inline_jobs
) -> None:
    from weak_supervision.agreement.crowd_methods import METHODS

    with session_scope(sessions) as session:
        project = session.get(Project, crowd["project"])
        result = project_agreement(
            session, project, n_resamples=0, with_model=False, use_cache=False
        )
        picked = result.aggregator
        assert picked.reason.startswith(f"best accuracy on {N_GOLD} gold items")
        accuracy = picked.gold_accuracy
        assert {"dawid_skene", "majority_vote", "wawa"} <= set(accuracy)
        best = max(accuracy.values())
        assert picked.name == next(m for m in METHODS if accuracy.get(m) == best)
        # Not Dawid-Skene by habit: here it trusts the four noisy annotators and loses on gold.
        assert picked.name != "dawid_skene" and accuracy["dawid_skene"] < best
        assert "glad" in picked.skipped and "mace" in picked.skipped
        truth = dict(zip(crowd["order"], crowd["answers"]["truth"], strict=True))
        gold_ids = crowd["order"][N_PLAIN:]
        hits = sum(picked.labels[i] == truth[i] for i in gold_ids)
        assert round(100 * hits / N_GOLD, 4) == accuracy[picked.name]

        backlog = open_backlog(session, result)
        assert backlog.entries  # the noisy four disagree with ann on many items
        for entry in backlog.entries:
            assert entry.suggestion == picked.labels[entry.item_id]
            assert entry.suggested_by == picked.title
        data = agreement_dict(session, result)
        assert data["aggregation"]["method"] == picked.name
        assert data["adjudication"]["suggested_by"] == picked.name

    admin = make_user(sessions, "root", "admin")
    login(client, admin.username, admin.password)
    # The backlog waits for the agreement job; the page then shows its report.
    res = client.get(f"/api/projects/{crowd['project']}/adjudication", headers=admin.headers)
    entries = res.get_json()["entries"]
    assert entries and all(e["suggested_by"] == picked.title for e in entries)
    page = client.get(f"/projects/{crowd['project']}/agreement").get_data(as_text=True)
    assert 'id="aggregation"' in page and f"Suggestions come from <strong>{picked.title}" in page


@pytest.mark.slow
def test_without_gold_the_documented_rule_picks(sessions, tmp_path) -> None:
    answers = _answers(N_PLAIN)
    project_id = make_project(sessions, "nogold", ("ham", "spam"), overlap_k=3)
    ids = add_items(sessions, project_id, [f"plain comment {i}" for i in range(N_PLAIN)], tmp_path)
    people = {name: make_user(sessions, name, "annotator", (project_id,)) for name in NAMES}
    with session_scope(sessions) as session:
        for name, account in people.items():
            add_labels(session, project_id, account.id, ids, answers[name])
        result = project_agreement(
            session,
            session.get(Project, project_id),
            n_resamples=0,
            with_model=False,
            use_cache=False,
        )
    # 36 answers per annotator (>= 10) and 5 answers per item: the rule says Dawid-Skene.
    assert result.aggregator.name == "dawid_skene"
    assert result.aggregator.reason.startswith("no gold items")
    assert result.aggregator.gold_accuracy == {}
