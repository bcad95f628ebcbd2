"""Drift selectors' kinds, defined once and cheap to import."""

# A selector is KIND:VALUE for these kinds, or COLUMN=VALUE for a metadata column.
SELECTOR_KINDS = ("import", "version", "split")
SELECTOR_HELP = "import:FILENAME, version:N, split:NAME or COLUMN=VALUE"
