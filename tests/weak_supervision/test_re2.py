"""Python-regex semantics through RE2: exact on every row, including Unicode corner cases."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from weak_supervision import re2
from weak_supervision.apply import apply_lfs
from weak_supervision.lfs import RegexLF

PATTERNS = [
    (r"check.*out", True),
    (r"\bfree\b", False),
    (r"\w+@\w+\.com", False),
    (r"[^a-z ]{3}", True),
    (r"^hi|bye$", False),
    (r"(?i)win+(er|ning)?", False),
    (r"\d+\s*%", False),
    (r"a{2,3}?b", False),
    (r"(?m)^x.*y$", False),
    (r"(?s)a.b", False),
    (r"\Bing\b", False),
    (r"[\s\d]x", False),
    (r"wo{,1}w|a{,2}b", False),  # Python reads {,n} as {0,n}; RE2 would read it literally
    (r"(?a)\w\s\w", False),
]
TEXTS = [
    "Check it out",
    "free stuff",
    "freedom",
    "mail me@host.com",
    "mé@hôst.com",
    "ABC!!!",
    "hi there",
    "say bye",
    "bye\n",
    "WINNER",
    "winning",
    "50 %",
    "５０ %",
    "aab",
    "aaab",
    "x\nmiddle\nxy",
    "a\nb",
    "singing",
    "ＡＢＣ",
    "\u212a\u017f",
    "\u0131\u0130",
    "tab\x0bx",
    "nbsp\u00a0x",
    "Σ1x",
    "\x1cx",
    "ok ok",
    "ǅa",
    "٣x",
    "",
    "\u2003x",
]


@pytest.mark.parametrize(("pattern", "ignore_case"), PATTERNS)
def test_translated_patterns_match_python_on_every_row(pattern, ignore_case):
    plan = re2.translate(pattern, ignore_case)
    assert plan is not None, "these patterns are all translatable"
    lf = RegexLF("r", 1, pattern=pattern, ignore_case=ignore_case)
    ours = apply_lfs([lf], pd.DataFrame({"text": TEXTS}))[:, 0]
    expected = [lf.vote_value(t) for t in TEXTS]
    assert ours.tolist() == expected


@pytest.mark.parametrize("pattern", [r"(a)\1", r"x(?=y)", r"(?<!a)b", r"a$b", r"(?i:a)b", r"a*+b"])
def test_untranslatable_patterns_fall_back_to_python(pattern):
    assert re2.translate(pattern) is None
    lf = RegexLF("r", 1, pattern=pattern)
    ours = apply_lfs([lf], pd.DataFrame({"text": TEXTS + ["aa", "xy", "xxy", "cb", "ab"]}))
    assert ours[:, 0].tolist() == [
        lf.vote_value(t) for t in TEXTS + ["aa", "xy", "xxy", "cb", "ab"]
    ]


def _sample_code_points() -> np.ndarray:
    """Every non-ASCII BMP code point (where nearly all cased letters live) and 40,000 random
    astral ones: the full 1.1M take several seconds per check on a loaded machine."""
    cps = re2._code_points()
    rng = np.random.default_rng(0)
    return np.concatenate([cps[cps < 0x10000], np.sort(rng.choice(cps[cps >= 0x10000], 40_000))])


def test_ignorecase_hazard_covers_every_folding_difference():
    # Every non-ASCII character that Python's re.I or RE2's (?i) equates with an ASCII letter
    # is a hazard, so rows without one get identical answers from both engines.
    cps = _sample_code_points()
    chars = [chr(c) for c in cps]
    arr = pa.array(chars)
    py = np.array([bool(m) for m in map(re.compile("[a-z]", re.I).match, chars)])
    rx = np.asarray(pc.match_substring_regex(arr, "(?i)[a-z]"))
    hazard = re2.hazard_mask("ignorecase", cps)
    assert not ((py != rx) & ~hazard).any()
    assert hazard.sum() < 10  # a handful (K, ſ, ı, İ), not a blanket fallback


def test_word_and_space_hazards_hold_all_non_ascii_word_and_space_chars():
    cps = _sample_code_points()
    chars = [chr(c) for c in cps]
    # Python's documented definitions: \w is str.isalnum() or "_", \s is str.isspace()
    word = np.array([c.isalnum() for c in chars])
    space = np.array([c.isspace() for c in chars])
    assert (re2.hazard_mask("word", cps) == word).all()
    assert (re2.hazard_mask("space", cps) == space).all()
    assert re2.hazard_mask("space", np.array([0x0B, 0x1C, 0x1F])).all()
    assert not re2.hazard_mask("space", np.array([ord("a"), ord(" "), ord("\t")])).any()


def test_lower_hazard_marks_where_arrow_and_python_lower_differ():
    cps = _sample_code_points()
    chars = [chr(c) for c in cps]
    arrow = pc.utf8_lower(pa.array(chars)).to_pylist()
    differ = np.array([c.lower() != a for c, a in zip(chars, arrow, strict=True)])
    table = re2.hazard_mask("lower", cps)
    assert not (differ & ~table).any() and table[chars.index("\u03a3")]


def test_hazard_rows_found_from_the_utf8_bytes():
    from weak_supervision.vectorized import StringColumn

    texts = ["plain", "caf\u00e9", None, "\u212a", "x\x0by", "\U0001f600 ok", "", "\u00a0"]
    col = StringColumn(pd.Series(texts, dtype="str"))
    assert col.rows_with(("word",)).tolist() == [0, 1, 0, 1, 0, 0, 0, 0]  # K is a letter
    assert col.rows_with(("space",)).tolist() == [0, 0, 0, 0, 1, 0, 0, 1]
    assert col.rows_with(("ignorecase",)).tolist() == [0, 0, 0, 1, 0, 0, 0, 0]
    assert col.rows_with(("non_ascii",)).tolist() == [0, 1, 0, 1, 0, 1, 0, 1]
    sliced = StringColumn(pd.Series(texts[3:], dtype="str"))
    assert sliced.rows_with(("word", "space")).tolist() == [1, 1, 0, 0, 1]


@pytest.mark.slow
def test_random_patterns_agree_with_python_on_tricky_texts():
    rng = np.random.default_rng(7)
    pieces = [
        "a",
        "K",
        "s",
        "é",
        "ü",
        r"\w",
        r"\W",
        r"\d",
        r"\s",
        r"\S",
        r"\b",
        r"\B",
        ".",
        "[a-z]",
        "[^ab]",
        r"[\w.]",
        r"[\s\d]",
        "[é-ü]",
        "(?:ab|c)",
        "ς",
        "ı",
        " ",
        "-",
        r"\.",
        "^",
        "$",
    ]
    quant = ["", "", "", "*", "+", "?", "{1,2}", "*?", "{,2}"]
    chars = list("aAkKsSéÉüÜıİſKΣσς٣  \t\x0b\x1c\n.-_1 b")
    texts = ["".join(rng.choice(chars, size=rng.integers(0, 12))) for _ in range(300)]
    texts += ["ΣΟΦΟΣ", "ab\n", "", "Kelvin K", "straße", "ǅemal", "x\u0130y"]
    frame = pd.DataFrame({"text": pd.Series(texts, dtype="str")})
    lfs = []
    for i in range(150):
        body = "".join(rng.choice(pieces) + rng.choice(quant) for _ in range(rng.integers(1, 4)))
        try:
            lfs.append(RegexLF(f"r{i}", 1, pattern=body, ignore_case=bool(rng.integers(0, 2))))
        except ValueError:  # e.g. a quantifier after an anchor: not a valid Python pattern
            continue
    votes = apply_lfs(lfs, frame)
    expected = np.array([[lf.vote_value(t) for lf in lfs] for t in texts])
    bad = [lfs[j].pattern for j in np.flatnonzero((votes != expected).any(axis=0))]
    assert not bad, bad
    assert sum(re2.translate(lf.pattern, lf.ignore_case) is not None for lf in lfs) > 80


@pytest.mark.slow
def test_random_keywords_and_flags_agree_with_python():
    from weak_supervision.lfs import KeywordLF

    rng = np.random.default_rng(11)
    chars = list("aAkKsSéÉüÜıİſKΣσς٣ \t\n.-_1bß")
    texts = ["".join(rng.choice(chars, size=rng.integers(0, 10))) for _ in range(300)]
    texts += ["ΣΟΦΟΣ ΟΔΥΣ", "İSTANBUL", "STRASSE straße", ""]
    frame = pd.DataFrame({"text": pd.Series(texts, dtype="str")})
    lfs = []
    for i in range(60):
        needles = ["".join(rng.choice(chars, size=rng.integers(1, 3))) for _ in range(2)]
        lfs.append(KeywordLF(f"k{i}", 1, keywords=needles, case_sensitive=bool(i % 3 == 0)))
        flags = str(rng.choice(["", "(?m)", "(?s)", "(?x)"]))
        lfs.append(
            RegexLF(
                f"r{i}",
                0,
                pattern=flags + "^" + needles[0] + "|" + needles[1] + "$",
                ignore_case=bool(i % 2),
            )
        )
    votes = apply_lfs(lfs, frame)
    expected = np.array([[lf.vote_value(t) for lf in lfs] for t in texts])
    bad = [lfs[j].to_spec() for j in np.flatnonzero((votes != expected).any(axis=0))]
    assert not bad, bad
