"""Small builders for test data, going through the real services."""

from __future__ import annotations

from dataclasses import dataclass

from labelapp.db import session_scope
from labelapp.services.projects import create_project
from labelapp.services.users import add_member, create_user


@dataclass
class Account:
    id: int
    username: str
    password: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def make_user(sessions, username: str, role: str, projects: tuple[int, ...] = ()) -> Account:  # noqa: ANN001
    password = f"pw-{username}-123"
    with session_scope(sessions) as session:
        user, token = create_user(session, username, role, password=password)
        from labelapp.models import Project

        for project_id in projects:
            add_member(session, user, session.get(Project, project_id))
        return Account(user.id, username, password, token)


def make_project(
    sessions, name: str = "p", labels: tuple[str, ...] = ("ham", "spam"), **kwargs
) -> int:  # noqa: ANN001, ANN003
    with session_scope(sessions) as session:
        return create_project(session, name, list(labels), **kwargs).id
