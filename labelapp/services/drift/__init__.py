"""Drift between two groups of items: per-column two-sample tests, text, a domain classifier and
the human labels (library part: :mod:`.compare`, no Flask or database; :mod:`.service` reads the
groups from the database)."""
