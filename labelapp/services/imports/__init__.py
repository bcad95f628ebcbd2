"""Import: read a file or folder, validate every row, then store it all in one transaction.

The names below load the importer (and pandas) on first use, so that the package's light
modules (:mod:`.archive`) can be imported by a web process without it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from labelapp.services.imports.importer import ImportOptions, ImportReport, import_path

__all__ = ["ImportOptions", "ImportReport", "import_path"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from labelapp.services.imports import importer

        return getattr(importer, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
