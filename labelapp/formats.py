"""The file formats labelapp reads and writes, named once (cheap to import: no pandas, no Flask).

Pages, the API schemas, the CLI choices and the readers and writers all take them from here.
"""

from __future__ import annotations

# What `labelapp export` / the export page / POST /api/projects/{id}/exports can write.
EXPORT_FORMATS: tuple[str, ...] = (
    "csv",
    "jsonl",
    "parquet",
    "huggingface",
    "imagefolder",
    "label_studio",
)
DEFAULT_EXPORT_FORMAT = "parquet"

# What `labelapp import` and the import forms can read ("images" is a folder of image files).
IMPORT_FORMATS: tuple[str, ...] = ("csv", "tsv", "jsonl", "parquet", "images", "label_studio")
# The tabular ones, which a single uploaded file may hold.
TABLE_FORMATS: tuple[str, ...] = ("csv", "tsv", "jsonl", "parquet")

# A table file's format from its extension.
TABLE_SUFFIXES: dict[str, str] = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}
