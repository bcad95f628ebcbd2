"""Drift between two groups of a project's items, chosen by selectors; read from the database and
compared by :func:`labelapp.services.drift.compare.compare_groups`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from labelapp.models import DatasetVersion, ImportBatch, Project
from labelapp.services.drift.names import SELECTOR_HELP, SELECTOR_KINDS
from labelapp.services.drift.read import item_texts, project_items
from labelapp.services.errors import NotFound, UserError

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Selector:
    """``kind`` is import, version, split or column; ``key`` the column's name (column only)."""

    kind: str
    value: str
    key: str = ""

    @classmethod
    def parse(cls, text: str) -> Selector:
        kind, sep, value = text.partition(":")
        if sep and kind in SELECTOR_KINDS and value:
            return cls(kind, value)
        key, sep, value = text.partition("=")
        if sep and key.strip():
            return cls("column", value.strip(), key.strip())
        raise UserError(f"cannot read the selector {text!r}: give {SELECTOR_HELP}")

    def __str__(self) -> str:
        return f"{self.key}={self.value}" if self.kind == "column" else f"{self.kind}:{self.value}"


def select_group(
    session: Session, project: Project, items: pd.DataFrame, selector: Selector
) -> pd.DataFrame:
    """The items ``selector`` picks; :class:`UserError` if it picks none."""
    if selector.kind == "import":
        found = session.scalars(
            select(ImportBatch.id).where(
                ImportBatch.project_id == project.id, ImportBatch.filename == selector.value
            )
        ).all()
        if not found:
            names = session.scalars(
                select(ImportBatch.filename).where(ImportBatch.project_id == project.id).distinct()
            ).all()
            raise NotFound(
                f"no import named {selector.value!r}; the imports are "
                f"{', '.join(sorted(names)) or 'none'}"
            )
        group = items[items["import_id"].isin(found)]
    elif selector.kind == "version":
        group = items[items["item_id"].isin(_version_items(session, project, selector.value))]
    elif selector.kind == "split":
        group = items[items["split"] == selector.value]
    else:
        if selector.key not in items.columns or selector.key in ("item_id", "import_id", "split"):
            raise NotFound(f"no metadata column {selector.key!r} in project {project.name!r}")
        group = items[items[selector.key].astype(str) == selector.value]
    if group.empty:
        raise UserError(f"the selector {selector} picks no items of project {project.name!r}")
    return group


def _version_items(session: Session, project: Project, value: str) -> set[int]:
    from labelapp.services.export.snapshots import get_version, version_snapshot

    if not value.isdigit():
        raise UserError(f"version:{value}: a version is a number, e.g. version:2")
    return _snapshot_ids(version_snapshot(get_version(session, project.id, int(value))))


def _snapshot_ids(snapshot: pd.DataFrame) -> set[int]:
    """A version snapshot's item ids (stored as text) as the database's integers."""
    return {int(x) for x in snapshot["item_id"].tolist()}


def drift_between(
    session: Session,
    project: Project,
    a: str,
    b: str,
    seed: int = 0,
    **thresholds: float | None,
) -> dict[str, Any]:
    """The drift report of group ``b`` against group ``a`` (selectors as text). Reads only.
    ``thresholds``: ``alpha``, ``min_auc``, ``min_ks``, ``min_v`` (:mod:`.rule`; None or absent:
    the settings)."""
    from labelapp.services.drift.compare import compare_groups
    from labelapp.services.drift.rule import DriftRule
    from labelapp.services.drift.stats import draw_samples

    rule = DriftRule.from_settings(**thresholds)  # a wrong threshold fails before any reading
    selectors = [Selector.parse(a), Selector.parse(b)]
    # Texts' lengths for all, the texts themselves only for the samples the text tests look at.
    items = project_items(session, project, texts=False)
    picked = [select_group(session, project, items, s) for s in selectors]
    samples = _with_texts(session, draw_samples(*picked, seed))
    # A column that picks the groups differs between them by construction: it is not compared.
    chosen = [s.key for s in selectors if s.kind == "column"]
    groups, samples = (
        [_features(g).drop(columns=chosen, errors="ignore") for g in frames]
        for frames in (picked, samples)
    )
    return compare_groups(*groups, seed=seed, rule=rule, samples=tuple(samples))


def _with_texts(session: Session, samples: tuple[pd.DataFrame, ...]) -> list[pd.DataFrame]:
    """The samples with each item's ``$text`` (text projects: they have ``$text_length``)."""
    from labelapp.services.drift.stats import TEXT, TEXT_LENGTH

    if TEXT_LENGTH not in samples[0]:
        return list(samples)
    texts = item_texts(session, sorted({int(i) for s in samples for i in s["item_id"]}))
    return [s.assign(**{TEXT: s["item_id"].map(texts)}) for s in samples]


def _features(group: pd.DataFrame) -> pd.DataFrame:
    kept = group.drop(columns=["item_id", "import_id", "split"]).reset_index(drop=True)
    return kept.dropna(axis=1, how="all")


def drift_from_previous(session: Session, project: Project, item_ids: Any) -> dict[str, Any] | None:
    """Drift of the items about to be exported against the previous version's, for its manifest
    (None for a first version, or when the previous snapshot is not on this machine)."""
    from labelapp.services.drift.compare import compare_groups
    from labelapp.services.drift.rule import DriftRule
    from labelapp.services.export.snapshots import version_snapshot

    previous = session.scalar(
        select(DatasetVersion)
        .where(DatasetVersion.project_id == project.id)
        .order_by(DatasetVersion.version.desc())
        .limit(1)
    )
    if previous is None:
        return None
    try:
        before = _snapshot_ids(version_snapshot(previous))
    except UserError:
        return None
    now = {int(i) for i in item_ids}
    if now == before:
        # The same items as the previous version: nothing can have drifted, nothing to compute.
        return {
            "against_version": previous.version,
            "a": len(before),
            "b": len(now),
            "same_items": True,
            "drifted": False,
        }
    items = project_items(session, project, only=before | now)
    report = compare_groups(
        _features(items[items["item_id"].isin(before)]),
        _features(items[items["item_id"].isin(now)]),
        rule=DriftRule.from_settings(),
    )
    return {"against_version": previous.version, **report}
