"""Every route of the app, called as every kind of caller: who gets in, and what they may read.

The routes come from the app's URL map; each must have a rule below, so a new route without one
fails ``test_every_route_has_an_access_rule``. Each route is called unauthenticated, with a revoked
token, as a non-member, as an annotator, as an sme account that is only an annotator in the
project (roles are per project), as an sme and as an admin; the status must match the rule,
nothing may answer 5xx, and no answer to an annotator or outsider may carry a forbidden field
(gold answers, other annotators' names, import file names, tracebacks, server paths).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest

from labelapp.db import session_scope
from labelapp.models import Job, Project
from labelapp.services.imports import ImportOptions, import_path
from labelapp.services.users import rotate_token
from tests.app.factories import Account, make_project, make_user
from tests.conftest import csrf_token_from, login

pytestmark = pytest.mark.one_backend  # its subject is not storage (tests/conftest.py)

# Who may call a route: "public" (anyone), "user" (any logged-in user), "member" (a member of the
# project, any role), "reviewer" (sme or admin member), "admin".
PUBLIC, USER, MEMBER, REVIEWER, ADMIN = "public", "user", "member", "reviewer", "admin"


@dataclass
class Rule:
    access: str
    method: str = "GET"
    body: dict[str, Any] | None = None
    query: str = ""
    scoped: bool = True  # the route names a project (or its item/job): outsiders get 404
    form: bool = False  # a page form post (CSRF token, form fields)
    fields: dict[str, str] = field(default_factory=dict)


PY_LF = (
    "from snorkel.labeling import labeling_function\n\n\n@labeling_function()\n"
    "def py_matrix(x):\n    return 1 if 'check' in x.text else -1\n"
)


def _submit() -> dict[str, Any]:
    return {"labels": ["ham"], "client_id": str(uuid.uuid4())}


RULES: dict[str, Rule] = {
    # --- API ---------------------------------------------------------------------------------
    "api.health": Rule(PUBLIC, scoped=False),
    "api.openapi_document": Rule(PUBLIC, scoped=False),
    "api.whoami": Rule(USER, scoped=False),
    "api.list_projects": Rule(USER, scoped=False),
    "api.new_project": Rule(
        ADMIN, "POST", {"name": "made-by-matrix", "labels": ["a", "b"]}, scoped=False
    ),
    "api.get_project": Rule(MEMBER),
    "api.patch_project": Rule(ADMIN, "PATCH", {"batch_size": 10}),
    "api.add_project_member": Rule(ADMIN, "POST", {"username": "carol-new"}),
    "api.list_items": Rule(REVIEWER),
    "api.get_item": Rule(REVIEWER),  # annotators: only items the queue gave them (tested below)
    "api.list_imports": Rule(REVIEWER),
    "api.create_import": Rule(REVIEWER, "POST"),
    "api.next_item": Rule(MEMBER, "POST", {}),
    "api.submit_annotation": Rule(MEMBER, "POST", None),
    "api.skip_item": Rule(MEMBER, "POST", None),
    "api.undo": Rule(MEMBER, "POST", {"client_id": "undo-1"}),
    "api.heartbeat": Rule(MEMBER, "POST", {}),
    "api.release": Rule(MEMBER, "POST", {}),
    "api.progress": Rule(MEMBER),
    "api.list_annotations": Rule(MEMBER),
    "api.list_my_answers": Rule(MEMBER, query="?q=text&label=ham"),
    "api.learning": Rule(REVIEWER),
    "api.list_guidelines": Rule(MEMBER),
    "api.new_guidelines": Rule(REVIEWER, "POST", {"body": "# Rules\nLabel spam as spam."}),
    "api.agreement_report": Rule(ADMIN, query="?wait=0"),  # reports: a job computes them
    "api.adjudication_backlog": Rule(REVIEWER, query="?wait=0"),
    "api.adjudicate_item": Rule(
        REVIEWER,
        "POST",
        {"labels": ["spam"], "client_id": "adj-1", "reason": "says 'check out my channel'"},
    ),
    "api.model_runs": Rule(REVIEWER),
    "api.retrain_now": Rule(REVIEWER, "POST", {}),
    "api.get_job": Rule(REVIEWER),
    "api.cancel_job": Rule(REVIEWER, "POST", {}),  # the world's job is finished: unchanged
    "api.start_export": Rule(REVIEWER, "POST", {"format": "csv"}),
    "api.export_versions": Rule(REVIEWER),
    "api.export_version": Rule(REVIEWER),
    "api.export_diff": Rule(REVIEWER, query="?old=1&new=2"),
    "api.list_lfs": Rule(REVIEWER),
    "api.save_lf": Rule(
        REVIEWER,
        "POST",
        {"name": "kw_matrix", "kind": "keyword", "keywords": ["check out"], "label": "spam"},
    ),
    "api.preview_lf": Rule(
        REVIEWER,
        "POST",
        {"name": "kw_prev", "kind": "keyword", "keywords": ["song"], "label": "ham"},
    ),
    "api.patch_lf": Rule(REVIEWER, "PATCH", {"active": True}),
    "api.lf_versions": Rule(REVIEWER),
    "api.lf_analysis": Rule(REVIEWER, query="?wait=0"),
    "api.preview_python_lf": Rule(REVIEWER, "POST", {"source": PY_LF}),
    "api.save_python_lf": Rule(REVIEWER, "POST", {"source": PY_LF}),
    "api.rename_lf": Rule(REVIEWER, "POST", {"name": "kw_renamed"}),
    "api.delete_lf": Rule(REVIEWER, "DELETE", {}),
    "api.compare_lf_versions": Rule(REVIEWER, query="?other=1"),
    "api.overlap_preview": Rule(ADMIN, query="?overlap_k=2&overlap_share=0.5"),
    "api.overlap_apply": Rule(ADMIN, "POST", {}),
    "api.start_step": Rule(REVIEWER, "POST", {}),
    "api.ws_runs": Rule(REVIEWER),
    "api.prob_labels": Rule(REVIEWER),
    "api.flag_item": Rule(REVIEWER, "POST", {"reason": "offensive", "client_id": "flag-1"}),
    # (annotators flag only the items the queue gave them: tests/app/test_flags.py)
    "api.list_flags": Rule(REVIEWER),
    "api.start_label_issue_scan": Rule(REVIEWER, "POST", {}),
    "api.label_issues": Rule(REVIEWER),
    "api.resolve_flag": Rule(REVIEWER, "POST", {"resolution": "looked at it"}),
    "api.review_list": Rule(REVIEWER, query="?sort=confidence&disagreement=true"),
    "api.review_item_detail": Rule(REVIEWER),
    "api.correct_item": Rule(REVIEWER, "POST", {"labels": ["spam"], "reason": "the link is spam"}),
    "api.review_action": Rule(REVIEWER, "POST", {"item_ids": [1], "action": "requeue", "k": 1}),
    # issue 20: the project schema, drift and slices
    "api.project_schema": Rule(REVIEWER),
    "api.loosen_schema": Rule(ADMIN, "POST", {"column": "$text", "max_value": 100000}),
    "api.project_drift": Rule(REVIEWER, query="?a=import:texts.csv&b=import:texts.csv"),
    "api.project_slices": Rule(REVIEWER),
    # --- pages -------------------------------------------------------------------------------
    "auth.login": Rule(PUBLIC, scoped=False),
    "auth.logout": Rule(USER, "POST", scoped=False, form=True),
    "pages.projects": Rule(USER, scoped=False),
    "pages.create": Rule(
        ADMIN,
        "POST",
        scoped=False,
        form=True,
        fields={"name": "page-made", "labels": "a,b", "task_type": "text", "overlap_k": "1"},
    ),
    "pages.project": Rule(MEMBER),
    "labeling.label_page": Rule(MEMBER),
    "pages.item_image": Rule(REVIEWER),  # annotators: only images the queue gave them
    "pages.import_file": Rule(REVIEWER, "POST", form=True),
    "pages.review_page": Rule(REVIEWER, query="?sort=issue_score&flagged=true"),
    "pages.review_item_page": Rule(REVIEWER),
    "pages.agreement": Rule(ADMIN),
    "pages.agreement_plot": Rule(ADMIN),
    "pages.save_overlap": Rule(ADMIN, "POST", form=True, fields={"overlap_k": "1"}),
    "pages.adjudicate": Rule(REVIEWER),
    "pages.save_guidelines": Rule(REVIEWER, "POST", form=True, fields={"body": "Be careful."}),
    "pages.save_augment_settings": Rule(
        ADMIN, "POST", form=True, fields={"flips_keep_label": "on"}
    ),
    "pages.save_learning": Rule(
        ADMIN,
        "POST",
        form=True,
        fields={
            "strategy": "margin",
            "batch_size": "10",
            "retrain_every": "0",
            "lease_seconds": "600",
        },
    ),
    "pages.retrain": Rule(REVIEWER, "POST", form=True),
    "pages.cancel_job": Rule(REVIEWER, "POST", form=True),
    "pages.save_featurizer": Rule(
        ADMIN, "POST", form=True, fields={"featurizer": "tfidf", "embedding_max_items": "1000"}
    ),
    "pages.lfs_page": Rule(REVIEWER),
    "pages.export_page": Rule(REVIEWER),
    "pages.start_export": Rule(REVIEWER, "POST", form=True, fields={"format": "csv"}),
    "pages.download_version": Rule(REVIEWER),
    "pages.augment_page": Rule(REVIEWER),
    "pages.resolve_flag_page": Rule(REVIEWER, "POST", form=True, fields={"resolution": "done"}),
    # --- issue 17: users, members, lifecycle, label sets, columns (harmless bodies: the matrix
    # calls each route as every caller in turn, on one world; ``user_id`` is the spare user) ---
    "api.list_users": Rule(ADMIN, scoped=False),
    "api.create_user": Rule(
        ADMIN, "POST", {"username": "matrix-made", "role": "annotator"}, scoped=False
    ),
    "api.patch_user": Rule(ADMIN, "PATCH", {"active": True}, scoped=False),
    "api.reset_user_password": Rule(ADMIN, "POST", {}, scoped=False),
    "api.rotate_user_token": Rule(ADMIN, "POST", {}, scoped=False),
    "api.change_my_password": Rule(
        USER,
        "POST",
        {"current": "not-it", "new": "whatever-1", "repeat": "whatever-1"},
        scoped=False,
    ),
    "api.list_project_members": Rule(REVIEWER),
    "api.remove_project_member": Rule(ADMIN, "DELETE", {}),
    "api.patch_team_policy": Rule(ADMIN, "PATCH", {"sme_manages_members": False}),
    "api.archive_project": Rule(ADMIN, "POST", {"archived": False}),
    "api.delete_project": Rule(ADMIN, "POST", {"confirm": "not the name"}),
    "api.get_label_set": Rule(REVIEWER),
    "api.add_label": Rule(REVIEWER, "POST", {"name": "matrix-label"}),
    "api.rename_label": Rule(REVIEWER, "POST", {"old": "no-such", "new": "other"}),
    "api.retire_label": Rule(REVIEWER, "POST", {"name": "matrix-label", "retired": False}),
    "api.merge_labels": Rule(REVIEWER, "POST", {"source": "ham", "target": "spam"}),
    "api.order_labels": Rule(REVIEWER, "PUT", {"labels": [{"name": "ham", "hotkey": "1"}]}),
    "api.get_columns": Rule(REVIEWER),
    "api.put_columns": Rule(REVIEWER, "PUT", {"columns": None}),
    "admin.overview": Rule(ADMIN, scoped=False),
    "admin.users": Rule(ADMIN, scoped=False),
    "admin.create_user": Rule(
        ADMIN,
        "POST",
        scoped=False,
        form=True,
        fields={"username": "page-made", "role": "annotator"},
    ),
    "admin.update_user": Rule(
        ADMIN, "POST", scoped=False, form=True, fields={"action": "reactivate"}
    ),
    "admin.profile": Rule(USER, scoped=False),
    "admin.profile_password": Rule(
        USER,
        "POST",
        scoped=False,
        form=True,
        fields={"current": "not-it", "new": "x" * 9, "repeat": "x" * 9},
    ),
    "admin.profile_token": Rule(USER, "POST", scoped=False, form=True),  # unconfirmed: no change
    "admin.add_member": Rule(ADMIN, "POST", form=True, fields={"username": "gone"}),
    "admin.remove_member": Rule(ADMIN, "POST", form=True),
    "admin.team_policy": Rule(ADMIN, "POST", form=True, fields={"sme_manages_members": "0"}),
    "admin.archive": Rule(ADMIN, "POST", form=True, fields={"archived": "0"}),
    "admin.delete_project": Rule(ADMIN, "POST", form=True, fields={"confirm": "not the name"}),
    "admin.labels": Rule(
        REVIEWER,
        "POST",
        form=True,
        fields={"action": "merge_preview", "source": "ham", "target": "spam"},
    ),
    "admin.columns": Rule(REVIEWER, "POST", form=True, fields={"mode": "default"}),
    "admin.new_project": Rule(ADMIN, scoped=False),
    "admin.import_upload": Rule(REVIEWER),
    "admin.import_columns": Rule(REVIEWER),  # an unknown upload: 404 "upload again"
    "admin.import_run": Rule(REVIEWER, "POST", form=True, fields={"check": "1"}),
    "admin.import_thumbnail": Rule(REVIEWER),  # an unknown upload: 404
    "admin.import_job": Rule(REVIEWER),  # the world's job is no import: 404
}
SKIP = {"static"}

# Texts that must never reach an annotator or an outsider.
GOLD_FILE = "gold-answers-secret.csv"
OTHER_ANNOTATOR = "bob-the-other"
FORBIDDEN = (GOLD_FILE, OTHER_ANNOTATOR, "gold_labels", "is_gold", "Traceback", "traceback")


@dataclass
class World:
    project: int
    other_project: int
    item: int
    image_item: int
    image_project: int
    lf: int
    job: int
    flag: int
    people: dict[str, Account]
    revoked_token: str
    data_dir: str
    spare_user: int = 0  # a user the admin routes may reset and rotate (issue 17)


@pytest.fixture
def world(app, sessions, tmp_path, monkeypatch) -> World:
    from PIL import Image

    from labelapp import config
    from labelapp.services.weak.lfs import save_lf

    pid = make_project(sessions, "matrix", ("ham", "spam"), allow_ambiguous=True)
    other = make_project(sessions, "elsewhere", ("ham", "spam"))
    image_pid = make_project(sessions, "pictures", ("red", "blue"), task_type="image")
    texts = tmp_path / "texts.csv"
    texts.write_text("id,text\n" + "".join(f"t{i},comment number {i}\n" for i in range(6)))
    gold = tmp_path / GOLD_FILE
    gold.write_text("id,text,answer\ng1,a known spam comment,spam\n")
    folder = tmp_path / "imgs"
    folder.mkdir()
    Image.new("RGB", (4, 4), "red").save(folder / "red.png")
    with session_scope(sessions) as session:
        project = session.get(Project, pid)
        import_path(session, project, texts)
        import_path(session, project, gold, ImportOptions(label_col="answer", gold=True))
        import_path(session, session.get(Project, image_pid), folder)
    people = {
        "annotator": make_user(sessions, "alice", "annotator", (pid, image_pid)),
        "sme": make_user(sessions, "sam", "sme", (pid, image_pid)),
        "admin": make_user(sessions, "root", "admin"),
        "outsider": make_user(sessions, "eve", "annotator", (other,)),
        # An sme account, sme elsewhere, but only an annotator in these projects.
        "sme_annotating": make_user(sessions, "sid", "sme", (pid, image_pid), "annotator"),
    }
    with session_scope(sessions) as session:
        from labelapp.models import User as _User
        from labelapp.services.users import add_member

        sid = session.get(_User, people["sme_annotating"].id)
        add_member(session, sid, session.get(Project, other), "sme")
    bob = make_user(sessions, OTHER_ANNOTATOR, "annotator", (pid,))
    revoked = make_user(sessions, "gone", "sme", (pid,))
    from sqlalchemy import select

    from labelapp.models import Item, LabelingFunction, User

    with session_scope(sessions) as session:
        rotate_token(session, session.get(User, revoked.id))
        item = session.scalar(
            select(Item.id).where(Item.project_id == pid, Item.external_id == "t0")
        )
        image_item = session.scalar(select(Item.id).where(Item.project_id == image_pid))
        lf, _ = save_lf(
            session,
            session.get(Project, pid),
            {"name": "kw", "kind": "keyword", "keywords": ["number 1"], "label": "spam"},
            None,
        )
        job = Job(
            project_id=pid,
            kind="retrain",
            status="failed",
            error="it broke",
            traceback=f'Traceback (most recent call last):\n  File "{config.data_dir()}"',
        )
        session.add(job)
        session.flush()
        lf_id, job_id = lf.id, job.id
        _ = session.scalar(select(LabelingFunction.id).where(LabelingFunction.id == lf_id))
    app.test_client().post(  # bob answers t0: alice must never read it
        f"/api/items/{item}/annotations", json=_submit(), headers=bob.headers
    )
    flag = app.test_client().post(
        f"/api/items/{item}/flags",
        headers=bob.headers,
        json={"reason": "other", "comment": f"{OTHER_ANNOTATOR} thinks so", "client_id": "bob-1"},
    )
    return World(
        pid,
        other,
        item,
        image_item,
        image_pid,
        lf_id,
        job_id,
        flag.get_json()["id"],
        people,
        revoked.token,
        str(config.data_dir()),
        spare_user=revoked.id,
    )


def _path(app, endpoint: str, w: World) -> str:
    from flask import url_for

    values = {
        "project_id": w.image_project if endpoint == "pages.item_image" else w.project,
        "item_id": w.image_item if endpoint == "pages.item_image" else w.item,
        "job_id": w.job,
        "flag_id": w.flag,
        "lf_id": w.lf,
        "version": 1,
        "name": "kappa",
        "step": "apply",
        "user_id": w.spare_user,
        "token": "0" * 32,
        "index": 0,
    }
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    with app.test_request_context():
        return url_for(endpoint, **{k: v for k, v in values.items() if k in rule.arguments})


def _expected(rule: Rule, caller: str, api: bool) -> set[int] | None:
    """The statuses allowed for ``caller``; None: let through (anything but 401/403/404/5xx)."""
    if caller == "revoked":
        return {401}  # a bad bearer token is refused, even where no login is needed
    if rule.access == PUBLIC:
        return None
    if caller == "anonymous":
        if rule.form:
            return {400}  # a form without a session has no CSRF token: refused before login
        return {401} if api else {302}
    if caller == "outsider":
        if rule.scoped:
            return {404}
        return {403} if rule.access == ADMIN else None
    rank = {"annotator": 0, "sme_annotating": 0, "sme": 1, "admin": 2}[caller]
    needed = {USER: 0, MEMBER: 0, REVIEWER: 1, ADMIN: 2}[rule.access]
    return {403} if rank < needed else None


@dataclass
class Browser:
    """A caller's logged-in test client and its CSRF token: one login per caller, as a person
    keeps one session for every page (no route of the matrix ends the caller's session)."""

    client: Any
    csrf_token: str


def _browser(app, caller: str, w: World, browsers: dict[str, Browser]) -> Browser:
    if caller not in browsers:
        client = app.test_client()
        who = w.people[caller]
        assert login(client, who.username, who.password).status_code == 302
        browsers[caller] = Browser(client, csrf_token_from(client.get("/").get_data(as_text=True)))
    return browsers[caller]


def _call(app, rule: Rule, path: str, caller: str, w: World, browsers: dict[str, Browser]):
    client = app.test_client()
    headers: dict[str, str] = {}
    api = path.startswith("/api/")
    token = None
    if caller == "revoked":
        headers["Authorization"] = f"Bearer {w.revoked_token}"
    elif caller != "anonymous":
        who = w.people[caller]
        if api:
            headers = dict(who.headers)
        else:
            browser = _browser(app, caller, w, browsers)
            client, token = browser.client, browser.csrf_token
    if rule.method == "GET":
        return client.get(path + rule.query, headers=headers)
    if rule.form:
        data = dict(rule.fields)
        if token is not None:
            data["csrf_token"] = token
        return client.open(path, method=rule.method, data=data, headers=headers)
    body = rule.body if rule.body is not None else _submit()
    return client.open(path, method=rule.method, json=body, headers=headers)


def test_every_route_has_an_access_rule(app) -> None:
    endpoints = {r.endpoint for r in app.url_map.iter_rules()} - SKIP
    missing = sorted(endpoints - set(RULES))
    assert not missing, f"routes without an access rule in {__file__}: {missing}"
    assert not sorted(set(RULES) - endpoints), "rules for routes that no longer exist"


CALLERS = ("anonymous", "revoked", "outsider", "annotator", "sme_annotating", "sme", "admin")
# Who must never read gold answers, other annotators' names, import files or tracebacks.
LIMITED = ("anonymous", "revoked", "outsider", "annotator", "sme_annotating")


@pytest.mark.slow
def test_each_caller_gets_what_its_role_allows(app, world) -> None:
    problems = []
    browsers: dict[str, Browser] = {}
    for endpoint, rule in sorted(RULES.items()):
        if endpoint == "auth.logout":
            continue  # ends the caller's sessions: tested in test_auth
        path = _path(app, endpoint, world)
        for caller in CALLERS:
            if caller == "sme_annotating" and (rule.access == PUBLIC or not rule.scoped):
                continue  # nothing per project there: the annotator's calls cover it
            res = _call(app, rule, path, caller, world, browsers)
            expected = _expected(rule, caller, path.startswith("/api/"))
            text = res.get_data().decode("utf-8", "replace")
            if res.status_code >= 500:
                problems.append(f"{caller} {rule.method} {path}: {res.status_code}")
            elif expected is None and res.status_code in (401, 403, 404):
                # Let through, unless the answer is about what was sent (a missing item etc.)
                if res.status_code != 404 or "member" in text:
                    problems.append(
                        f"{caller} {rule.method} {path}: {res.status_code} {text[:200]}"
                    )
            elif expected is not None and res.status_code not in expected:
                problems.append(
                    f"{caller} {rule.method} {path}: {res.status_code}, expected {sorted(expected)}"
                )
            if caller in LIMITED:
                leaked = [f for f in FORBIDDEN if f in text]
                if world.data_dir in text:
                    leaked.append("the data directory's path")
                if leaked:
                    problems.append(f"{caller} {rule.method} {path} shows {leaked}")
    assert not problems, "\n".join(problems)


@pytest.mark.slow
def test_annotators_see_only_their_own_work(app, world, client) -> None:
    alice, sam = world.people["annotator"], world.people["sme"]
    mine = client.get(f"/api/projects/{world.project}/annotations", headers=alice.headers)
    assert mine.status_code == 200 and mine.get_json()["total"] == 0  # bob's answer is not hers
    others = client.get(
        f"/api/projects/{world.project}/annotations?user={OTHER_ANNOTATOR}", headers=alice.headers
    )
    assert others.status_code == 403
    everyone = client.get(f"/api/projects/{world.project}/annotations", headers=sam.headers)
    assert {a["username"] for a in everyone.get_json()["annotations"]} >= {OTHER_ANNOTATOR}
    # An item: only once the queue gave it to her (it stays readable after she answered it).
    assert client.get(f"/api/items/{world.item}", headers=alice.headers).status_code == 403
    claim = client.post(f"/api/projects/{world.project}/next", headers=alice.headers).get_json()
    assert client.get(f"/api/items/{claim['item']['id']}", headers=alice.headers).status_code == 200
    assert "gold" not in json.dumps(claim).lower()
    assert (
        client.get(f"/api/projects/{world.project}/imports", headers=alice.headers).status_code
        == 403
    )
    # Job errors: members read the message, admins the traceback too.
    sme_job = client.get(f"/api/jobs/{world.job}", headers=sam.headers).get_json()
    assert sme_job["error"] == "it broke" and "traceback" not in sme_job
    admin_job = client.get(f"/api/jobs/{world.job}", headers=world.people["admin"].headers)
    assert admin_job.get_json()["traceback"].startswith("Traceback")


@pytest.mark.slow
def test_a_bearer_header_is_authenticated_or_refused(app, world) -> None:
    """With a junk token, the session cookie is not used instead, and CSRF is not skipped."""
    client = app.test_client()
    sam = world.people["sme"]
    login(client, sam.username, sam.password)
    junk = {"Authorization": "Bearer junk"}
    assert client.get("/api/me", headers=junk).status_code == 401
    posted = client.post(
        f"/api/projects/{world.project}/guidelines", json={"body": "x"}, headers=junk
    )
    assert posted.status_code == 401
    assert (
        client.post(f"/api/projects/{world.project}/guidelines", json={"body": "x"}).status_code
        == 400
    )  # cookie without CSRF token
    assert client.get("/api/me", headers={"Authorization": "Bearer "}).status_code == 401
    assert client.get("/api/me").get_json()["username"] == sam.username
