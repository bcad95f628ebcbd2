"""A project says whether horizontal flips keep its labels; its exports follow."""

from __future__ import annotations

from labelapp.db import session_scope
from labelapp.models import Project
from labelapp.services.export import ExportRequest, plan_from_user
from tests.app.factories import make_project, make_user


def test_flips_setting_is_kept_checked_and_followed_by_exports(client, sessions) -> None:
    project_id = make_project(sessions, "digits", ("0", "1", "2"), task_type="image")
    admin = make_user(sessions, "ada", "admin", (project_id,))
    sme = make_user(sessions, "sid", "sme", (project_id,))
    url = f"/api/projects/{project_id}"
    assert client.get(url, headers=admin.headers).get_json()["flips_keep_label"] is True
    assert (
        client.patch(url, json={"flips_keep_label": "no"}, headers=admin.headers).status_code == 400
    )
    assert (
        client.patch(url, json={"flips_keep_label": False}, headers=sme.headers).status_code == 403
    )
    res = client.patch(url, json={"flips_keep_label": False}, headers=admin.headers)
    assert res.status_code == 200 and res.get_json()["flips_keep_label"] is False

    with session_scope(sessions) as session:
        project = session.get(Project, project_id)
        request = ExportRequest("imagefolder", augment=plan_from_user("light")).checked(project)
        flips = [
            t["__class_fullname__"] for t in request.augment["spec"]["transform"]["transforms"]
        ]
        assert flips == ["RandomBrightnessContrast"]
        # The export's recorded parameters say what was left out, and why.
        params = request.to_params()["augment"]
        assert params["removed_transforms"] == ["HorizontalFlip"]
        assert "flips change its labels" in params["removed_because"]
        project.flips_keep_label = True
        kept = ExportRequest("imagefolder", augment=plan_from_user("light")).checked(project)
        assert "removed_transforms" not in kept.augment
        assert (
            kept.augment["spec"]["transform"]["transforms"][0]["__class_fullname__"]
            == "HorizontalFlip"
        )
