"""Export a project as a dataset version: resolve labels, split, write files, record the version.

Each item's label, its source and confidence come from :mod:`labelapp.services.labels` (one rule
for every feature). Human labels may go to any split; weak ones (imported predictions, label
model, propagation) stay in train, and probabilistic labels only from ``min_confidence`` up.
The library (:mod:`labelapp.export`) splits and writes; this package reads the rows, stores the
splits back on the items (so the next export keeps them) and records a :class:`DatasetVersion`
whose snapshot lives in the data directory (``versions/project-<id>/v<N>.parquet``).

Modules: :mod:`.request` (what is asked), :mod:`.rows` (what is read), :mod:`.run` (the export),
:mod:`.stages` (progress), :mod:`.unlabeled` (``--include-unlabeled``), :mod:`.snapshots` and
:mod:`.versions` (versions after the fact), :mod:`.job` (the ``export`` job).
"""

from labelapp.services.export.request import (
    FORMATS,
    ExportRequest,
    load_plan,
    plan_from_user,
    request_from,
)
from labelapp.services.export.rows import export_items
from labelapp.services.export.run import export_project, exports_dir, versions_dir
from labelapp.services.export.versions import diff, reexport_version, version_summary

__all__ = [
    "FORMATS",
    "ExportRequest",
    "diff",
    "export_items",
    "export_project",
    "exports_dir",
    "load_plan",
    "plan_from_user",
    "reexport_version",
    "request_from",
    "version_summary",
    "versions_dir",
]
