"""Checking a project's featurizer settings (cheap: what the settings form, the API and
:func:`labelapp.services.projects.update_settings` validate against)."""

from __future__ import annotations

from labelapp.services.errors import UserError

#: The largest embedding size limit one may set.
MAX_EMBEDDING_ITEMS_LIMIT = 10_000_000


def check_featurizer_settings(changes: dict) -> dict:
    """The featurizer settings of ``changes``, checked (a bad value raises UserError)."""
    from active_learning.names import FEATURIZER_NAMES

    checked: dict = {}
    if "featurizer" in changes:
        if changes["featurizer"] not in FEATURIZER_NAMES:
            raise UserError(
                f"unknown featurizer {changes['featurizer']!r}; choose one of "
                f"{', '.join(FEATURIZER_NAMES)}"
            )
        checked["featurizer"] = changes["featurizer"]
    if "embedding_max_items" in changes:
        value = changes["embedding_max_items"]
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or not (0 <= value <= MAX_EMBEDDING_ITEMS_LIMIT)
        ):
            raise UserError(
                f"embedding_max_items must be a whole number from 0 to {MAX_EMBEDDING_ITEMS_LIMIT}"
            )
        checked["embedding_max_items"] = value
    return checked
