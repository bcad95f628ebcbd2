"""Vectorized votes of declarative LFs on a DataFrame: exactly ``lf.vote`` per row, much faster.

Strings go through Arrow: keyword LFs lower-case a column once (Arrow for ASCII rows, Python's
``str.lower`` for the rest, so the result is Python's) and search the keywords with RE2, one
pattern per group of keywords sharing a first character (RE2 skips ahead with ``memchr`` only
when every alternative starts with the same byte); regex LFs run through ``weak_supervision.re2``.
Metadata rules use numpy or Arrow comparisons where the types make them exact, and Python
otherwise. LFs run on a thread pool; the per-column work they share (lower case, hazard rows) is
computed once, by whichever thread needs it first, while the other thread runs other LFs.

Regex LFs never run Python's ``re`` in this process unless asked to (``regex_timeout=None``):
the rows RE2 cannot answer go to :func:`weak_supervision.regex_guard.search_many`, a child
process killed after ``regex_timeout`` seconds, so a backtracking pattern cannot stall the caller.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd

from weak_supervision import re2, regex_guard
from weak_supervision.lfs import (
    ABSTAIN,
    METADATA_OPS,
    DeclarativeLF,
    KeywordLF,
    MetadataLF,
    RegexLF,
)

# The comparisons of METADATA_OPS (element-wise on numpy arrays); "in" and "not in" are
# vectorized apart.
_NUMPY_OPS: dict[str, Callable[[Any, Any], Any]] = {
    op: fn for op, fn in METADATA_OPS.items() if op not in ("in", "not in")
}


class StringColumn:
    """One text column as an Arrow array, with its Python-exact lower-case form cached."""

    def __init__(self, values: pd.Series) -> None:
        import pyarrow as pa

        self.values = values
        self.array = None
        try:
            arr = pa.array(values, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
            arr = None  # mixed types: the Python path handles it
        if isinstance(arr, pa.ChunkedArray) and arr.num_chunks == 0:
            arr = pa.array([], type=arr.type)
        if arr is not None and (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
            self.array = arr
        elif arr is not None and pa.types.is_null(arr.type):  # all missing
            self.array = pa.array([None] * len(values), type=pa.string())
        self._lower = None
        self._special: tuple[np.ndarray, np.ndarray] | None = None
        self._distinct: np.ndarray | None = None
        self._masks: dict[str, np.ndarray] = {}
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._hazard_rows: dict[tuple[str, ...], tuple[np.ndarray, list]] = {}

    def _lock(self, key: str) -> threading.Lock:
        """The lock serializing the one-time computation of ``key`` across LF threads."""
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def hazard_rows(self, hazards: tuple[str, ...]) -> tuple[np.ndarray, list]:
        """``(rows, values)``: the indices of ``rows_with(hazards)`` and their Python strings,
        cached (several LFs patch the same rows)."""
        with self._lock("python:" + ",".join(hazards)):
            if hazards not in self._hazard_rows:
                idx = np.flatnonzero(self.rows_with(hazards))
                values = _take_pylist(self.array, idx)
                self._hazard_rows[hazards] = (idx, values)
        return self._hazard_rows[hazards]

    def _special_chars(self) -> tuple[np.ndarray, np.ndarray]:
        """``(code_points, rows)`` of every non-ASCII character and every ASCII hazard control
        in the column, decoded from the UTF-8 buffers with numpy (one pass over the bytes)."""
        with self._lock("special"):
            if self._special is not None:
                return self._special
            import pyarrow as pa

            chunks = self.array.chunks if isinstance(self.array, pa.ChunkedArray) else [self.array]
            found, first_row = [], 0
            for chunk in chunks:
                cps, rows = _special_chars(chunk)
                found.append((cps, rows + first_row))
                first_row += len(chunk)
            self._special = (
                np.concatenate([c for c, _ in found]) if found else np.zeros(0, np.int64),
                np.concatenate([r for _, r in found]) if found else np.zeros(0, np.int64),
            )
        return self._special

    def _distinct_chars(self) -> np.ndarray:
        """The distinct code points of ``_special_chars``, found by scattering into a table of
        every code point (no sort: the first call's hazard decisions see each character once)."""
        with self._lock("distinct"):
            if self._distinct is None:
                seen = np.zeros(sys.maxunicode + 1, dtype=bool)
                seen[self._special_chars()[0]] = True
                self._distinct = np.flatnonzero(seen)
        return self._distinct

    def rows_with(self, hazards: tuple[str, ...]) -> np.ndarray:
        """Rows holding a character of any of the named hazards (``re2.hazard_mask``);
        ``non_ascii`` means any character above U+007F."""
        import pyarrow.compute as pc

        out = np.zeros(len(self.array), dtype=bool)
        for name in hazards:
            key = "hazard:" + name
            with self._lock(key):
                if key in self._masks:
                    pass
                elif name == "non_ascii":
                    self._masks[key] = _mask(pc.invert(pc.string_is_ascii(self.array)))
                elif name == "empty":
                    self._masks[key] = _mask(pc.equal(pc.binary_length(self.array), 0))
                else:
                    cps, rows = self._special_chars()
                    distinct = self._distinct_chars()
                    is_hazard = np.zeros(sys.maxunicode + 1, dtype=bool)
                    is_hazard[distinct[re2.hazard_mask(name, distinct)]] = True
                    mask = np.zeros(len(self.array), dtype=bool)
                    mask[rows[is_hazard[cps]]] = True
                    self._masks[key] = mask
            out |= self._masks[key]
        return out

    @property
    def lower(self):
        """Arrow's ``utf8_lower`` of every row. It equals Python's ``str.lower`` except on the
        rows ``rows_with(("lower",))``, which callers answer with Python."""
        with self._lock("lower"):
            if self._lower is None:
                import pyarrow.compute as pc

                self._lower = pc.utf8_lower(self.array)
        return self._lower

    def search(self, pattern: str, lower: bool = False) -> np.ndarray:
        """Rows where the RE2 ``pattern`` matches (nulls: False), cached by pattern."""
        import pyarrow.compute as pc

        key = ("L" if lower else "O") + pattern
        if key not in self._masks:
            arr = self.lower if lower else self.array
            self._masks[key] = _mask(pc.match_substring_regex(arr, pattern))
        return self._masks[key]


def _take_pylist(arr, idx: np.ndarray) -> list:
    """``arr[idx]`` as Python values (``idx`` sorted), taken chunk by chunk: ``take`` on a
    chunked array first concatenates every chunk (a copy of the whole column)."""
    import pyarrow as pa

    chunks = arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]
    out: list = []
    start = 0
    for chunk in chunks:
        lo, hi = np.searchsorted(idx, [start, start + len(chunk)])
        if hi > lo:
            out += chunk.take(pa.array(idx[lo:hi] - start)).to_pylist()
        start += len(chunk)
    return out


_BLOCK = 1 << 22  # bytes per numpy pass: small reused buffers, no 100 MB temporaries


def _offsets_and_data(arr) -> tuple[np.ndarray, np.ndarray]:
    """The row offsets (int64, absolute) and the UTF-8 bytes of a string array's rows."""
    import pyarrow as pa

    bufs = arr.buffers()
    wide = pa.types.is_large_string(arr.type)
    offsets = np.frombuffer(bufs[1], dtype=np.int64 if wide else np.int32)
    offsets = offsets[arr.offset : arr.offset + len(arr) + 1].astype(np.int64)
    if bufs[2] is None:
        return offsets, np.zeros(0, dtype=np.uint8)
    return offsets, np.frombuffer(bufs[2], dtype=np.uint8)[offsets[0] : offsets[-1]]


def _special_chars(arr) -> tuple[np.ndarray, np.ndarray]:
    offsets, data = _offsets_and_data(arr)
    if not len(data):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    hit = np.empty(min(_BLOCK, len(data)), dtype=bool)
    tmp = np.empty_like(hit)
    shifted = np.empty(len(hit), dtype=np.uint8)
    positions = []
    for start in range(0, len(data), _BLOCK):
        block = data[start : start + _BLOCK]
        n = len(block)
        np.greater_equal(block, 0xC0, out=hit[:n])  # lead bytes of multi-byte characters
        np.subtract(block, np.uint8(0x1C), out=shifted[:n])
        np.less(shifted[:n], 4, out=tmp[:n])  # \x1c-\x1f
        hit[:n] |= tmp[:n]
        np.equal(block, 0x0B, out=tmp[:n])  # \v
        hit[:n] |= tmp[:n]
        positions.append(np.flatnonzero(hit[:n]) + start)
    pos = np.concatenate(positions)
    b0 = data[pos].astype(np.int64)
    last = len(data) - 1

    def cont(k: int) -> np.ndarray:
        return data[np.minimum(pos + k, last)].astype(np.int64) & 0x3F

    cps = np.where(
        b0 < 0x80,
        b0,
        np.where(
            b0 < 0xE0,
            ((b0 & 0x1F) << 6) | cont(1),
            np.where(
                b0 < 0xF0,
                ((b0 & 0x0F) << 12) | (cont(1) << 6) | cont(2),
                ((b0 & 0x07) << 18) | (cont(1) << 12) | (cont(2) << 6) | cont(3),
            ),
        ),
    )
    rows = np.searchsorted(offsets - offsets[0], pos, side="right") - 1
    return cps, rows


def _mask(arrow_bool) -> np.ndarray:
    return np.asarray(arrow_bool.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)


def _python_votes(lf: DeclarativeLF, values: Sequence[Any]) -> np.ndarray:
    return np.fromiter((lf.vote_value(v) for v in values), dtype=np.int64, count=len(values))


def _regex_python_votes(lf: RegexLF, values: Sequence[Any], timeout: float | None) -> np.ndarray:
    """``lf.vote_value`` per value: in this process when ``timeout`` is None (trusted patterns),
    else in a child process with that time limit (``regex_guard.RegexTimeout`` past it)."""
    if timeout is None:
        return _python_votes(lf, values)
    hits = regex_guard.search_many(lf.pattern, lf.ignore_case, values, timeout)
    return np.where(hits, lf.label, ABSTAIN).astype(np.int64)


def _votes_from_hits(lf: DeclarativeLF, hits: np.ndarray) -> np.ndarray:
    votes = np.full(len(hits), ABSTAIN, dtype=np.int16 if lf.label < 2**15 else np.int64)
    votes[hits] = lf.label
    return votes


def _patch_rows(
    lf: DeclarativeLF,
    col: StringColumn,
    votes: np.ndarray,
    hazards: tuple[str, ...],
    python: Callable[[Sequence[Any]], np.ndarray] | None = None,
) -> None:
    """Replace the votes of the rows holding one of ``hazards`` with Python's own answers
    (``python(values)``, default ``lf.vote_value`` per value)."""
    idx, values = col.hazard_rows(hazards)
    if idx.size:
        votes[idx] = python(values) if python is not None else _python_votes(lf, values)


def keyword_patterns(needles: Sequence[str]) -> list[str]:
    """RE2 patterns whose union matches where any needle occurs: one literal alternation per
    first character when there are at most 3 of them (each pattern then starts with a fixed
    byte, which RE2 finds with ``memchr``: ~3x faster than a full DFA pass), else one."""
    groups: dict[str, list[str]] = {}
    for needle in needles:
        groups.setdefault(needle[:1], []).append(needle)
    if len(groups) > 3:
        return [re2.literal_alternation(tuple(needles))]
    return [re2.literal_alternation(tuple(g)) for g in groups.values()]


def keyword_votes(lf: KeywordLF, col: StringColumn) -> np.ndarray:
    lower = not lf.case_sensitive
    hits = None
    for pattern in keyword_patterns(lf._needles):
        found = col.search(pattern, lower=lower)
        hits = found.copy() if hits is None else np.logical_or(hits, found, out=hits)
    votes = _votes_from_hits(lf, hits)
    if lower:
        _patch_rows(lf, col, votes, ("lower",))
    return votes


def regex_votes(lf: RegexLF, col: StringColumn, timeout: Any = ...) -> np.ndarray:
    """Votes of a regex LF: RE2 where it answers exactly, Python's ``re`` for the rest, in a
    child process limited to ``timeout`` seconds (default ``regex_guard.current_limit()``;
    None: in this process)."""
    if timeout is ...:
        timeout = regex_guard.current_limit()
    plan = re2.translate(lf.pattern, lf.ignore_case)
    if plan is None:
        return _regex_python_votes(lf, col.array.to_pylist(), timeout)
    try:
        votes = _votes_from_hits(lf, col.search(plan.re2))
    except Exception:
        return _regex_python_votes(lf, col.array.to_pylist(), timeout)
    if plan.hazards:
        _patch_rows(
            lf, col, votes, plan.hazards, lambda values: _regex_python_votes(lf, values, timeout)
        )
    return votes


def metadata_votes(lf: MetadataLF, values: pd.Series, col: StringColumn | None) -> np.ndarray:
    value, op = lf.value, lf.op
    kind = values.dtype.kind if isinstance(values.dtype, np.dtype) else None
    present = values.notna().to_numpy()
    if op in _NUMPY_OPS:
        exact_number = (
            (kind == "f" and isinstance(value, int | float))
            or (kind in "iu" and isinstance(value, int))
            if kind
            else False
        )
        if exact_number and not isinstance(value, bool):
            hits = _NUMPY_OPS[op](values.to_numpy(), value)
            return _votes_from_hits(lf, hits & present)
        if col is not None and col.array is not None and isinstance(value, str):
            import pyarrow.compute as pc

            names = {
                "==": "equal",
                "!=": "not_equal",
                "<": "less",
                "<=": "less_equal",
                ">": "greater",
                ">=": "greater_equal",
            }
            hits = _mask(getattr(pc, names[op])(col.array, value))
            return _votes_from_hits(lf, hits & present)
    return _python_votes(lf, values.tolist())


def lf_votes(
    lfs: Sequence[DeclarativeLF],
    df: pd.DataFrame,
    n_threads: int = 2,
    regex_timeout: Any = ...,
) -> Iterator[tuple[int, np.ndarray]]:
    """``(j, votes)`` for each declarative LF ``lfs[j]``, in order: its vote per row of ``df``
    (-1 = abstain). Arrow kernels release the GIL, so LFs run on ``n_threads`` threads.
    Python-``re`` fallbacks of regex LFs run in a child process limited to ``regex_timeout``
    seconds (default: ``regex_guard.current_limit()``, see ``regex_guard.time_limit``; None: in
    this process, for trusted patterns only)."""
    if regex_timeout is ...:
        regex_timeout = regex_guard.current_limit()
    columns: dict[str, StringColumn] = {}
    for lf in lfs:
        f = lf.fields[0]
        if f not in columns and isinstance(lf, KeywordLF | RegexLF | MetadataLF):
            columns[f] = StringColumn(df[f])

    def run(lf: DeclarativeLF) -> np.ndarray:
        col = columns[lf.fields[0]]
        if isinstance(lf, MetadataLF):
            return metadata_votes(lf, df[lf.field], col)
        if col.array is None:  # not a string column: Python semantics row by row
            if isinstance(lf, RegexLF):
                return _regex_python_votes(lf, df[lf.fields[0]].tolist(), regex_timeout)
            return _python_votes(lf, df[lf.fields[0]].tolist())
        if isinstance(lf, KeywordLF):
            return keyword_votes(lf, col)
        if isinstance(lf, RegexLF):
            return regex_votes(lf, col, regex_timeout)
        raise TypeError(f"not a declarative LF: {lf!r}")

    if not lfs or not len(df):
        return
    with ThreadPoolExecutor(max_workers=max(1, n_threads)) as pool:
        futures = {j: pool.submit(run, lfs[j]) for j in _start_order(lfs)}
        for j in range(len(lfs)):
            yield j, futures[j].result()


def _start_order(lfs: Sequence[DeclarativeLF]) -> list[int]:
    """LF indices with LFs on the lower-cased text alternating with the others, so that while
    one thread lower-cases a column the other runs LFs that do not need it."""
    lower = [j for j, lf in enumerate(lfs) if isinstance(lf, KeywordLF) and not lf.case_sensitive]
    other = [j for j in range(len(lfs)) if j not in set(lower)]
    order = [j for pair in zip(other, lower, strict=False) for j in pair]
    n = min(len(other), len(lower))
    return order + other[n:] + lower[n:]
