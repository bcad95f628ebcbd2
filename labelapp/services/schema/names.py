"""Names of the schema check, defined once and cheap to import (no pandas, no pandera)."""

from __future__ import annotations

from typing import Any

SCHEMA_MODES = ("strict", "evolve")
DEFAULT_SCHEMA_MODE = "strict"
SCHEMA_MODE_TEXT = {
    "strict": "strict: refuse another type, a missing column, empty strings against nulls",
    "evolve": "evolve: accept the file as the schema's next version",
}
# In the message of a file refused under strict (the import wizard's job page finds it there to
# offer checking the file again under evolve).
SCHEMA_REFUSAL = "problem(s) against the project's schema"

# The item's text is checked as a column of this name (no metadata key can start with '$' in
# a schema we infer, so it never collides with a metadata column).
TEXT_COLUMN = "$text"
# An image project's schema: each image's properties, read by the image importer (width and
# height in pixels, PIL's mode such as RGB or L, and its file format such as PNG or JPEG).
IMAGE_COLUMNS = {"$width": "width", "$height": "height", "$mode": "mode", "$format": "format"}
IMAGE_SIZE_COLUMNS = ("$width", "$height")
IMAGE_MODE_COLUMN = "$mode"
# Sizes within this factor of the smallest and largest seen pass; beyond it an image is "far
# outside" what was seen (the text length's slack, TEXT_LENGTH_SLACK, is the same factor).
IMAGE_SIZE_SLACK = 4

# What one value is, before it is compared with the column's declared type.
KINDS = ("null", "empty", "bool", "int", "float", "str", "json")

# Problem kinds a report lists per column. Under ``strict`` the blocking ones refuse the file.
PROBLEM_KINDS = {
    "type": "values of another type",
    "missing_column": "a required column is missing",
    "empty_string": "empty strings where the schema has none (it had nulls or values)",
    "null": "nulls (missing values) where the schema has none",
    "new_column": "a column the schema does not have",
    "out_of_range": "values outside the schema's range",
    "new_value": "values outside the schema's allowed set",
    "length": "text length outside what the schema allows",
    "image_mode": "images of another mode (channels) than the schema's, e.g. L among RGB",
}
# An image's mode is its type (another number of channels): refused like a type change.
BLOCKING = ("type", "missing_column", "empty_string", "null", "image_mode")

# A declared type and its pandas dtype in the stored (pandera) schema.
DTYPES = {
    "int": "Int64",
    "float": "Float64",
    "bool": "boolean",
    "str": "string",
    "json": "object",
    "mixed": "object",
}


def type_of(column: dict[str, Any]) -> str:
    """The declared type (int, float, bool, str, json, mixed) of a schema column."""
    dtype = str(column.get("dtype", "object"))
    if dtype.startswith("string") or dtype in ("str", "object_str"):
        return "str"
    return {
        "Int64": "int",
        "int64": "int",
        "Float64": "float",
        "float64": "float",
        "boolean": "bool",
        "bool": "bool",
    }.get(dtype, "mixed")
