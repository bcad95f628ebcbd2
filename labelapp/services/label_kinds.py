"""What an imported label is (cheap to import: the CLI, the API and the web form use it).

``human``: labels people gave (a vendor's annotations, a curated data set); they count like
annotators' answers (any split, training data for the queue's model, the agreement page's truth).
``weak``: labels a program or heuristic gave; they count like a label model's (train only, with
their confidence, the export keeping those from its ``min_confidence`` up).
"""

from __future__ import annotations

LABEL_KINDS = ("human", "weak")
# The annotation source of imported human labels and the ProbLabel source of imported weak ones.
IMPORTED_HUMAN_SOURCE = "human"
IMPORTED_WEAK_SOURCE = "import"
# The deprecated ``--label-source NAME``: these names meant people's labels, any other a program's.
_LEGACY_HUMAN_NAMES = frozenset({"human", "adjudicated", "gold"})


def kind_from_legacy_source(name: str) -> str:
    """The label kind a deprecated ``label_source`` name stood for."""
    return "human" if name.strip().lower() in _LEGACY_HUMAN_NAMES else "weak"


def check_kind(kind: str | None) -> str | None:
    """``kind`` if it is one of :data:`LABEL_KINDS` (or None); else a ValueError saying which."""
    if kind in (None, "", *LABEL_KINDS):
        return kind or None
    raise ValueError(f"label kind {kind!r}: give one of {', '.join(LABEL_KINDS)}")
