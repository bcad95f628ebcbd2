"""Import: read a file or folder, validate every row, then store it all in one transaction."""

from labelapp.services.imports.importer import ImportOptions, ImportReport, import_path

__all__ = ["ImportOptions", "ImportReport", "import_path"]
