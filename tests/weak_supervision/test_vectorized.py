"""The vectorized applier's keyword grouping and thread scheduling give Python's votes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from weak_supervision.apply import apply_lfs
from weak_supervision.lfs import KeywordLF, RegexLF
from weak_supervision.vectorized import _start_order, keyword_patterns


def test_keyword_patterns_group_needles_by_first_character():
    assert keyword_patterns(["please", "plz"]) == ["please|plz"]
    assert keyword_patterns(["win", "won", "prize"]) == ["win|won", "prize"]
    assert keyword_patterns(["£", "cash"]) == ["\\x{a3}", "cash"]
    # more than 3 first characters: one DFA pass beats 4 memchr passes
    assert keyword_patterns(["a", "b", "c", "d"]) == ["a|b|c|d"]


def test_grouped_keywords_and_thread_counts_agree_with_python():
    rng = np.random.default_rng(5)
    words = ["win", "WON", "prize", "İzmir", "cash", "£5", "Straße", "ΣΟΦΟΣ", "kelvin K", "x"]
    texts = [" ".join(rng.choice(words, size=rng.integers(0, 4))) for _ in range(400)]
    frame = pd.DataFrame({"text": pd.Series([*texts, None, ""], dtype="str")})
    lfs = [
        KeywordLF("k1", 1, keywords=["win", "won", "prize"]),
        KeywordLF("k2", 1, keywords=["cash", "£"]),
        KeywordLF("k3", 0, keywords=["i̇z", "σοφος", "k", "x"]),  # 4 first chars: one pattern
        KeywordLF("k4", 1, keywords=["WON", "Won"], case_sensitive=True),
        RegexLF("r1", 1, pattern=r"\bwin\b", ignore_case=True),
        RegexLF("r2", 0, pattern=r"\d+"),
    ]
    expected = np.array([[lf.vote_value(t) for lf in lfs] for t in frame["text"]])
    for n_threads in (1, 2, 4):
        assert (apply_lfs(lfs, frame, n_threads=n_threads) == expected).all(), n_threads
    assert ((expected >= 0).sum(axis=0) > 0).all()  # every LF fires somewhere


def test_start_order_alternates_lower_case_and_other_lfs():
    lfs = [
        KeywordLF("a", 1, keywords=["x"]),
        KeywordLF("b", 1, keywords=["y"]),
        RegexLF("c", 1, pattern="z"),
        KeywordLF("d", 1, keywords=["w"], case_sensitive=True),
        KeywordLF("e", 1, keywords=["v"]),
    ]
    assert _start_order(lfs) == [2, 0, 3, 1, 4]


def test_hazard_rows_patched_across_arrow_chunks():
    import pyarrow as pa

    from weak_supervision.vectorized import _take_pylist

    texts = ["é12345", "12345", "naïve u", "u ok", "straße 99999", "ıx", "", "ÉCHECK OUT"] * 3
    chunks = pa.chunked_array([texts[:5], texts[5:6], [], texts[6:17], texts[17:]], pa.string())
    assert _take_pylist(chunks, np.array([0, 4, 5, 17, 23])) == [
        texts[i] for i in (0, 4, 5, 17, 23)
    ]
    frame = pd.DataFrame({"text": pd.Series(pd.arrays.ArrowStringArray(chunks))})
    lfs = [
        RegexLF("digits", 1, pattern=r"\b\d{5,}\b"),
        RegexLF("u", 0, pattern=r"\bu\b"),
        RegexLF("check", 1, pattern="check.*out", ignore_case=True),
        KeywordLF("i", 1, keywords=["ix", "é"]),
    ]
    expected = np.array([[lf.vote_value(t) for lf in lfs] for t in texts])
    assert (apply_lfs(lfs, frame) == expected).all()
    assert (expected >= 0).sum() > 10 and (expected < 0).sum() > 10
