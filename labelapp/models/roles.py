"""The roles a user (and a project membership) can have: defined once, cheap to import.

An account's role decides global things (admins manage users and every project) and is the
highest role its holder can have in a project; a membership's role (annotator or sme) decides
what the user is in that project."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """``admin`` manages everything; ``sme`` reviews and writes labeling functions;
    ``annotator`` labels."""

    ADMIN = "admin"
    SME = "sme"
    ANNOTATOR = "annotator"


# What a membership may grant inside one project (admins see every project without one).
MEMBER_ROLES: tuple[str, ...] = (Role.SME.value, Role.ANNOTATOR.value)


def highest_member_role(account_role: str) -> str:
    """The highest role an account may hold in a project: its own role (sme for an admin
    account, which needs no membership). An annotator account is an annotator everywhere."""
    return Role.ANNOTATOR.value if account_role == Role.ANNOTATOR.value else Role.SME.value


def role_in_project(account_role: str, member_role: str | None) -> str | None:
    """What a user is inside one project: ``admin`` for admins (every project), else the
    membership's role capped by the account's role; None for a non-member."""
    if account_role == Role.ADMIN.value:
        return Role.ADMIN.value
    if member_role is None:
        return None
    if highest_member_role(account_role) == Role.ANNOTATOR.value:
        return Role.ANNOTATOR.value
    return member_role if member_role in MEMBER_ROLES else Role.ANNOTATOR.value
