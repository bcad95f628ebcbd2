"""An adjudication is the final training label and never erases the reviewer's own answer."""

from __future__ import annotations

from labelapp.db import session_scope
from labelapp.models import Project
from labelapp.services.labels import human_labels
from labelapp.services.overview import live_labels
from tests.app.factories import add_adjudication, add_items, add_labels, make_project, make_user


def test_adjudication_overrides_the_vote_but_keeps_answers(sessions, tmp_path) -> None:
    project_id = make_project(sessions, "adj", ("ham", "spam"))
    (item_id,) = add_items(sessions, project_id, ["free gift cards"], tmp_path)
    ann = make_user(sessions, "ann", "annotator", (project_id,))
    rev = make_user(sessions, "rev", "sme", (project_id,))
    with session_scope(sessions) as session:
        for user in (ann, rev):
            add_labels(session, project_id, user.id, [item_id], ["ham"])
        session.flush()
        note = "links to a channel: spam by the guidelines"
        add_adjudication(session, project_id, rev.id, item_id, "spam", note)
    with session_scope(sessions) as session:
        answers = sorted((u, tuple(lab)) for _, u, lab in live_labels(session, project_id))
        assert answers == [(ann.id, ("ham",)), (rev.id, ("ham",))]
        assert human_labels(session, session.get(Project, project_id)) == {item_id: "spam"}
