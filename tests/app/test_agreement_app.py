"""Agreement and adjudication through the API, the pages and the CLI, on a hand-made overlap
project.

Three annotators answer the same items; the expected numbers are computed here from the answer
table with independent code (scikit-learn's Cohen's kappa, the textbook alpha in
``tests/alpha_reference.py``, the textbook pair-agreement formula), not by the library under test.
"""

from __future__ import annotations

import uuid
from collections import Counter

import numpy as np
import pytest
from click.testing import CliRunner
from sklearn.metrics import cohen_kappa_score
from sqlalchemy import select

from labelapp.cli.agreement import agreement as agreement_cli
from labelapp.db import session_scope
from labelapp.models import Annotation, Project
from labelapp.services.labels import human_labels
from labelapp.services.projects import save_guideline
from tests.alpha_reference import reference_alpha
from tests.app.factories import add_items, import_gold, make_project, make_user, post_answer
from tests.conftest import csrf_token_from, login

TEXTS = [
    "free gift cards at my channel",
    "lovely song, brings back memories",
    "check my page for cheap followers",
    "the drummer is great in this one",
    "subscribe to win an iphone",
    "I listen to this every morning",
    "click the link for free money",
    "what a voice, amazing",
]
# Answers per item (t0..t7) by annotators ann, bob, cat; "ambiguous" stays out of the metrics.
ANSWERS = {
    "t0": ("spam", "spam", "spam"),
    "t1": ("ham", "ham", "ham"),
    "t2": ("spam", "ham", "spam"),  # disagreement
    "t3": ("ham", "ham", "spam"),  # disagreement
    "t4": ("spam", "spam", "ambiguous"),
    "t5": ("ham", "ham", "ham"),
    "t6": ("spam", "spam", "spam"),
    "t7": ("ham", "ham", "ham"),
    "g1": ("spam", "ham", "spam"),  # a gold item (known answer: spam); disagreement, known answer
}
NAMES = ("ann", "bob", "cat")
FIRST_UNDER_V1 = ("t0", "t1", "t2", "t3")  # the rest are answered under guideline version 2


@pytest.fixture
def world(client, sessions, tmp_path, inline_jobs):
    project_id = make_project(
        sessions, "overlap", ("ham", "spam"), allow_ambiguous=True, overlap_k=3
    )
    add_items(sessions, project_id, TEXTS, tmp_path)
    gold = tmp_path / "gold.csv"
    gold.write_text("id,text,answer\ng1,win a free phone now,spam\n")
    ids = import_gold(sessions, project_id, gold)
    people = {name: make_user(sessions, name, "annotator", (project_id,)) for name in NAMES}
    world = {
        "project": project_id,
        "ids": ids,
        "people": people,
        "sme": make_user(sessions, "sid", "sme", (project_id,)),
        "outsider": make_user(sessions, "olga", "sme"),
        "admin": make_user(sessions, "root", "admin"),
    }

    def answer(refs) -> None:
        for ref in refs:
            for name, label in zip(NAMES, ANSWERS[ref], strict=True):
                body = {"labels": [label], "client_id": str(uuid.uuid4())}
                res = client.post(
                    f"/api/items/{ids[ref]}/annotations", json=body, headers=people[name].headers
                )
                assert res.status_code == 201, res.get_json()

    answer(FIRST_UNDER_V1)
    with session_scope(sessions) as session:
        save_guideline(
            session, session.get(Project, project_id), "Links to channels are spam.", None
        )
    answer([ref for ref in ANSWERS if ref not in FIRST_UNDER_V1])
    return world


def expected() -> dict:
    """The metrics of ANSWERS computed independently (ambiguous answers left out)."""
    rows = {
        ref: [lab if lab != "ambiguous" else None for lab in labels]
        for ref, labels in ANSWERS.items()
    }
    per_item = []
    for labels in rows.values():
        given = [x for x in labels if x is not None]
        counts = Counter(given)
        n = len(given)
        per_item.append(sum(c * (c - 1) for c in counts.values()) / (n * (n - 1)))
    code = {"ham": 0, "spam": 1}
    matrix = np.array(
        [[code[x] if x is not None else np.nan for x in labels] for labels in rows.values()]
    ).T  # annotators x items
    alpha = reference_alpha(matrix, "nominal")
    ann, bob = ([labels[k] for labels in rows.values()] for k in (0, 1))
    # Human level: each answer against the unique majority of the other two (leave-one-out).
    agree = compared = 0
    items = set()
    for ref, labels in rows.items():
        for k, mine in enumerate(labels):
            others = Counter(x for j, x in enumerate(labels) if j != k and x is not None)
            top = others.most_common()
            if mine is None or not top or (len(top) > 1 and top[0][1] == top[1][1]):
                continue
            compared += 1
            agree += mine == top[0][0]
            items.add(ref)
    return {
        "percent": float(np.mean(per_item)),
        "alpha": float(alpha),
        "kappa_ann_bob": float(cohen_kappa_score(ann, bob)),
        "human": agree / compared,
        "human_n": compared,
        "human_items": len(items),
    }


@pytest.mark.slow
def test_agreement_numbers_through_the_api(client, sessions, world) -> None:
    pid = world["project"]
    res = client.get(f"/api/projects/{pid}/agreement", headers=world["admin"].headers)
    assert res.status_code == 200, res.get_json()
    data = res.get_json()
    want = expected()
    report = data["report"]
    assert report["n_items"] == 9 and report["n_annotators"] == 3
    assert report["n_overlap_items"] == 9
    assert report["percent_agreement"]["estimate"] == pytest.approx(want["percent"])
    assert report["krippendorff_alpha"]["nominal"]["estimate"] == pytest.approx(want["alpha"])
    low, high = (report["percent_agreement"][k] for k in ("low", "high"))
    assert low <= want["percent"] <= high
    kappa = report["kappa"]
    i, j = kappa["annotators"].index("ann"), kappa["annotators"].index("bob")
    assert kappa["values"][i][j] == pytest.approx(want["kappa_ann_bob"])
    human = {row["label"]: row for row in report["human_level"]}["overall"]
    assert human["human"] == pytest.approx(want["human"]) and human["n"] == want["human_n"]

    # Gold accuracy per annotator on g1 (known: spam).
    gold = {row["annotator"]: row["gold_accuracy"] for row in report["annotators"]}
    assert gold == {"ann": 1.0, "bob": 0.0, "cat": 1.0}
    # Ambiguous answers are counted, not used.
    assert data["answers"] == {"total": 27, "single_label": 26, "ambiguous": 1, "multi_label": 0}
    assert data["ambiguous"]["per_annotator"] == [
        {"annotator": "cat", "ambiguous": 1, "answers": 9}
    ]
    # The backlog: the two disputed items; the disputed gold item has a known answer.
    ids = world["ids"]
    assert data["adjudication"]["backlog"] == 2
    assert {row["item"] for row in report["disagreements"]} == {ids["t2"], ids["t3"]}
    # Guideline versions: 4 items (12 answers) under v1, the rest under v2.
    versions = {row["guideline_version"]: row for row in data["by_guideline_version"]}
    assert versions[1]["n_answers"] == 12 and versions[2]["n_answers"] == 14
    assert versions[1]["percent_agreement"] == pytest.approx((1 + 1 + 1 / 3 + 1 / 3) / 4)
    # The model stands next to the human level on the same answers.
    model = data["model"]
    assert model["available"] and "cross-validation" in model["method"]
    overall = model["table"][0]
    assert overall["label"] == "overall" and overall["n"] == want["human_n"]
    assert overall["items"] == want["human_items"]
    assert overall["human"] == pytest.approx(want["human"])
    assert 0.0 <= overall["model"] <= 1.0
    with session_scope(sessions) as session:  # trained on the labels the queue's retrain uses
        project = session.get(Project, pid)
        assert model["n_train_items"] == len(human_labels(session, project))

    # The page shows the same numbers, and its plots are real PNGs.
    login(client, "root", world["admin"].password)
    page = client.get(f"/projects/{pid}/agreement").get_data(as_text=True)
    assert f"{want['percent']:.3f}" in page and "Adjudicate (2)" in page
    assert "fitted model is not stored" in page
    for name in ("kappa", "annotators", "guidelines"):
        png = client.get(f"/projects/{pid}/agreement/{name}.png")
        assert png.status_code == 200 and png.data[:8] == b"\x89PNG\r\n\x1a\n", name
    # Every answer came today: one period, so no chart over time yet (the page says why).
    assert client.get(f"/projects/{pid}/agreement/time.png").status_code == 404
    assert "All answers so far came in one day" in page
    assert len(data["over_time"]["periods"]) == 1 and data["over_time"]["freq"] == "D"


@pytest.mark.slow
def test_adjudication_through_the_api(client, sessions, world) -> None:
    pid, ids, sme = world["project"], world["ids"], world["sme"]
    backlog = client.get(f"/api/projects/{pid}/adjudication", headers=sme.headers).get_json()
    assert backlog["total"] == 2
    first = backlog["entries"][0]
    assert first["item"]["id"] in (ids["t2"], ids["t3"]) and first["reason"] == "disagreement"
    assert {a["annotator"]: a["labels"] for a in first["answers"]} == dict(
        zip(
            NAMES,
            ([x] for x in ANSWERS["t2" if first["item"]["id"] == ids["t2"] else "t3"]),
            strict=True,
        )
    )
    assert first["suggestion"] in ("ham", "spam") and 0.5 <= first["confidence"] <= 1.0

    url = f"/api/items/{ids['t2']}/adjudication"
    body = {"labels": ["spam"], "reason": "links to another page are spam", "client_id": "adj-1"}
    made = client.post(url, json=body, headers=sme.headers)
    assert made.status_code == 201, made.get_json()
    again = client.post(url, json=body, headers=sme.headers)  # a retry stores nothing new
    assert again.status_code == 200 and again.get_json()["id"] == made.get_json()["id"]
    for bad, message in (
        ({**body, "client_id": "adj-2", "labels": ["ambiguous"]}, "cannot be the final label"),
        ({**body, "client_id": "adj-3", "reason": "  "}, "write a reason"),
        ({**body, "client_id": "adj-4", "labels": ["eggs"]}, "unknown label"),
    ):
        res = client.post(url, json=bad, headers=sme.headers)
        assert res.status_code == 400 and message in res.get_json()["error"]["message"]
    missing = client.post(
        "/api/items/999999/adjudication", json={**body, "client_id": "adj-5"}, headers=sme.headers
    )
    assert missing.status_code == 404 and "no item 999999" in missing.get_json()["error"]["message"]
    with session_scope(sessions) as session:
        rows = session.execute(
            select(
                Annotation.kind,
                Annotation.source,
                Annotation.user_id,
                Annotation.labels,
                Annotation.note,
                Annotation.guideline_version,
            ).where(Annotation.kind == "adjudicate")
        ).all()
    assert rows == [
        ("adjudicate", "adjudication", sme.id, ["spam"], "links to another page are spam", 2)
    ]
    left = client.get(f"/api/projects/{pid}/adjudication", headers=sme.headers).get_json()
    assert left["total"] == 1 and left["entries"][0]["item"]["id"] == ids["t3"]
    # Ambiguous answers join the backlog on request; low confidence too.
    more = client.get(
        f"/api/projects/{pid}/adjudication?include_ambiguous=1", headers=sme.headers
    ).get_json()
    assert [e["item"]["id"] for e in more["entries"]] == [ids["t3"], ids["t4"]]
    assert more["entries"][1]["reason"] == "ambiguous"
    everything = client.get(
        f"/api/projects/{pid}/adjudication?min_confidence=1.01", headers=sme.headers
    )
    assert everything.status_code == 400
    unsure = client.get(
        f"/api/projects/{pid}/adjudication?min_confidence=1", headers=sme.headers
    ).get_json()
    assert unsure["total"] >= 1 and ids["t2"] not in [e["item"]["id"] for e in unsure["entries"]]

    report = client.get(
        f"/api/projects/{pid}/agreement?model=0&n_resamples=0", headers=world["admin"].headers
    ).get_json()
    assert report["adjudication"]["backlog"] == 1 and report["adjudication"]["adjudicated"] == 1


@pytest.mark.slow
def test_annotators_and_outsiders_cannot_open_agreement_or_adjudication(client, world) -> None:
    pid, item = world["project"], world["ids"]["t2"]
    body = {"labels": ["spam"], "reason": "r", "client_id": "x-1"}
    annotator = world["people"]["ann"]
    api_routes = [
        ("GET", f"/api/projects/{pid}/agreement"),
        ("GET", f"/api/projects/{pid}/adjudication"),
        ("POST", f"/api/items/{item}/adjudication"),
    ]
    for method, path in api_routes:
        res = client.open(path, method=method, json=body, headers=annotator.headers)
        assert res.status_code == 403, (method, path, res.status_code)
        res = client.open(path, method=method, json=body, headers=world["outsider"].headers)
        assert res.status_code == 404, (method, path, res.status_code)
    body = {"body": "Spam is advertising."}
    refused = client.post(f"/api/projects/{pid}/guidelines", json=body, headers=annotator.headers)
    assert refused.status_code == 403
    made = client.post(f"/api/projects/{pid}/guidelines", json=body, headers=world["sme"].headers)
    assert made.status_code == 201 and made.get_json()["version"] == 3
    same = client.post(f"/api/projects/{pid}/guidelines", json=body, headers=world["sme"].headers)
    assert same.status_code == 200 and same.get_json()["version"] == 3  # unchanged: no new version
    # An SME reviews but does not see the admins' agreement report.
    sme_view = client.get(f"/api/projects/{pid}/agreement", headers=world["sme"].headers)
    assert sme_view.status_code == 403
    login(client, "ann", annotator.password)
    for path in (
        f"/projects/{pid}/agreement",
        f"/projects/{pid}/agreement/kappa.png",
        f"/projects/{pid}/adjudicate",
    ):
        assert client.get(path).status_code == 403, path
    token = csrf_token_from(client.get(f"/projects/{pid}").get_data(as_text=True))
    for path in (f"/projects/{pid}/agreement/settings", f"/projects/{pid}/guidelines"):
        assert (
            client.post(path, data={"csrf_token": token, "overlap_k": "5", "body": "x"}).status_code
            == 403
        ), path
    project_page = client.get(f"/projects/{pid}").get_data(as_text=True)
    assert "adjudicate-link" not in project_page and "agreement-link" not in project_page


def test_cli_report_prints_the_same_numbers(world, db_url) -> None:
    result = CliRunner().invoke(
        agreement_cli, ["report", "--project", "overlap", "--resamples", "200"]
    )
    assert result.exit_code == 0, result.output
    want = expected()
    out = result.output
    assert out.splitlines()[0].startswith("26 answers by 3 annotators on 9 items (9 with 2+")
    assert f"percent agreement      {want['percent']:.3f}" in out
    assert "to adjudicate: 2 items" in out
    assert {line.split()[0] for line in out.splitlines() if "disagreement" in line} == {"t2", "t3"}
    assert "ambiguous answers: 1 of 27" in out
    assert "agreement per guideline version" in out and "human level and the model" in out
    missing = CliRunner().invoke(agreement_cli, ["report", "--project", "nope"])
    assert missing.exit_code != 0 and "no project named 'nope'" in missing.output


@pytest.mark.slow
def test_pages_work_before_there_is_overlap_and_numbers_follow_new_labels(
    app, client, sessions, tmp_path, inline_jobs
) -> None:
    pid = make_project(sessions, "fresh", ("ham", "spam", "eggs"), overlap_k=2)
    ids = add_items(sessions, pid, ["one", "two", "three"], tmp_path)
    ann, bob = (make_user(sessions, n, "annotator", (pid,)) for n in ("ann", "bob"))
    admin = make_user(sessions, "root", "admin")
    browser = app.test_client()  # logged in as the admin; the API calls go by token
    login(browser, "root", admin.password)
    empty = client.get(f"/api/projects/{pid}/agreement", headers=admin.headers).get_json()
    assert empty["report"] is None and empty["adjudication"]["backlog"] == 0
    assert "No item has a label yet" in browser.get(f"/projects/{pid}/agreement").get_data(
        as_text=True
    )
    assert browser.get(f"/projects/{pid}/agreement/kappa.png").status_code == 404

    post_answer(client, ann, ids[0], "ham")
    # One annotator, one label used of three: no overlap yet.
    post_answer(client, ann, ids[1], "ham")
    one = client.get(f"/api/projects/{pid}/agreement", headers=admin.headers).get_json()
    assert (
        one["report"]["n_overlap_items"] == 0
        and one["report"]["percent_agreement"]["estimate"] is None
    )
    assert one["model"] is None  # no answer has a reference to compare with
    assert browser.get(f"/projects/{pid}/agreement").status_code == 200
    post_answer(client, bob, ids[0], "spam")  # the cached report gives way to the new answer
    two = client.get(f"/api/projects/{pid}/agreement", headers=admin.headers).get_json()
    assert two["report"]["n_overlap_items"] == 1 and two["adjudication"]["backlog"] == 1
    assert two["report"]["percent_agreement"]["estimate"] == 0.0
    page = browser.get(f"/projects/{pid}/agreement").get_data(as_text=True)

    # The settings that shape agreement, from the same page: overlap, gold rate, guidelines.
    token = csrf_token_from(page)
    saved = browser.post(
        f"/projects/{pid}/agreement/settings",
        data={"csrf_token": token, "overlap_k": "3", "overlap_share": "0.25", "gold_rate": "0.1"},
    )
    assert saved.status_code == 302
    project = client.get(f"/api/projects/{pid}", headers=admin.headers).get_json()
    assert (project["overlap_k"], project["overlap_share"], project["gold_rate"]) == (3, 0.25, 0.1)
    refused = browser.post(
        f"/projects/{pid}/agreement/settings",
        data={"csrf_token": token, "overlap_share": "2"},
        follow_redirects=True,
    )
    assert "overlap_share must be a number from 0.0 to 1.0" in refused.get_data(as_text=True)
    browser.post(f"/projects/{pid}/guidelines", data={"csrf_token": token, "body": "Eggs: food."})
    versions = client.get(f"/api/projects/{pid}/guidelines", headers=ann.headers).get_json()
    assert [(g["version"], g["body"]) for g in versions["guidelines"]] == [
        (1, ""),
        (2, "Eggs: food."),
    ]
    post_answer(client, bob, ids[1], "ham")  # answered under version 2
    three = client.get(f"/api/projects/{pid}/agreement", headers=admin.headers).get_json()
    assert [(g["guideline_version"], g["n_answers"]) for g in three["by_guideline_version"]] == [
        (1, 3),
        (2, 1),
    ]
