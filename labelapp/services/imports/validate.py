"""Check every row of an import before anything is stored, and shape it for the bulk insert."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from labelapp.services.errors import UserError

MAX_ERRORS_SHOWN = 20
MULTI_LABEL_SEPARATOR = "|"
RowName = Callable[[int], str]  # a 0-based data row as a person finds it ("line 7", "row 7")


@dataclass
class Columns:
    """Which input columns hold what (None: not present)."""

    text: str | None
    id: str | None
    label: str | None
    group: str | None


@dataclass
class ValidRows:
    """An import's rows after validation, one per distinct item, ready to store."""

    frame: pd.DataFrame  # external_id, text, content_hash, meta, group_key, labels, row
    duplicates_in_file: int


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class ChunkRows:
    """A chunk's rows as the importer stores them, before repeated items are dropped."""

    external: list[str]  # the item's id: the id column's, else the content hash
    text: list[str]
    hashes: list[str]
    labels: list[list[str] | None] | None  # None: no label column
    group: list | None  # None: no group column


class RowProblems:
    """The problems of a file's rows, found chunk by chunk: at most :data:`MAX_ERRORS_SHOWN` of
    each kind, the way one check of the whole file lists them."""

    def __init__(self) -> None:
        self.found: list[tuple[int, str]] = []
        self.counts: Counter = Counter()

    def room(self, kind: object) -> int:
        return max(0, MAX_ERRORS_SHOWN - self.counts[kind])

    def add(self, kind: object, row: int, message: str) -> None:
        self.found.append((int(row), message))
        self.counts[kind] += 1

    def add_conflicts(
        self, conflicts: list[np.ndarray], id_of: Callable[[int], str], row_name: RowName
    ) -> None:
        """An id used for different rows (:meth:`RowKeys.finish`), named by its first row."""
        for rows in conflicts:
            where = ", ".join(row_name(int(r)) for r in rows[:3])
            self.add(
                "id_reused",
                rows[1],
                f"id {id_of(int(rows[0]))!r} is used for different rows ({where})",
            )

    def raise_if_any(self, filename: str, row_name: RowName) -> None:
        if not self.found:
            return
        problems = sorted(self.found)
        details = [f"{row_name(i)}: {msg}" for i, msg in problems[:MAX_ERRORS_SHOWN]]
        more = len(problems) - len(details)
        if more > 0:
            details.append(f"... and {more} more")
        raise UserError(
            f"{filename}: {len(problems)} problem(s) found; nothing was imported. "
            "Fix these rows and import the file again:",
            details,
        )


def validate_table(
    df: pd.DataFrame,
    columns: Columns,
    label_names: list[str],
    multi_label: bool,
    filename: str,
    row_name: RowName,
) -> ValidRows:
    """Validate all rows; raise one :class:`UserError` listing the first problems by row."""
    check_columns([str(c) for c in df.columns], columns, filename)
    if len(df) == 0:
        raise UserError(f"{filename}: no rows to import")
    problems = RowProblems()
    may_hold_nul = df.attrs.get("may_hold_nul", True)
    rows = check_rows(df, columns, set(label_names), multi_label, problems, 0, may_hold_nul)
    keys = RowKeys(columns.id is not None)
    keys.add(rows)
    keep, conflicts = keys.finish()
    problems.add_conflicts(conflicts, rows.external.__getitem__, row_name)
    problems.raise_if_any(filename, row_name)
    frame = rows_frame(df, columns, rows, 0)[keep].reset_index(drop=True)
    return ValidRows(frame=frame, duplicates_in_file=len(df) - len(frame))


def check_rows(
    df: pd.DataFrame,
    columns: Columns,
    known: set[str],
    multi_label: bool,
    problems: RowProblems,
    offset: int = 0,
    may_hold_nul: bool = True,
) -> ChunkRows:
    """Check a chunk of rows (its first is the file's data row ``offset``) into ``problems``;
    the rows as they would be stored."""
    if may_hold_nul:
        _nul_problems(df, problems, offset)

    text = df[columns.text].astype("string")
    missing_text = text.isna() | (text.str.strip() == "")
    for i in np.flatnonzero(missing_text.to_numpy())[: problems.room("text")]:
        problems.add("text", offset + i, f"column {columns.text!r} is empty; every item needs text")
    texts = text.fillna("").tolist()

    external = None
    if columns.id:
        ids = df[columns.id].astype("string").str.strip()
        missing_id = ids.isna() | (ids == "")
        for i in np.flatnonzero(missing_id.to_numpy())[: problems.room("id")]:
            problems.add("id", offset + i, f"column {columns.id!r} (the id) is empty")
        too_long = (ids.str.len() > 255).fillna(False).to_numpy()
        for i in np.flatnonzero(too_long)[: problems.room("id_length")]:
            problems.add("id_length", offset + i, "the id is longer than 255 characters")
        external = ids.fillna("").tolist()

    labels = None
    if columns.label:
        labels = _parse_labels(df[columns.label], known, multi_label, problems, offset)

    group = None
    if columns.group:
        values = df[columns.group].astype("string").str.strip()
        group = values.where(values != "", None).tolist()

    hashes = [content_hash(t) for t in texts]
    return ChunkRows(external if external is not None else hashes, texts, hashes, labels, group)


def rows_frame(df: pd.DataFrame, columns: Columns, rows: ChunkRows, offset: int) -> pd.DataFrame:
    """The chunk's rows ready to store: external_id, text, content_hash, meta (JSON text),
    group_key, labels and row (the file's 0-based data row)."""
    return pd.DataFrame(
        {
            "external_id": rows.external,
            "text": rows.text,
            "content_hash": rows.hashes,
            "meta": _meta_json(df, columns),
            "group_key": rows.group,
            "labels": rows.labels,
            "row": np.arange(offset, offset + len(df)),
        }
    )


# Two keys of pandas' 64-bit SipHash: an item id is known by 128 bits, so two different ids
# share a key with odds of about n^2 / 2^129 (never, at any file size).
_KEY_HI, _KEY_LO, _KEY_SAID = "labelapp:key:hi:", "labelapp:key:lo:", "labelapp:said:0:"


class RowKeys:
    """What finding repeated ids needs of every row of a file read in chunks, in 25 bytes a
    row: a 128-bit hash of its item id and, with an id column, a hash of what the row says
    (its text and labels), so that an id used for different rows is found across chunks."""

    def __init__(self, ids_given: bool) -> None:
        self.ids_given = ids_given
        self.hi: list[np.ndarray] = []
        self.lo: list[np.ndarray] = []
        self.said: list[np.ndarray] = []
        self.valid: list[np.ndarray] = []

    def add(self, rows: ChunkRows) -> None:
        external = np.asarray(rows.external, dtype=object)
        self.hi.append(_hash(external, _KEY_HI))
        self.lo.append(_hash(external, _KEY_LO))
        if self.ids_given:
            said = _hash(np.asarray(rows.hashes, dtype=object), _KEY_SAID)
            if rows.labels is not None:
                joined = np.asarray(["|".join(x or []) for x in rows.labels], dtype=object)
                with np.errstate(over="ignore"):
                    said ^= _hash(joined, _KEY_SAID, categorize=True) * np.uint64(
                        0x9E3779B97F4A7C15
                    )
            self.said.append(said)
            self.valid.append(external != "")

    def finish(self) -> tuple[np.ndarray, list[np.ndarray]]:
        """Per row whether it is its item's first row (the one kept), and the rows of up to
        :data:`MAX_ERRORS_SHOWN` ids used for different rows (their first three, by first row).

        Sorted by the first half of the key; only rows that share it with another (repeated
        ids, in practice) are looked at further, so the work past one sort, and its memory,
        follow the repeats, not the rows."""
        hi = _take(self.hi)
        n = len(hi)
        order = np.argsort(hi, kind="stable")  # a repeated id's rows stay in file order
        hi = hi[order]
        twins = np.flatnonzero(hi[1:] == hi[:-1])
        first = np.ones(n, dtype=bool)
        shared = np.zeros(0, dtype=np.int64)  # sorted positions in runs of one first half
        if len(twins):
            shared = np.union1d(twins, twins + 1)
            lo = _take(self.lo)
            rows = order[shared]
            rows = rows[np.lexsort((rows, lo[rows], hi[shared]))]  # by id, then file order
            order[shared] = rows
            run_hi, run_lo = hi[shared], lo[rows]
            repeat = (run_hi[1:] == run_hi[:-1]) & (run_lo[1:] == run_lo[:-1])
            first[shared[1:][repeat]] = False
            del lo
        del hi
        self.lo.clear()
        keep = np.empty(n, dtype=bool)
        keep[order] = first
        if not self.ids_given or first.all():
            self.said.clear()
            self.valid.clear()
            return keep, []
        return keep, self._conflicts(order[shared], first[shared])

    def _conflicts(self, rows: np.ndarray, starts: np.ndarray) -> list[np.ndarray]:
        """The ids used for different rows among ``rows`` (sorted so that each id's rows are
        together, ``starts`` marking its first)."""
        said, valid = _take(self.said)[rows], _take(self.valid)[rows]
        begin = np.flatnonzero(starts)
        sizes = np.diff(np.append(begin, len(rows)))
        differ = np.minimum.reduceat(said, begin) != np.maximum.reduceat(said, begin)
        bad = (sizes > 1) & differ & valid[begin]
        chosen = np.argsort(rows[begin[bad]], kind="stable")[:MAX_ERRORS_SHOWN]
        return [
            rows[b : b + size][:3]
            for b, size in zip(begin[bad][chosen], sizes[bad][chosen], strict=True)
        ]


def _hash(values: np.ndarray, key: str, categorize: bool = False) -> np.ndarray:
    return pd.util.hash_array(values, hash_key=key, categorize=categorize)


def _take(parts: list[np.ndarray]) -> np.ndarray:
    """The parts as one array; the list is emptied (its memory goes with it)."""
    whole = np.concatenate(parts) if parts else np.zeros(0)
    parts.clear()
    return whole


def _nul_problems(df: pd.DataFrame, problems: RowProblems, offset: int) -> None:
    """Rows with a NUL character (``\\x00``) in any column: PostgreSQL cannot store one in text
    or JSON, so it is refused on every database alike. Vectorized per column."""
    for column in df.columns:
        if problems.counts["nul"] >= MAX_ERRORS_SHOWN:
            return
        room = problems.room(("nul", column))
        values = df[column]
        if not room or (values.dtype != object and not isinstance(values.dtype, pd.StringDtype)):
            continue
        if values.dtype == object:  # lists or dicts (JSONL, Parquet) are checked as their JSON
            values = values.map(_as_text, na_action="ignore")
        text = values.astype("string")
        rows = np.flatnonzero(text.str.contains("\x00", regex=False).fillna(False).to_numpy())
        for i in rows[:room]:
            problems.counts["nul"] += 1
            problems.add(
                ("nul", column),
                offset + int(i),
                f"column {column!r} holds a NUL character (\\x00) at character "
                f"{text.iloc[i].index(chr(0)) + 1}; remove it: the database cannot store it",
            )


def _as_text(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, np.ndarray):
        value = value.tolist()
    return json.dumps(value, default=str).replace("\\u0000", "\x00")


def check_columns(present: list[str], columns: Columns, filename: str) -> None:
    """Every column named for a role is in the file."""
    for role, name in (
        ("text", columns.text),
        ("id", columns.id),
        ("label", columns.label),
        ("group", columns.group),
    ):
        if name is not None and name not in present:
            raise UserError(
                f"{filename}: no column {name!r} for the {role}; the columns are: "
                f"{', '.join(present) or '(none)'}. Choose the {role} column among them."
            )


def _parse_labels(
    raw: pd.Series, known: set[str], multi_label: bool, problems: RowProblems, offset: int
) -> list[list[str] | None]:
    """Each row's labels (None: none); a label column holds few distinct values, so each is
    parsed once."""
    parsed: list[list[str] | None] = []
    seen: dict[str, tuple[list[str] | None, str | None]] = {}
    for i, value in enumerate(raw.tolist()):
        if value is None or (isinstance(value, float) and np.isnan(value)):
            parsed.append(None)
            continue
        if isinstance(value, str):
            hit = seen.get(value)
            if hit is None:
                names = [p.strip() for p in value.split(MULTI_LABEL_SEPARATOR)]
                hit = seen[value] = _label_names(names, known, multi_label)
        elif isinstance(value, list | tuple | np.ndarray):
            hit = _label_names([str(v).strip() for v in value], known, multi_label)
        else:
            names = [p.strip() for p in str(value).split(MULTI_LABEL_SEPARATOR)]
            hit = _label_names(names, known, multi_label)
        labels, problem = hit
        if problem is not None and problems.room("label"):
            problems.add("label", offset + i, problem)
        parsed.append(labels)
    return parsed


def _label_names(
    names: list[str], known: set[str], multi_label: bool
) -> tuple[list[str] | None, str | None]:
    """One value's labels, and what is wrong with them (None: nothing)."""
    names = [n for n in names if n]
    if not names:
        return None, None
    problem = None
    unknown = [n for n in names if n not in known]
    if unknown:
        problem = (
            f"unknown label {unknown[0]!r}; the project's labels are {', '.join(sorted(known))}"
        )
    elif len(names) > 1 and not multi_label:
        problem = f"{len(names)} labels, but the project is single-label"
    return (sorted(set(names)) if multi_label else names), problem


def _meta_json(df: pd.DataFrame, columns: Columns) -> list[str]:
    used = {c for c in (columns.text, columns.id, columns.label, columns.group) if c}
    meta_cols = [c for c in df.columns if c not in used]
    if not meta_cols:
        return ["{}"] * len(df)
    # pandas' C JSON writer: about 20x faster than json.dumps per row at a million rows.
    lines = df[meta_cols].to_json(orient="records", lines=True, force_ascii=False)
    return lines.rstrip("\n").split("\n")
