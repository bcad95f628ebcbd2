"""Switching the weak-supervision and retrain steps between in process and a Dask cluster, for
the tests that compare the two (the cluster is the module's ``dask_scheduler`` fixture)."""

from __future__ import annotations

import pytest


class Engines:
    """In process, or part by part on the cluster at ``address`` (``part_items`` per part)."""

    def __init__(
        self, monkeypatch: pytest.MonkeyPatch, address: str, n_items: int, part_items: int
    ) -> None:
        self.monkeypatch, self.address = monkeypatch, address
        self.n_items, self.part_items = n_items, part_items

    def pandas(self) -> None:
        self.monkeypatch.delenv("LABELAPP_DASK_SCHEDULER", raising=False)
        self.monkeypatch.setenv("LABELAPP_DASK_MIN_ITEMS", str(10 * self.n_items))

    def dask(self) -> None:
        self.monkeypatch.setenv("LABELAPP_DASK_SCHEDULER", self.address)
        self.monkeypatch.setenv("LABELAPP_DASK_MIN_ITEMS", str(self.n_items // 2))
        self.monkeypatch.setenv("LABELAPP_DASK_PART_ITEMS", str(self.part_items))


def keyword_project(sessions, tmp_path, n_items: int, label_every: int) -> dict:
    """``n_items`` real comments (TF-IDF, the featurizer of projects past the embedding limit),
    every ``label_every``-th answered with its true class, the three keyword LFs applied in
    process: ``project``, ``ids``, ``human`` (item -> class) and ``others`` (the rest's truth)."""
    from labelapp.db import session_scope
    from labelapp.models import Project
    from labelapp.services.labels import refresh_item_labels
    from labelapp.services.weak.lfs import save_lf
    from labelapp.services.weak.votes import apply_lfs
    from tests.app.factories import add_items, add_labels, make_project, make_user
    from tests.app.youtube import KEYWORD_LFS, demo_comments

    texts, truth = demo_comments(n_items)
    project_id = make_project(sessions, "yt", ("ham", "spam"))
    ids = add_items(sessions, project_id, texts, tmp_path)
    ann = make_user(sessions, "ann", "annotator", (project_id,))
    labeled = list(range(0, n_items, label_every))
    with session_scope(sessions) as session:
        project = session.get(Project, project_id)
        project.featurizer = "tfidf"
        add_labels(
            session, project_id, ann.id, [ids[i] for i in labeled], [truth[i] for i in labeled]
        )
        for spec in KEYWORD_LFS:
            save_lf(session, project, dict(spec), None)
        session.flush()
        refresh_item_labels(session, project)
    apply_lfs(sessions, project_id)
    human = {ids[i]: truth[i] for i in labeled}
    others = {ids[i]: truth[i] for i in range(n_items) if i % label_every}
    return {"project": project_id, "ids": ids, "human": human, "others": others}
