"""The roles a user (and a project membership) can have: defined once, cheap to import."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """``admin`` manages everything; ``sme`` reviews and writes labeling functions; ``annotator`` labels."""

    ADMIN = "admin"
    SME = "sme"
    ANNOTATOR = "annotator"


# What a membership may grant inside one project (admins see every project without one).
MEMBER_ROLES: tuple[str, ...] = (Role.SME.value, Role.ANNOTATOR.value)
