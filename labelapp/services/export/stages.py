"""An export's stages ``(stage, done, total)`` as a job's progress fraction."""

from __future__ import annotations

from collections.abc import Callable

from labelapp.progress import Progress

# Share of a job's progress bar per stage: reading rows, the library's stages, storing the version.
_STAGES = {
    "read": (0.0, 0.15),
    "splits": (0.15, 0.35),
    "augment": (0.35, 0.6),
    "write": (0.6, 0.9),
    "manifest": (0.9, 0.95),
    "store": (0.95, 1.0),
}


class JobProgress:
    """The library's ``(stage, done, total)`` calls as a job's fraction, at most every 1 %."""

    def __init__(self, report: Progress) -> None:
        self.report = report
        self.last = -1.0

    def __call__(self, stage: str, done: int, total: int) -> None:
        low, high = _STAGES.get(stage, (0.0, 1.0))
        fraction = low + (high - low) * (done / total if total else 1.0)
        if fraction - self.last >= 0.01 or done == total:
            self.last = fraction
            self.report(fraction, f"{stage}: {done:,} of {total:,}")


StageProgress = Callable[[str, int, int], None]


def no_progress(stage: str, done: int, total: int) -> None:
    return None
