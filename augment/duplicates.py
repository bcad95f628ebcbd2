"""Exact and near-duplicate texts, merged with other "must stay together" keys into components.

Texts are normalized (Unicode NFKC, lower case, every run of characters other than letters and
digits read as one space) and cut into words. Exact duplicates have the same words in the same
order. Near duplicates share most word ``shingle``-grams: MinHash with LSH banding proposes
candidate pairs and the exact Jaccard similarity of their shingle sets decides. Components come
from ``scipy.sparse.csgraph.connected_components`` over rows linked by any shared key or pair.

Hand-written rather than taken from a MinHash library (e.g. datasketch) because those hash one
document at a time in Python, which takes minutes for a million texts; here Arrow's C++ kernels
cut the words and numpy hashes all shingles at once, in chunks spread over a few threads.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

TextInput = Sequence[str] | pd.Series | pa.Array | pa.ChunkedArray

_MIX = np.uint64(0x9E3779B97F4A7C15)
_NO_WORDS = np.uint32(0xFFFFFFFF)
_CHUNK = 50_000
# Candidate pairs compared at once: each expands to both members' shingles (~70 x 16 bytes,
# hashed again by duplicated()): ~100 MB a chunk.
_PAIR_CHUNK = 25_000

# ASCII bytes: letters lower-cased, digits kept, everything else a space; other bytes untouched.
_ASCII_TABLE = np.arange(256, dtype=np.uint8)
_ASCII_TABLE[:128] = ord(" ")
for _lo, _hi in ((ord("0"), ord("9")), (ord("a"), ord("z"))):
    _ASCII_TABLE[_lo : _hi + 1] = np.arange(_lo, _hi + 1)
_ASCII_TABLE[ord("A") : ord("Z") + 1] = np.arange(ord("a"), ord("z") + 1)


def as_arrow_strings(texts: TextInput) -> pa.LargeStringArray:
    """Texts as one Arrow ``large_string`` array; nulls and non-strings become text or ``""``."""
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    if isinstance(texts, pa.Array):
        array = texts if pa.types.is_large_string(texts.type) else texts.cast(pa.large_string())
    else:
        series = texts if isinstance(texts, pd.Series) else pd.Series(list(texts), dtype=object)
        if series.dtype == object:
            series = series.where(series.isna(), series.astype(str))
        array = pa.array(series.to_numpy(dtype=object), type=pa.large_string(), from_pandas=True)
    return pc.fill_null(array, "")


def _mix(values: np.ndarray) -> np.ndarray:
    """splitmix64's finalizer: spreads combined hashes over all 64 bits."""
    z = values.astype(np.uint64, copy=True)
    z ^= z >> np.uint64(30)
    z *= np.uint64(0xBF58476D1CE4E5B9)
    z ^= z >> np.uint64(27)
    z *= np.uint64(0x94D049BB133111EB)
    z ^= z >> np.uint64(31)
    return z


def normalize_texts(texts: TextInput) -> pa.LargeStringArray:
    """NFKC, lower case, anything but letters and digits as spaces, trimmed; nulls become ``""``.

    ASCII texts (the usual bulk) go through a byte table in numpy; the others through Arrow's
    Unicode kernels and a regular expression (several times slower).
    """
    array = as_arrow_strings(texts)
    is_ascii = pc.string_is_ascii(array).to_numpy(zero_copy_only=False)
    out = _normalize_ascii(array)
    if not is_ascii.all():
        rows = np.flatnonzero(~is_ascii)
        other = array.take(pa.array(rows))
        other = pc.utf8_lower(pc.utf8_normalize(other, form="NFKC"))
        other = pc.replace_substring_regex(other, pattern=r"[^\p{L}\p{N}]+", replacement=" ")
        out = pc.replace_with_mask(out, pa.array(~is_ascii), other)
    return pc.utf8_trim_whitespace(out)


def _normalize_ascii(array: pa.LargeStringArray) -> pa.LargeStringArray:
    """Map the bytes of ``array`` (a slice maps only its own bytes) through the ASCII table."""
    if array.null_count:
        array = pc.fill_null(array, "")
    _, offsets, data = array.buffers()
    bounds = np.frombuffer(offsets, dtype=np.int64)[array.offset : array.offset + len(array) + 1]
    if data is None or not len(bounds):
        return array
    raw = np.frombuffer(data, dtype=np.uint8)[bounds[0] : bounds[-1]]
    return pa.LargeStringArray.from_buffers(
        len(array), pa.py_buffer(bounds - bounds[0]), pa.py_buffer(_ASCII_TABLE[raw])
    )


@dataclass(frozen=True)
class _Words:
    """Words of a chunk of normalized texts: per-word hash and per-text word counts."""

    hashes: np.ndarray  # uint64, texts' words in order
    lengths: np.ndarray  # int64, words per text


def _words(normalized: pa.Array, random_state: int) -> _Words:
    tokens = (
        pc.ascii_split_whitespace(normalized)
        if len(normalized)
        else pa.array([], pa.list_(pa.string()))
    )
    flat = pc.list_flatten(tokens)
    lengths = pc.list_value_length(tokens).to_numpy(zero_copy_only=False).astype(np.int64)
    if len(flat) == 0:
        return _Words(np.empty(0, dtype=np.uint64), np.zeros(len(normalized), dtype=np.int64))
    keep = pc.greater(pc.binary_length(flat), 0).to_numpy(zero_copy_only=False)
    doc = np.repeat(np.arange(len(lengths)), lengths)
    encoded = pc.dictionary_encode(flat)
    words = encoded.dictionary.to_numpy(zero_copy_only=False)
    # siphash of each distinct word: content-based, so a text's hashes do not depend on the others.
    word_hash = pd.util.hash_array(words, hash_key=_hash_key(random_state))
    hashes = word_hash[encoded.indices.to_numpy(zero_copy_only=False)][keep]
    return _Words(hashes, np.bincount(doc[keep], minlength=len(lengths)).astype(np.int64))


def _hash_key(random_state: int) -> str:
    return f"{int(random_state) & 0xFFFFFFFFFFFFFFFF:016x}"


def _starts(lengths: np.ndarray) -> np.ndarray:
    return np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int64)


def _text_hashes(words: _Words) -> np.ndarray:
    """An order-sensitive 64-bit hash of each text's words (0 for texts without words)."""
    out = np.zeros(len(words.lengths), dtype=np.uint64)
    has = words.lengths > 0
    if not has.any():
        return out
    starts = _starts(words.lengths)
    position = np.arange(len(words.hashes), dtype=np.uint64) - np.repeat(
        starts, words.lengths
    ).astype(np.uint64)
    terms = _mix(words.hashes ^ (position * _MIX))
    with np.errstate(over="ignore"):
        out[has] = np.add.reduceat(terms, starts[has])
    out[has] = _mix(out[has] + words.lengths[has].astype(np.uint64)) | np.uint64(1)
    return out


def _shingles(words: _Words, shingle: int) -> tuple[np.ndarray, np.ndarray]:
    """``(row, hash)`` of every word ``shingle``-gram; a shorter text is one shingle of its
    words."""
    lengths = words.lengths
    doc = np.repeat(np.arange(len(lengths)), lengths)
    position = np.arange(len(doc)) - np.repeat(_starts(lengths), lengths)
    k = np.minimum(shingle, lengths)[doc]
    combined = words.hashes.copy()
    for offset in range(1, shingle):
        shifted = np.zeros_like(combined)
        shifted[:-offset] = words.hashes[offset:]
        with np.errstate(over="ignore"):
            combined = np.where(offset < k, _mix(combined * _MIX + shifted), combined)
    valid = position + k <= lengths[doc]
    return doc[valid], _mix(combined[valid])


def _permutations(num_perm: int, random_state: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng([int(random_state) & 0xFFFFFFFF, 0x5EED])
    a = rng.integers(1, 1 << 63, size=num_perm, dtype=np.uint64) | np.uint64(1)
    b = rng.integers(0, 1 << 63, size=num_perm, dtype=np.uint64)
    return a, b


def _signatures(
    doc: np.ndarray, hashes: np.ndarray, n: int, a: np.ndarray, b: np.ndarray
) -> np.ndarray:
    """MinHash (n x num_perm, uint32): per row and k, the high 32 bits of min ``a_k * x``
    (mod 2**64).

    ``x`` are well-mixed 64-bit shingle hashes and each ``a_k`` a random odd multiplier, so each
    ``x -> a_k * x`` is a bijection that orders the shingles anew; one multiply and one segmented
    minimum per permutation keeps this the cheap part. Rows without shingles are all
    ``2**32 - 1`` and match nothing.
    """
    signatures = np.full((n, len(a)), _NO_WORDS, dtype=np.uint32)
    if not len(hashes):
        return signatures
    counts = np.bincount(doc, minlength=n)
    has = counts > 0
    starts = _starts(counts)[has]
    keys = hashes ^ b[0]
    buffer = np.empty_like(keys)
    with np.errstate(over="ignore"):
        for k in range(len(a)):
            np.multiply(keys, a[k], out=buffer)
            signatures[has, k] = np.minimum.reduceat(buffer, starts) >> np.uint64(32)
    return signatures


@dataclass(frozen=True)
class TextFingerprints:
    """Per text: an exact-duplicate code (``-1`` for texts without words) and MinHash signature."""

    exact: np.ndarray
    signatures: np.ndarray | None


def text_fingerprints(
    texts: TextInput,
    *,
    num_perm: int | None = 36,
    shingle: int = 2,
    random_state: int = 0,
    n_threads: int = 2,
) -> TextFingerprints:
    """Exact-duplicate codes and (unless ``num_perm=None``) MinHash signatures, chunk by chunk."""
    array = as_arrow_strings(texts)
    a, b = _permutations(num_perm or 1, random_state)

    def work(chunk: pa.Array) -> tuple[np.ndarray, np.ndarray | None]:
        words = _words(normalize_texts(chunk), random_state)
        signatures = None
        if num_perm:
            doc, hashes = _shingles(words, shingle)
            signatures = _signatures(doc, hashes, len(chunk), a, b)
        return _text_hashes(words), signatures

    chunks = [array.slice(start, _CHUNK) for start in range(0, len(array), _CHUNK)]
    with ThreadPoolExecutor(max_workers=max(1, n_threads)) as pool:
        parts = list(pool.map(work, chunks))
    text_hash = np.concatenate([p[0] for p in parts]) if parts else np.empty(0, dtype=np.uint64)
    exact = np.full(len(text_hash), -1, dtype=np.int64)
    has_words = text_hash != 0
    exact[has_words] = pd.factorize(text_hash[has_words])[0]
    signatures = None
    if num_perm:
        signatures = (
            np.concatenate([p[1] for p in parts])
            if parts
            else np.empty((0, num_perm), dtype=np.uint32)
        )
    return TextFingerprints(exact=exact, signatures=signatures)


def exact_duplicate_ids(texts: TextInput) -> np.ndarray:
    """One code per row; rows with the same normalized words share it; texts without words
    get -1."""
    return text_fingerprints(texts, num_perm=None).exact


def lsh_candidates(signatures: np.ndarray, rows: np.ndarray, bands: int) -> np.ndarray:
    """Row pairs sharing a band of signature values, each member paired with its bucket's
    first row."""
    num_perm = signatures.shape[1]
    if num_perm % bands:
        raise ValueError(f"num_perm ({num_perm}) must be a multiple of bands ({bands})")
    width = num_perm // bands
    pairs = []
    for band in range(bands):
        block = signatures[rows, band * width : (band + 1) * width].astype(np.uint64)
        key = block[:, 0].copy()
        with np.errstate(over="ignore"):
            for column in range(1, width):
                key = _mix(key * _MIX + block[:, column])
        codes, uniques = pd.factorize(key)
        head = np.full(len(uniques), -1, dtype=np.int64)
        head[codes[::-1]] = np.arange(len(codes))[::-1]
        heads = head[codes]
        mask = heads != np.arange(len(codes))
        if mask.any():
            pairs.append(np.column_stack([rows[heads[mask]], rows[mask]]))
    if not pairs:
        return np.empty((0, 2), dtype=np.int64)
    return np.unique(np.concatenate(pairs), axis=0)


def shingle_jaccard(
    texts: TextInput, pairs: np.ndarray, *, shingle: int = 2, random_state: int = 0
) -> np.ndarray:
    """Exact Jaccard similarity of the word-shingle sets of each row pair of ``texts``."""
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    if not len(pairs):
        return np.empty(0)
    involved, inverse = np.unique(pairs, return_inverse=True)
    array = as_arrow_strings(texts)
    parts = [
        _shingle_sets(
            array.take(pa.array(involved[start : start + _CHUNK])),
            shingle,
            random_state,
        )
        for start in range(0, len(involved), _CHUNK)
    ]
    sizes = np.concatenate([p[0] for p in parts])
    ordered = np.concatenate([p[1] for p in parts])
    del parts
    starts = _starts(sizes)
    local = inverse.reshape(-1, 2)
    intersection = np.concatenate(
        [
            _shared_shingles(local[start : start + _PAIR_CHUNK], sizes, starts, ordered)
            for start in range(0, len(local), _PAIR_CHUNK)
        ]
    )
    union = sizes[local[:, 0]] + sizes[local[:, 1]] - intersection
    return np.where(union > 0, intersection / np.maximum(union, 1), 0.0)


def _shingle_sets(
    texts: pa.Array, shingle: int, random_state: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per text its number of distinct shingles, and those shingles' hashes sorted text by text
    (ascending within a text)."""
    doc, hashes = _shingles(_words(normalize_texts(texts), random_state), shingle)
    order = np.lexsort((hashes, doc))
    doc, hashes = doc[order], hashes[order]
    first = np.ones(len(doc), dtype=bool)
    first[1:] = (doc[1:] != doc[:-1]) | (hashes[1:] != hashes[:-1])
    return np.bincount(doc[first], minlength=len(texts)), hashes[first]


def _shared_shingles(
    local: np.ndarray, sizes: np.ndarray, starts: np.ndarray, ordered: np.ndarray
) -> np.ndarray:
    """Per pair of documents (rows of ``local``), how many shingles both hold."""
    pair_ids, members = [], []
    for side in (0, 1):
        docs = local[:, side]
        counts = sizes[docs]
        pair_ids.append(np.repeat(np.arange(len(local)), counts))
        within = np.arange(counts.sum()) - np.repeat(_starts(counts), counts)
        members.append(ordered[np.repeat(starts[docs], counts) + within])
    both = pd.DataFrame({"pair": np.concatenate(pair_ids), "hash": np.concatenate(members)})
    shared = both.duplicated().to_numpy()
    return np.bincount(both["pair"].to_numpy()[shared], minlength=len(local))


@dataclass(frozen=True)
class DuplicateLinks:
    """Exact-duplicate codes per row (``-1`` = no words) and near-duplicate row pairs (k x 2)."""

    exact: np.ndarray
    near_pairs: np.ndarray


def find_duplicates(
    texts: TextInput,
    *,
    threshold: float | None = 0.7,
    num_perm: int = 36,
    bands: int = 12,
    shingle: int = 2,
    random_state: int = 0,
    n_threads: int = 2,
) -> DuplicateLinks:
    """Exact duplicates and pairs whose word-shingle Jaccard similarity is at least ``threshold``.

    ``threshold=None`` finds exact duplicates only. With the defaults (12 bands of 3 values) a
    pair at similarity 0.7 becomes a candidate with probability 0.99, at 0.5 with 0.8; every
    candidate is then checked exactly. Near pairs are found among distinct texts (one row per
    exact-duplicate set) and each member is paired with its bucket's first row, so connected
    components, not the pair list, give the full picture.
    """
    if threshold is not None and not 0.0 < threshold <= 1.0:
        raise ValueError(f"near-duplicate threshold must be in (0, 1] or None, got {threshold}")
    if shingle < 1:
        raise ValueError(f"shingle must be >= 1 word, got {shingle}")
    array = as_arrow_strings(texts)
    prints = text_fingerprints(
        array,
        num_perm=None if threshold is None else num_perm,
        shingle=shingle,
        random_state=random_state,
        n_threads=n_threads,
    )
    if threshold is None or prints.signatures is None:
        return DuplicateLinks(prints.exact, np.empty((0, 2), dtype=np.int64))
    exact = prints.exact
    representative = np.flatnonzero(exact >= 0)
    if len(representative):
        _, first = np.unique(exact[representative], return_index=True)
        representative = np.sort(representative[first])
    candidates = lsh_candidates(prints.signatures, representative, bands)
    similarity = shingle_jaccard(array, candidates, shingle=shingle, random_state=random_state)
    return DuplicateLinks(exact, candidates[similarity >= threshold])


def near_duplicate_pairs(texts: TextInput, *, threshold: float = 0.7, **options) -> np.ndarray:
    """Row pairs (k x 2) of near-duplicate texts (see :func:`find_duplicates` for the options)."""
    return find_duplicates(texts, threshold=threshold, **options).near_pairs


def linked_components(
    n_rows: int, *, keys: Sequence[np.ndarray] = (), pairs: np.ndarray | None = None
) -> np.ndarray:
    """Component id per row: rows sharing a value in any of ``keys`` or listed in ``pairs`` are
    linked.

    Each array in ``keys`` has one integer code per row; negative codes mean "no key". Component
    ids are numbered in order of first appearance.
    """
    rows, cols = [], []
    offset = n_rows
    for codes in keys:
        codes = np.asarray(codes)
        if len(codes) != n_rows:
            raise ValueError(f"a key has {len(codes)} codes for {n_rows} rows")
        has = np.flatnonzero(codes >= 0)
        rows.append(has)
        cols.append(codes[has] + offset)
        offset += int(codes.max()) + 1 if len(has) else 0
    if pairs is not None and len(pairs):
        rows.append(pairs[:, 0])
        cols.append(pairs[:, 1])
    if not rows:
        return np.arange(n_rows)
    r = np.concatenate(rows)
    c = np.concatenate(cols)
    graph = coo_matrix((np.ones(len(r), dtype=np.int8), (r, c)), shape=(offset, offset))
    _, labels = connected_components(graph, directed=False)
    return pd.factorize(labels[:n_rows])[0]
