"""One label truth: every case of how an item gets its label, in one project, and retrain,
agreement and export all see the same label and source for each item."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from labelapp.db import session_scope
from labelapp.models import Item, LabelModelRun, ProbLabel, Project
from labelapp.services.imports import ImportOptions, import_path
from labelapp.services.labels import human_labels, refresh_item_labels, resolve_labels
from tests.app.factories import add_adjudication, add_labels, make_project, make_user

# external id -> (answers of ann, bob, cat; None = no answer), then what the item must resolve to
ANSWERS = {
    "unanimous": ("spam", "spam", None),
    "majority": ("ham", "ham", "spam"),
    "tie": ("spam", "ham", None),
    "ambiguous_and_one": ("spam", "ambiguous", None),
    "only_ambiguous": ("ambiguous", None, None),
    "adjudicated": ("ham", "spam", None),
    "gold_disputed": ("ham", None, None),
    "corrected": ("spam", "spam", None),
}
EXPECTED = {
    "unanimous": (["spam"], "human"),
    "majority": (["ham"], "majority"),
    "tie": None,  # waits for adjudication
    "ambiguous_and_one": None,  # "ambiguous" is a vote that cannot win: a tie
    "only_ambiguous": None,
    "adjudicated": (["spam"], "adjudicated"),
    "gold_disputed": (["spam"], "gold"),  # the known answer, whatever was said
    "corrected": (["ham"], "corrected"),  # a reviewer's correction beats unanimous annotators
    "imported_human": (["ham"], "human"),
    "imported_weak": (["spam"], "import"),
    "weak_only": (["ham"], "label_model"),
    "nothing": None,
}


@pytest.fixture
def project(client, sessions, tmp_path):
    return build_truth_project(sessions, tmp_path)


def build_truth_project(sessions, tmp_path) -> tuple[int, dict[str, int]]:
    """The project holding every case: (project id, external id -> item id)."""
    pid = make_project(sessions, "truth", ("ham", "spam"), allow_ambiguous=True)
    items = tmp_path / "items.csv"
    ids = [*ANSWERS, "imported_weak", "weak_only", "nothing"]
    ids.remove("gold_disputed")
    items.write_text("id,text\n" + "".join(f"{i},text of {i}\n" for i in ids))
    human = tmp_path / "human.csv"
    human.write_text("id,text,answer\nimported_human,text of imported_human,ham\n")
    weak = tmp_path / "weak.csv"
    weak.write_text("id,text,answer\nimported_weak,text of imported_weak,spam\n")
    gold = tmp_path / "gold.csv"
    gold.write_text("id,text,answer\ngold_disputed,text of gold_disputed,spam\n")
    with session_scope(sessions) as session:
        proj = session.get(Project, pid)
        import_path(session, proj, items)
        import_path(session, proj, human, ImportOptions(label_col="answer", label_kind="human"))
        import_path(session, proj, weak, ImportOptions(label_col="answer", label_kind="weak"))
        import_path(session, proj, gold, ImportOptions(label_col="answer", gold=True))
        ref = dict(
            session.execute(select(Item.external_id, Item.id).where(Item.project_id == pid)).all()
        )
    people = [make_user(sessions, n, "annotator", (pid,)) for n in ("ann", "bob", "cat")]
    sme = make_user(sessions, "sid", "sme", (pid,))
    with session_scope(sessions) as session:
        for ext, answers in ANSWERS.items():
            for person, label in zip(people, answers, strict=True):
                if label is not None:
                    add_labels(session, pid, person.id, [ref[ext]], [label])
        note = "the guideline says links are spam"
        add_adjudication(session, pid, sme.id, ref["adjudicated"], "spam", note)
        add_adjudication(session, pid, sme.id, ref["corrected"], "spam")
    from labelapp.models import User
    from labelapp.services.corrections import correct_label

    with session_scope(sessions) as session:
        correct_label(
            session,
            session.get(User, sme.id),
            ref["corrected"],
            ["ham"],
            "the text is a song lyric, not an ad",
        )
        run = LabelModelRun(project_id=pid, kind="label_model", lf_ids=[], metrics={})
        session.add(run)
        session.flush()
        for ext, label in (("weak_only", "ham"), ("unanimous", "ham"), ("tie", "ham")):
            session.add(
                ProbLabel(
                    project_id=pid,
                    item_id=ref[ext],
                    source="label_model",
                    label=label,
                    confidence=0.93,
                    probs=[0.93, 0.07],
                    label_model_run_id=run.id,
                )
            )
        session.flush()
        # The rows above bypass the services: refresh the resolved-label table as they would.
        refresh_item_labels(session, session.get(Project, pid))
    return pid, ref


def test_every_case_resolves_by_the_one_rule(sessions, project) -> None:
    pid, ref = project
    with session_scope(sessions) as session:
        resolved = resolve_labels(session, session.get(Project, pid))
    got = {ext: resolved.labels.get(item_id) for ext, item_id in ref.items()}
    for ext, expected in EXPECTED.items():
        if expected is None:
            assert got[ext] is None, ext
        else:
            assert got[ext][:2] == expected, ext
    assert got["weak_only"][2] == pytest.approx(0.93)
    # Humans outrank a label model that disagrees with them (unanimous, tie).
    assert got["unanimous"][0] == ["spam"]


@pytest.mark.slow
def test_retrain_agreement_and_export_see_the_same_labels(sessions, project, monkeypatch) -> None:
    from active_learning import retrain as library
    from labelapp.services.agreement import project_agreement
    from labelapp.services.export import export_items
    from labelapp.services.retrain import retrain_project

    pid, ref = project
    by_id = {item_id: ext for ext, item_id in ref.items()}
    human = {
        ext: e
        for ext, e in EXPECTED.items()
        if e and e[1] in ("human", "majority", "adjudicated", "gold", "corrected")
    }
    with session_scope(sessions) as session:
        proj = session.get(Project, pid)
        assert {by_id[i]: lab for i, lab in human_labels(session, proj).items()} == {
            ext: e[0][0] for ext, e in human.items()
        }
        frame, _ = export_items(session, proj)
        exported = {
            by_id[i]: (lab, src)
            for i, lab, src in frame[["item_id", "label", "label_source"]].itertuples(index=False)
        }
        assert exported == {ext: (e[0][0], e[1]) for ext, e in EXPECTED.items() if e}
        model = project_agreement(session, proj, use_cache=False).model
    assert model["available"], model
    assert model["n_train_items"] == len(human)

    seen: dict[str, str] = {}
    real = library.retrain_and_score

    def spy(data, positions, labels, **kwargs):
        seen.update({by_id[ids[p]]: lab for p, lab in zip(positions, labels, strict=True)})
        return real(data, positions, labels, **kwargs)

    with session_scope(sessions) as session:
        ids = list(
            session.scalars(select(Item.id).where(Item.project_id == pid).order_by(Item.position))
        )
    monkeypatch.setattr(library, "retrain_and_score", spy)
    retrain_project(sessions, pid)
    assert seen == {ext: e[0][0] for ext, e in human.items()}


def test_the_review_api_reports_the_same_label_and_source(client, sessions, project) -> None:
    pid, ref = project
    sme = make_user(sessions, "rita", "sme", (pid,))
    listed = client.get(f"/api/projects/{pid}/review?limit=200", headers=sme.headers).get_json()
    by_id = {item_id: ext for ext, item_id in ref.items()}
    got = {by_id[r["item_id"]]: (r["labels"], r["source"]) for r in listed["items"]}
    assert got == {ext: (e[0], e[1]) if e else (None, None) for ext, e in EXPECTED.items()}
    for ext in ("corrected", "imported_weak", "tie"):
        one = client.get(f"/api/projects/{pid}/review/items/{ref[ext]}", headers=sme.headers)
        assert (one.get_json()["item"]["labels"], one.get_json()["item"]["source"]) == got[ext]


def test_multi_label_items_resolve_the_same_everywhere(client, sessions, tmp_path) -> None:
    from labelapp.services.export import export_items

    pid = make_project(sessions, "tags", ("news", "sport", "tech"), multi_label=True)
    path = tmp_path / "tags.csv"
    path.write_text("id,text,tags\na,first text,sport|news\nb,second text,tech\nc,third text,\n")
    weak = tmp_path / "weak.csv"
    weak.write_text("id,text,tags\nc,third text,news|tech\n")
    with session_scope(sessions) as session:
        proj = session.get(Project, pid)
        import_path(session, proj, path, ImportOptions(label_col="tags", label_kind="human"))
        import_path(session, proj, weak, ImportOptions(label_col="tags", label_kind="weak"))
        ref = dict(
            session.execute(select(Item.external_id, Item.id).where(Item.project_id == pid)).all()
        )
    expected = {
        "a": (["news", "sport"], "human"),
        "b": (["tech"], "human"),
        "c": (["news", "tech"], "import"),
    }
    sme = make_user(sessions, "tess", "sme", (pid,))
    with session_scope(sessions) as session:
        proj = session.get(Project, pid)
        resolved = resolve_labels(session, proj).labels
        frame, _ = export_items(session, proj)
    assert {ext: resolved[i][:2] for ext, i in ref.items()} == expected
    exported = {r.item_id: (sorted(r.label), r.label_source) for r in frame.itertuples()}
    assert {ext: exported[i] for ext, i in ref.items()} == expected
    listed = client.get(f"/api/projects/{pid}/review", headers=sme.headers).get_json()["items"]
    assert {r["external_id"]: (r["labels"], r["source"]) for r in listed} == expected
