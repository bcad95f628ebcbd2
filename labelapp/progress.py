"""How long-running work reports how far it is: one protocol for every job step and service."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    """Called with the fraction done (0 to 1) and a short message for people."""

    def __call__(self, fraction: float, message: str) -> None: ...


def quiet(fraction: float, message: str) -> None:
    """The default progress callback: report nothing."""
