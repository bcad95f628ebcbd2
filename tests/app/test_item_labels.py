"""The resolved-label table (what the review page reads) stays equal to a fresh resolve of every
case of the label-truth project after each kind of write, on SQLite and PostgreSQL."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import delete, func, select

from labelapp.db import session_scope
from labelapp.models import Flag, Item, ItemLabel, LabelIssue, LabelModelRun, Project, User
from labelapp.models.item_labels import NO_SCORE
from labelapp.services.labels import refresh_item_labels, resolve_labels
from labelapp.services.overview import live_labels
from tests.app.factories import make_project, make_user
from tests.app.test_label_truth import EXPECTED, build_truth_project

COLUMNS = (
    ItemLabel.item_id,
    ItemLabel.labels,
    ItemLabel.label,
    ItemLabel.source,
    ItemLabel.confidence,
    ItemLabel.n_answers,
    ItemLabel.disagreement,
    ItemLabel.issue_score,
    ItemLabel.flagged,
)


def _stored(session, pid: int) -> dict[int, tuple]:
    rows = session.execute(select(*COLUMNS).where(ItemLabel.project_id == pid))
    return {r[0]: tuple(r[1:]) for r in rows}


def check(sessions, pid: int) -> dict[int, tuple]:
    """Assert the table equals a fresh resolve (label, source, confidence), the answers, scan
    and flags read independently, and a full recompute; return the rows."""
    with session_scope(sessions) as session:
        project = session.get(Project, pid)
        stored = _stored(session, pid)
        items = set(session.scalars(select(Item.id).where(Item.project_id == pid)))
        assert set(stored) == items
        fresh = resolve_labels(session, project).labels
        answers: dict[int, list[list[str]]] = {}
        for item_id, _user, labels in live_labels(session, pid):
            answers.setdefault(item_id, []).append(sorted(labels))
        run = session.scalar(select(func.max(LabelIssue.run_id)))
        scores = dict(
            session.execute(
                select(LabelIssue.item_id, LabelIssue.score).where(LabelIssue.run_id == run)
            ).all()
        )
        flagged = set(
            session.scalars(
                select(Flag.item_id).where(Flag.project_id == pid, Flag.resolved_at.is_(None))
            )
        )
        for item_id, (labels, _key, source, confidence, n, disagree, score, flag) in stored.items():
            want = fresh.get(item_id)
            got = None if labels is None else (labels, source, confidence)
            assert got == (None if want is None else (want[0], want[1], pytest.approx(want[2])))
            given = answers.get(item_id, [])
            assert n == len(given) and disagree == (len({tuple(a) for a in given}) > 1)
            assert score == pytest.approx(scores.get(item_id, NO_SCORE))
            assert flag == (item_id in flagged)
        nested = session.begin_nested()
        refresh_item_labels(session, project)
        recomputed = _stored(session, pid)
        nested.rollback()
    assert stored == recomputed
    return stored


def _user(session, account) -> User:
    user = session.get(User, account.id)
    assert user is not None
    return user


def _source(sessions, item_id: int) -> tuple:
    with session_scope(sessions) as session:
        row = session.get(ItemLabel, item_id)
        return (row.labels, row.source) if row is not None else (None, None)


@pytest.mark.slow
def test_the_table_follows_every_kind_of_write(sessions, db_url, tmp_path) -> None:
    from labelapp.migrate import backfill_item_labels, upgrade
    from labelapp.services.adjudication import adjudicate
    from labelapp.services.corrections import correct_label
    from labelapp.services.flags import flag_item, resolve_flag
    from labelapp.services.imports import ImportOptions, import_path
    from labelapp.services.label_sets import merge_labels, rename_label, set_hotkeys_and_order
    from labelapp.services.project_lifecycle import delete_project
    from labelapp.services.queue import record, undo_last
    from labelapp.services.weak.models import replace_prob_labels

    pid, ref = build_truth_project(sessions, tmp_path)
    rows = check(sessions, pid)
    assert {ext: rows[i][2] for ext, i in ref.items()} == {
        ext: e[1] if e else None for ext, e in EXPECTED.items()
    }
    accounts = {name: make_user(sessions, name, "annotator", (pid,)) for name in ("dan", "eve")}
    sid = make_user(sessions, "sue", "sme", (pid,))

    with session_scope(sessions) as session:  # submit: a first answer wins over the weak label
        record(
            session,
            _user(session, accounts["dan"]),
            ref["weak_only"],
            kind="label",
            labels=["spam"],
            client_id="s1",
        )
    check(sessions, pid)
    assert _source(sessions, ref["weak_only"]) == (["spam"], "human")

    with session_scope(sessions) as session:  # skip: dan's answer on a tie is a skip
        record(
            session, _user(session, accounts["dan"]), ref["nothing"], kind="skip", client_id="s2"
        )
    check(sessions, pid)

    with session_scope(sessions) as session:  # undo: the first answer again (then unanswered)
        project = session.get(Project, pid)
        undo_last(session, project, _user(session, accounts["dan"]), "u1")
        undo_last(session, project, _user(session, accounts["dan"]), "u2")
    check(sessions, pid)
    assert _source(sessions, ref["weak_only"]) == (["ham"], "label_model")

    with session_scope(sessions) as session:  # correction
        correct_label(session, _user(session, sid), ref["tie"], ["spam"], "links are spam")
    check(sessions, pid)
    assert _source(sessions, ref["tie"]) == (["spam"], "corrected")

    with session_scope(sessions) as session:  # adjudication
        adjudicate(
            session,
            _user(session, sid),
            ref["ambiguous_and_one"],
            labels=["ham"],
            reason="a greeting",
            client_id="a1",
        )
    check(sessions, pid)
    assert _source(sessions, ref["ambiguous_and_one"]) == (["ham"], "adjudicated")

    with session_scope(sessions) as session:  # a flag, then its resolution
        flag, _ = flag_item(
            session,
            _user(session, sid),
            ref["majority"],
            reason="other",
            comment="odd",
            client_id="f1",
        )
        flag_id = flag.id
    assert check(sessions, pid)[ref["majority"]][-1] is True
    with session_scope(sessions) as session:
        resolve_flag(session, _user(session, sid), flag_id, "fine as it is")
    assert check(sessions, pid)[ref["majority"]][-1] is False

    labeled = tmp_path / "more.csv"  # an import: new items, and labels for an existing one
    labeled.write_text(
        "id,text,answer\nonly_ambiguous,text of only_ambiguous,ham\nnew_one,a new text,spam\n"
    )
    gold = tmp_path / "gold2.csv"
    gold.write_text("id,text,answer\nnew_gold,a gold text,ham\n")
    with session_scope(sessions) as session:
        project = session.get(Project, pid)
        import_path(
            session, project, labeled, ImportOptions(label_col="answer", label_kind="human")
        )
        import_path(session, project, gold, ImportOptions(label_col="answer", gold=True))
        found = select(Item.external_id, Item.id).where(Item.project_id == pid)
        ref.update(dict(session.execute(found).all()))
    check(sessions, pid)
    assert _source(sessions, ref["new_one"]) == (["spam"], "human")
    assert _source(sessions, ref["new_gold"]) == (["ham"], "gold")

    with session_scope(sessions) as session:  # a label model's probabilistic labels
        run = LabelModelRun(project_id=pid, kind="label_model", lf_ids=[], metrics={})
        session.add(run)
        session.flush()
        targets = np.array([ref["nothing"], ref["new_one"]])
        replace_prob_labels(
            session,
            pid,
            "label_model",
            run.id,
            targets,
            np.array([[0.2, 0.8], [0.9, 0.1]]),
            ["ham", "spam"],
        )
    check(sessions, pid)
    assert _source(sessions, ref["nothing"]) == (["spam"], "label_model")
    assert _source(sessions, ref["weak_only"]) == (None, None)  # the old run's label is gone

    with session_scope(sessions) as session:  # label-set changes
        project = session.get(Project, pid)
        rename_label(session, None, project, "ham", "ok")
    check(sessions, pid)
    assert _source(sessions, ref["tie"]) == (["spam"], "corrected")
    assert _source(sessions, ref["majority"])[0] == ["ok"]
    with session_scope(sessions) as session:
        project = session.get(Project, pid)
        order = [(lab.name, lab.hotkey) for lab in reversed(project.labels)]
        set_hotkeys_and_order(session, None, project, order)  # clears the weak labels
    check(sessions, pid)
    assert _source(sessions, ref["nothing"]) == (None, None)
    with session_scope(sessions) as session:
        merge_labels(session, None, session.get(Project, pid), "ok", "spam")
    rows = check(sessions, pid)
    assert {r[0][0] for r in rows.values() if r[0]} == {"spam"}

    with session_scope(sessions) as session:  # `db upgrade` fills rows that are missing
        session.execute(
            delete(ItemLabel).where(ItemLabel.item_id.in_([ref["tie"], ref["majority"]]))
        )
    upgrade(db_url)  # what `labelapp db upgrade` runs
    assert backfill_item_labels(db_url) == {}  # nothing missing any more
    check(sessions, pid)

    with session_scope(sessions) as session:  # deleting the project deletes its rows
        delete_project(session, session.get(Project, pid), "truth")
    with session_scope(sessions) as session:
        assert session.scalar(select(func.count()).select_from(ItemLabel)) == 0


def test_a_scan_refreshes_the_scores_of_both_scans(sessions, tmp_path) -> None:
    from labelapp.services.label_issues import scan
    from labelapp.services.queue import record

    pid, ref = build_truth_project(sessions, tmp_path)
    first = scan(sessions, pid)
    rows = check(sessions, pid)
    assert first["scored"] > 0
    assert sum(1 for r in rows.values() if r[6] != NO_SCORE) == first["scored"]
    with session_scope(sessions) as session:  # both annotators skip: no longer human-labeled
        for name in ("ann", "bob"):
            user = session.scalar(select(User).where(User.username == name))
            record(session, user, ref["unanimous"], kind="skip", client_id=f"skip-{name}")
    second = scan(sessions, pid)
    rows = check(sessions, pid)
    assert sum(1 for r in rows.values() if r[6] != NO_SCORE) == second["scored"]
    assert second["scored"] == first["scored"] - 1 and rows[ref["unanimous"]][6] == NO_SCORE


def test_the_refresh_command_rebuilds_rows_written_behind_the_services(sessions, tmp_path) -> None:
    from click.testing import CliRunner

    from labelapp.cli import main

    pid, ref = build_truth_project(sessions, tmp_path)
    with session_scope(sessions) as session:  # an answer written straight into the database
        session.execute(delete(ItemLabel).where(ItemLabel.item_id == ref["tie"]))
        session.add(
            Flag(project_id=pid, item_id=ref["nothing"], reason="other", comment="", client_id="x")
        )
    result = CliRunner().invoke(main, ["db", "refresh-labels", "--project", "truth"])
    assert result.exit_code == 0, result.output
    assert f"truth: {len(ref):,} items" in result.output
    assert check(sessions, pid)[ref["nothing"]][-1] is True


def test_the_label_filter_finds_each_label_of_multi_label_items(client, sessions, tmp_path) -> None:
    from labelapp.services.errors import UserError
    from labelapp.services.imports import ImportOptions, import_path
    from labelapp.services.projects import parse_label_list

    pid = make_project(sessions, "tags", ("news", "sport", "tech"), multi_label=True)
    path = tmp_path / "tags.csv"
    path.write_text(
        "id,text,tags\na,one,sport|news\nb,two,tech\nc,three,news|tech|sport\nd,four,\n"
    )
    with session_scope(sessions) as session:
        import_path(session, session.get(Project, pid), path, ImportOptions(label_col="tags"))
    sme = make_user(sessions, "tess", "sme", (pid,))
    check(sessions, pid)

    def listed(query: str) -> set[str]:
        page = client.get(f"/api/projects/{pid}/review?{query}", headers=sme.headers).get_json()
        return {r["external_id"] for r in page["items"]}

    assert listed("label=news") == {"a", "c"}
    assert listed("label=tech") == {"b", "c"}
    assert listed("label=sport&source=human") == {"a", "c"}
    assert listed("unlabeled=true") == {"d"}
    with pytest.raises(UserError, match="control character"):
        parse_label_list(["news\x1fsport"])  # the separator of the filter's key


def test_the_count_stops_at_the_cap(client, sessions, tmp_path, monkeypatch) -> None:
    from labelapp.services import review

    pid, ref = build_truth_project(sessions, tmp_path)
    sme = make_user(sessions, "rita", "sme", (pid,))
    url = f"/api/projects/{pid}/review?sort=item&order=asc&limit=4"
    exact = client.get(url, headers=sme.headers).get_json()
    assert (exact["total"], exact["total_exact"]) == (len(ref), True)
    monkeypatch.setattr(review, "COUNT_CAP", 5)
    capped = client.get(url, headers=sme.headers).get_json()
    assert (capped["total"], capped["total_exact"]) == (5, False)
    assert [r["item_id"] for r in capped["items"]] == sorted(ref.values())[:4]
    page = client.get(f"/projects/{pid}/review?sort=item", headers=sme.headers)
    assert "more than 5</strong> items match" in page.get_data(as_text=True)
