"""Train/dev/test splits: stratified, grouped, duplicate-aware, stable, seeded, human-only eval.

Input is one row per item (columns in :func:`assign_splits`); output is one split name per row
(``<NA>`` for items left out) and a :class:`~augment.balance.BalanceReport`.

Rules, in order:

1. Only labeled items take part. Items whose label source is human (``human_sources``) may go to
   any split; other labeled items (label model, propagation, model) go to train only, and only
   when ``confidence >= min_confidence``.
2. Items linked by the same group key, the same content hash, the same normalized text or a
   near-duplicate text form one component; a component never straddles splits.
3. Unless ``resplit=True``, an item with an existing split keeps it, and new items join the split
   of their component's placed items (their majority, human items first, when a new duplicate
   link joins items placed apart: those keep their splits, and the report counts the component
   as straddling). The one move: a non-human item found in dev/test goes to train.
4. The remaining components with human items are placed so that, per label, human counts approach
   ``ratios``: multi-item components greedily (largest first, each where it best fills what its
   labels still need), then single items by a seeded shuffle per label. Components with no human
   item go to train; a non-human item in a dev/test component is left out (never in evaluation).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from augment.balance import BalanceReport, balance_report
from augment.duplicates import find_duplicates, linked_components

SPLIT_NAMES = ("train", "dev", "test")
HUMAN_SOURCES = ("human", "adjudicated", "corrected")
# An evaluation split with fewer items of a class than this gets a warning in the report.
MIN_EVAL_PER_CLASS = 10


@dataclass(frozen=True)
class SplitResult:
    """Per input row (same index): split name (``<NA>`` = left out) and component id (``-1``)."""

    splits: pd.Series
    report: BalanceReport
    components: pd.Series


def label_keys(labels: pd.Series) -> pd.Series:
    """Labels as strings; a multi-label list or tuple becomes its sorted labels joined by ``|``."""

    def key(value: object) -> object:
        if isinstance(value, list | tuple | set | frozenset | np.ndarray):
            return "|".join(sorted(str(v) for v in value)) if len(value) else None
        return value

    if labels.dtype == object and pd.api.types.infer_dtype(labels, skipna=True) == "mixed":
        labels = labels.map(key)  # only list-likes make the inferred type "mixed"
    return labels.where(labels.isna(), labels.astype(str))


def _validate(
    items: pd.DataFrame, ratios: Sequence[float], split_names: Sequence[str]
) -> np.ndarray:
    for column in ("item_id", "label"):
        if column not in items.columns:
            raise ValueError(
                f"assign_splits: items has no {column!r} column; give one row per item with "
                "columns item_id, label and optionally label_source, confidence, group_key, text, "
                "content_hash, split"
            )
    duplicated = items["item_id"].duplicated()
    if duplicated.any():
        raise ValueError(
            f"assign_splits: item_id {items.loc[duplicated, 'item_id'].iloc[0]!r} appears more "
            "than once; give one row per item (resolve its label first)"
        )
    if len(set(split_names)) != len(split_names) or len(split_names) < 1:
        raise ValueError(f"assign_splits: split names {list(split_names)} must be distinct")
    ratio_array = np.asarray(ratios, dtype=float)
    if (
        len(ratio_array) != len(split_names)
        or not np.isfinite(ratio_array).all()
        or (ratio_array < 0).any()
        or not np.isclose(ratio_array.sum(), 1.0)
    ):
        raise ValueError(
            f"assign_splits: ratios {list(ratios)} must be {len(split_names)} non-negative numbers "
            f"summing to 1, one per split {list(split_names)} (e.g. 0.8,0.1,0.1)"
        )
    return ratio_array


def _largest_remainder(total: int, weights: np.ndarray) -> np.ndarray:
    """Split ``total`` into integers proportional to ``weights`` (Hamilton's method)."""
    if total == 0 or weights.sum() <= 0:
        return np.zeros(len(weights), dtype=np.int64)
    raw = weights / weights.sum() * total
    counts = np.floor(raw).astype(np.int64)
    order = np.argsort(-(raw - counts), kind="stable")
    counts[order[: total - counts.sum()]] += 1
    return counts


@dataclass(frozen=True)
class _Pool:
    """The items that take part (rule 1), in item-id order, and their components (rule 2)."""

    rows: np.ndarray  # each pooled item's position in the id-sorted frame
    sub: pd.DataFrame  # the pooled items' rows
    human: np.ndarray  # per pooled item: its label is human
    label_codes: np.ndarray  # per pooled item: its label's code
    n_labels: int
    component: np.ndarray  # per pooled item: its component id
    n_components: int
    source: pd.Series  # per row of the id-sorted frame: its label source


def assign_splits(
    items: pd.DataFrame,
    *,
    random_state: int,
    ratios: Sequence[float] = (0.8, 0.1, 0.1),
    split_names: Sequence[str] = SPLIT_NAMES,
    resplit: bool = False,
    min_confidence: float = 0.0,
    human_sources: Sequence[str] = HUMAN_SOURCES,
    near_duplicate_threshold: float | None = 0.7,
) -> SplitResult:
    """Assign each item to a split by the module's rules; the first split name is the train split.

    Columns: ``item_id`` (unique), ``label`` (missing = unlabeled; a list = multi-label, stratified
    as its label set); optional ``label_source`` (default ``"human"``; an item whose annotators
    disagreed and that no one adjudicated should carry another source so it stays out of dev and
    test), ``confidence`` (for non-human labels; missing counts as 0), ``group_key`` (items sharing
    it stay together), ``content_hash`` (equal hashes stay together), ``text`` (exact and
    near-duplicate texts stay together), ``split`` (the previous assignment).
    ``near_duplicate_threshold`` is the word-bigram Jaccard similarity from which two texts count
    as near duplicates (``None``: exact duplicates only). The result does not depend on row order.
    """
    ratio_array = _validate(items, ratios, split_names)
    names = list(split_names)
    rng = np.random.default_rng(random_state)
    notes: dict[str, int] = {}

    order = np.argsort(items["item_id"].to_numpy(), kind="stable")
    frame = items.iloc[order].reset_index(drop=True)
    pool = _pool(frame, min_confidence, human_sources, near_duplicate_threshold, notes)
    comp_split = np.full(pool.n_components, -1, dtype=np.int64)
    keep: np.ndarray | None = None  # per pooled item: the split it keeps (-1: not placed)
    if "split" in pool.sub and not resplit:
        keep = _keep_previous(pool, comp_split, names, notes)
    _place_free(pool, comp_split, ratio_array, rng)
    row_split = _row_splits(pool, comp_split, keep, notes)
    return _result(items, order, pool, row_split, names, ratio_array, human_sources, notes)


def _pool(
    frame: pd.DataFrame,
    min_confidence: float,
    human_sources: Sequence[str],
    near_duplicate_threshold: float | None,
    notes: dict[str, int],
) -> _Pool:
    """Rule 1: labeled human items and confident weak ones, with their linked components."""
    labels = label_keys(frame["label"])
    labeled = labels.notna().to_numpy()
    if "label_source" in frame:
        source = frame["label_source"].astype("string").fillna("human")
    else:
        source = pd.Series("human", index=frame.index, dtype="string")
    is_human = labeled & source.isin(list(human_sources)).to_numpy(dtype=bool)
    if "confidence" in frame:
        confidence = pd.to_numeric(frame["confidence"], errors="coerce").fillna(0.0).to_numpy()
    else:
        confidence = np.ones(len(frame))
    is_weak = labeled & ~is_human & (confidence >= min_confidence)
    notes["unlabeled"] = int((~labeled).sum())
    notes["weak_below_min_confidence"] = int((labeled & ~is_human & ~is_weak).sum())

    rows = np.flatnonzero(is_human | is_weak)
    sub = frame.iloc[rows].reset_index(drop=True)
    label_codes, label_values = pd.factorize(labels.iloc[rows], sort=True)
    component = _components(sub, near_duplicate_threshold)
    return _Pool(
        rows=rows,
        sub=sub,
        human=is_human[rows],
        label_codes=label_codes,
        n_labels=len(label_values),
        component=component,
        n_components=int(component.max()) + 1 if len(component) else 0,
        source=source,
    )


def _components(sub: pd.DataFrame, near_duplicate_threshold: float | None) -> np.ndarray:
    """Rule 2: per row a component id linking shared group keys, hashes and (near-)equal texts."""
    keys = []
    if "group_key" in sub:
        keys.append(pd.factorize(sub["group_key"], use_na_sentinel=True)[0])
    if "content_hash" in sub:
        keys.append(pd.factorize(sub["content_hash"], use_na_sentinel=True)[0])
    pairs = None
    if "text" in sub:
        # Fixed hashing seed: which texts are duplicates is a property of the data, not of
        # the split seed (a seed-dependent answer would move items between exports).
        links = find_duplicates(sub["text"], threshold=near_duplicate_threshold, random_state=0)
        keys.append(links.exact)
        pairs = links.near_pairs
    return linked_components(len(sub), keys=keys, pairs=pairs)


def _previous_codes(pool: _Pool, names: list[str], notes: dict[str, int]) -> np.ndarray:
    """Per pooled item its previous split's code (-1: none); weak items in dev/test go to train."""
    existing = pool.sub["split"].astype("string")
    unknown = existing.notna() & ~existing.isin(names)
    if unknown.any():
        raise ValueError(
            f"assign_splits: item {pool.sub.loc[unknown, 'item_id'].iloc[0]!r} has split "
            f"{existing[unknown].iloc[0]!r}, not one of {names}; fix it or pass resplit=True"
        )
    fixed = pd.Categorical(existing, categories=names).codes.astype(np.int64)
    moved = (fixed > 0) & ~pool.human
    notes["weak_moved_from_eval_to_train"] = int(moved.sum())
    fixed[moved] = 0
    return fixed


def _keep_previous(
    pool: _Pool, comp_split: np.ndarray, names: list[str], notes: dict[str, int]
) -> np.ndarray | None:
    """Rule 3: set each component with placed items to their majority split (in ``comp_split``);
    return per pooled item the split it keeps (-1: not placed), ``None`` if none is placed."""
    fixed = _previous_codes(pool, names, notes)
    placed = np.flatnonzero(fixed >= 0)
    if not len(placed):
        return None
    # Majority split of each component's placed items (human items count, weak ones
    # only where a component has no placed human item); ties go to the later split, so
    # evaluation sets keep their items.
    n_splits = len(names)
    weight = np.where(pool.human[placed], 1_000_000, 1)
    votes = np.zeros((pool.n_components, n_splits), dtype=np.int64)
    np.add.at(votes, (pool.component[placed], fixed[placed]), weight)
    has_vote = votes.sum(axis=1) > 0
    chosen = n_splits - 1 - np.argmax(votes[:, ::-1], axis=1)
    comp_split[has_vote] = chosen[has_vote]
    apart = comp_split[pool.component[placed]] != fixed[placed]
    notes["kept_split_in_straddling_component"] = int(apart.sum())
    notes["straddling_components"] = int(np.unique(pool.component[placed[apart]]).size)
    keep = np.full(len(pool.sub), -1, dtype=np.int64)
    keep[placed] = fixed[placed]
    return keep


def _place_free(
    pool: _Pool, comp_split: np.ndarray, ratio_array: np.ndarray, rng: np.random.Generator
) -> None:
    """Rule 4: place the unplaced components in ``comp_split``: those with no human item in
    train, the others so that per-label human counts approach the ratios."""
    component, human = pool.component, pool.human
    human_per_component = np.bincount(component[human], minlength=pool.n_components)
    comp_split[(comp_split < 0) & (human_per_component == 0)] = 0

    target = np.outer(ratio_array, np.bincount(pool.label_codes[human], minlength=pool.n_labels))
    current = np.zeros((len(ratio_array), pool.n_labels))
    known = human & (comp_split[component] >= 0)
    np.add.at(current, (comp_split[component[known]], pool.label_codes[known]), 1)
    remaining = target - current

    free_component = comp_split < 0
    multi = np.flatnonzero(free_component & (human_per_component > 1))
    scale = np.maximum(target, 1.0)
    _place_multi(pool, comp_split, multi, human_per_component, remaining, scale, ratio_array, rng)
    single_rows = np.flatnonzero(
        human & free_component[component] & (human_per_component[component] == 1)
    )
    _place_singles(pool, comp_split, single_rows, remaining, ratio_array, rng)


def _place_multi(
    pool: _Pool,
    comp_split: np.ndarray,
    multi: np.ndarray,
    human_per_component: np.ndarray,
    remaining: np.ndarray,
    scale: np.ndarray,
    ratio_array: np.ndarray,
    rng: np.random.Generator,
) -> None:
    """Place multi-item components greedily, largest first, each where it best fills what its
    labels still need (updates ``comp_split`` and ``remaining``)."""
    if not len(multi):
        return
    component, human = pool.component, pool.human
    position_of = np.full(pool.n_components, -1, dtype=np.int64)
    position_of[multi] = np.arange(len(multi))
    in_multi = human & (position_of[component] >= 0)
    vectors = np.zeros((len(multi), pool.n_labels))
    np.add.at(vectors, (position_of[component[in_multi]], pool.label_codes[in_multi]), 1.0)
    sequence = np.lexsort((rng.permutation(len(multi)), -human_per_component[multi]))
    closed = ratio_array == 0
    for position in sequence:
        vector = vectors[position]
        # Gain in sum of squared relative shortfall: fills need, penalizes overshoot.
        gain = ((2 * remaining - vector) * vector / scale).sum(axis=1)
        gain[closed] = -np.inf
        choice = int(np.argmax(gain))
        comp_split[multi[position]] = choice
        remaining[choice] -= vector


def _place_singles(
    pool: _Pool,
    comp_split: np.ndarray,
    single_rows: np.ndarray,
    remaining: np.ndarray,
    ratio_array: np.ndarray,
    rng: np.random.Generator,
) -> None:
    """Place single-human-item components per label by a seeded shuffle, splitting each label's
    items by what each split still needs (updates ``comp_split`` and ``remaining``)."""
    n_splits = len(ratio_array)
    for label in range(pool.n_labels):
        members = single_rows[pool.label_codes[single_rows] == label]
        if not len(members):
            continue
        want = np.clip(remaining[:, label], 0, None)
        allocation = _largest_remainder(len(members), want if want.sum() > 0 else ratio_array)
        shuffled = members[rng.permutation(len(members))]
        comp_split[pool.component[shuffled]] = np.repeat(np.arange(n_splits), allocation)
        remaining[:, label] -= allocation


def _row_splits(
    pool: _Pool, comp_split: np.ndarray, keep: np.ndarray | None, notes: dict[str, int]
) -> np.ndarray:
    """Per pooled item its split code (-1: left out): its component's, or the one it keeps;
    a weak item in an evaluation split is left out. Records the component notes."""
    component, human = pool.component, pool.human
    row_split = comp_split[component] if len(component) else np.empty(0, dtype=np.int64)
    if keep is not None:  # placed items keep their split (weak ones in dev/test moved above)
        row_split = np.where(keep >= 0, keep, row_split)
    weak_in_eval = ~human & (row_split > 0)
    notes["weak_left_out_in_eval_component"] = int(weak_in_eval.sum())
    row_split = np.where(weak_in_eval, -1, row_split)
    notes["weak_in_train"] = int((~human & (row_split == 0)).sum())
    notes["components"] = pool.n_components
    sizes = np.bincount(component, minlength=pool.n_components) if len(component) else np.zeros(0)
    notes["multi_item_components"] = int((sizes > 1).sum())
    notes["largest_component"] = int(sizes.max()) if len(sizes) else 0
    return row_split


def _result(
    items: pd.DataFrame,
    order: np.ndarray,
    pool: _Pool,
    row_split: np.ndarray,
    names: list[str],
    ratio_array: np.ndarray,
    human_sources: Sequence[str],
    notes: dict[str, int],
) -> SplitResult:
    """Map the pooled items' splits and components back to the input rows, with the report."""
    n_rows = len(items)
    split_of_row = np.full(n_rows, -1, dtype=np.int64)
    split_of_row[pool.rows] = row_split
    component_of_row = np.full(n_rows, -1, dtype=np.int64)
    component_of_row[pool.rows] = pool.component
    inverse = np.empty_like(order)
    inverse[order] = np.arange(len(order))
    split_of_row, component_of_row = split_of_row[inverse], component_of_row[inverse]

    categories = pd.Categorical.from_codes(split_of_row, categories=names)
    splits = pd.Series(categories, index=items.index, name="split").astype("string")
    components = pd.Series(component_of_row, index=items.index, name="component")
    sources_out = pool.source.to_numpy()[inverse]
    human_out = np.zeros(n_rows, dtype=bool)
    human_out[pool.rows] = pool.human
    report = balance_report(
        splits,
        label_keys(items["label"]),
        pd.Series(sources_out, index=items.index),
        split_names=tuple(names),
        notes=notes,
        warnings=eval_warnings(
            splits,
            label_keys(items["label"]),
            pd.Series(human_out[inverse], index=items.index),
            names,
            ratio_array,
            human_sources,
        ),
    )
    return SplitResult(splits=splits, report=report, components=components)


def eval_warnings(
    splits: pd.Series,
    labels: pd.Series,
    human: pd.Series,
    names: Sequence[str],
    ratios: np.ndarray,
    human_sources: Sequence[str] = HUMAN_SOURCES,
    min_per_class: int = MIN_EVAL_PER_CLASS,
) -> list[str]:
    """Why the evaluation splits (all but the first) cannot be trusted, if they cannot: empty, or
    fewer than ``min_per_class`` items of a class, each with its reason."""
    out: list[str] = []
    kinds = " or ".join(repr(s) for s in human_sources)
    classes = sorted(labels[human & labels.notna()].astype(str).unique())
    per_class_total = labels[human].astype(str).value_counts()
    for name, ratio in zip(list(names)[1:], ratios[1:], strict=True):
        if ratio <= 0:
            continue
        in_split = labels[(splits == name).fillna(False).to_numpy()].astype(str)
        if in_split.empty:
            if not human.any():
                out.append(
                    f"{name} is empty: no item has a label of source {kinds}, and "
                    "only those go to evaluation splits"
                )
            else:
                out.append(
                    f"{name} is empty: only {int(human.sum())} item(s) have a label of "
                    f"source {kinds}; label more items"
                )
            continue
        counts = in_split.value_counts()
        for label in classes:
            n = int(counts.get(label, 0))
            if n < min_per_class:
                out.append(
                    f"{name} holds {n} item(s) of {label!r}, fewer than {min_per_class}: "
                    f"{int(per_class_total.get(label, 0))} {label!r} item(s) have a label "
                    f"of source {kinds} in all"
                )
    return out
