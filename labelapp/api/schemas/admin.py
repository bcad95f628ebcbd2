"""Users, membership, project lifecycle, label sets and annotator columns (issue 17)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from labelapp.api.schemas.common import Body, Id, LabelName, Name, Out, text
from labelapp.models.roles import MEMBER_ROLES, Role

RoleName = Literal[tuple(r.value for r in Role)]  # type: ignore[valid-type]
MemberRole = Literal[MEMBER_ROLES]  # type: ignore[valid-type]
Hotkey = text(8, 1)
Password = text(200, 8)
ColumnName = text(200, 1)


class AccountOut(Out):
    id: int
    username: str
    display_name: str | None
    role: str
    active: bool
    projects: list[str]
    created_at: str


class AccountList(Out):
    users: list[AccountOut]


class AccountCreate(Body):
    """A new user; the answer shows their password and API token once."""

    username: Name
    role: RoleName
    display_name: text(120) = ""
    projects: Annotated[list[Id], Field(max_length=500)] = []


class AccountPatch(Body):
    active: bool | None = None
    role: RoleName | None = None


class CredentialsOut(Out):
    user: AccountOut
    password: str | None = Field(None, description="shown once")
    token: str | None = Field(None, description="shown once")


class OwnPassword(Body):
    current: text(200, 1)
    new: Password
    repeat: Password


class MemberAddRole(Body):
    username: Name
    role: MemberRole | None = Field(
        None,
        description="the role in this project (default: the highest the account allows; "
        "sme for an annotator account raises the account to sme: admins only)",
    )


class MemberRow(Out):
    id: int
    username: str
    display_name: str | None
    role: str = Field(description="the role in this project")
    account_role: str = Field(description="the account's role: the highest it can have")
    active: bool


class MemberList(Out):
    project_id: int
    sme_manages_members: bool
    members: list[MemberRow]


class RemovedOut(Out):
    project_id: int
    username: str
    leases_released: int


class TeamPolicy(Body):
    sme_manages_members: bool


class ArchiveBody(Body):
    archived: bool


class DeleteBody(Body):
    confirm: text(120) = Field(description="the project's name, typed again")


class ProjectDeletedOut(Out):
    name: str
    rows: dict[str, int]
    files: int


class LabelAdd(Body):
    name: LabelName
    hotkey: Hotkey | None = None


class LabelRename(Body):
    old: LabelName
    new: LabelName


class LabelRetire(Body):
    name: LabelName
    retired: bool = True


class LabelMerge(Body):
    source: LabelName
    target: LabelName
    preview: bool = Field(True, description="only count the answers that would change")


class LabelPlace(Body):
    name: LabelName
    hotkey: Hotkey


class LabelOrder(Body):
    labels: Annotated[list[LabelPlace], Field(min_length=1, max_length=200)]


class LabelSetOut(Out):
    labels: list[dict]
    answers_changed: int = 0
    history: list[dict]


class ColumnsOut(Out):
    default: bool = Field(description="true: the default rule (hide label-like columns)")
    columns: list[dict]


class ColumnsBody(Body):
    columns: Annotated[list[ColumnName], Field(max_length=500)] | None = Field(
        description="the columns annotators see; null: the default rule"
    )
