"""Results of a job's parts kept on disk until the job stores them all in one transaction, so the
job process holds one part at a time (LF votes, probabilistic labels)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


class PartSpool:
    """Each part's named arrays as one ``.npz`` file in ``directory`` (a temporary directory the
    caller removes); ``n_rows`` counts the rows of the first array of every part."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.files: list[Path] = []
        self.n_rows = 0

    def add(self, **arrays: np.ndarray) -> None:
        import numpy as np

        path = self.directory / f"part{len(self.files)}.npz"
        np.savez(path, **arrays)
        self.files.append(path)
        self.n_rows += len(next(iter(arrays.values())))

    def parts(self, *names: str) -> Iterator[tuple[np.ndarray, ...]]:
        """The arrays ``names`` of each part, in the order the parts were added."""
        import numpy as np

        for path in self.files:
            with np.load(path) as part:
                yield tuple(part[name] for name in names)
