"""Errors a user can act on: each says what is wrong, where, and how to fix it."""

from __future__ import annotations


class UserError(Exception):
    """A request that cannot be carried out as asked; nothing was changed."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, details: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []

    def __str__(self) -> str:
        if not self.details:
            return self.message
        return self.message + "\n" + "\n".join(f"  - {d}" for d in self.details)


class NotFound(UserError):
    status = 404
    code = "not_found"


class Forbidden(UserError):
    status = 403
    code = "forbidden"


class Conflict(UserError):
    status = 409
    code = "conflict"
