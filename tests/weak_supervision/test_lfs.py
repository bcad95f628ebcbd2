"""Each LF kind: its votes, its spec validation, and equality with Snorkel's PandasLFApplier."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from tests.paths import SHARED_DATA
from weak_supervision.apply import apply_lfs
from weak_supervision.lfs import KeywordLF, MetadataLF, RegexLF, lf_from_spec, lfs_from_specs
from weak_supervision.python_lfs import load_python_lfs

TRICKY = [
    "Check OUT my channel",
    "ΣΟΦΟΣ ΟΔΥΣΣΕΥΣ",  # final sigma: Python lower-cases it to ς at a word's end
    "İstanbul İS big",  # U+0130 lower-cases to two code points in Python
    "\ufeffSUBSCRIBE plz",
    "Kelvin \u212a and long \u017f",  # fold onto ASCII k / s under re.IGNORECASE
    "tab\x0bvertical\x1cfile sep",
    "caf\u00e9\u00a0au lait  \u2003wide space",
    "ends with newline\n",
    "",
    "naïve Über 123 ٣٤٥",
]


def _snorkel(lfs, df):
    from snorkel.labeling import PandasLFApplier

    return PandasLFApplier([lf.to_snorkel() for lf in lfs]).apply(df, progress_bar=False)


def test_keyword_lf_votes_case_insensitive_by_default():
    lf = KeywordLF("kw", 1, keywords=["subscribe", "PLZ"])
    assert lf.vote({"text": "Please SUBSCRIBE"}) == 1
    assert lf.vote({"text": "plz"}) == 1
    assert lf.vote({"text": "nothing here"}) == -1
    assert lf.vote({"text": None}) == -1 and lf.vote({"text": 3.5}) == -1
    assert KeywordLF("cs", 0, keywords=["Song"], case_sensitive=True).vote({"text": "song"}) == -1


def test_regex_and_metadata_lf_votes():
    rx = RegexLF("rx", 1, pattern=r"check.*out", ignore_case=True)
    assert rx.vote({"text": "CHECK it OUT"}) == 1 and rx.vote({"text": "out check"}) == -1
    md = MetadataLF("md", 0, field="likes", op=">=", value=10)
    assert md.vote({"likes": 10}) == 0 and md.vote({"likes": 9.5}) == -1
    assert md.vote({"likes": float("nan")}) == -1 and md.vote({"likes": None}) == -1
    assert md.vote({"likes": "ten"}) == -1  # not comparable: abstain, not an error
    inn = MetadataLF("in", 1, field="channel", op="in", value=["a", "b"])
    assert inn.vote({"channel": "b"}) == 1 and inn.vote({"channel": "c"}) == -1


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"kind": "nope", "name": "x", "label": 1}, "unknown kind"),
        ({"kind": "keyword", "name": "x", "label": 1}, "keywords must be a non-empty list"),
        ({"kind": "keyword", "name": "x", "label": 1, "keywords": "spam"}, "non-empty list"),
        ({"kind": "keyword", "name": "x", "label": -1, "keywords": ["a"]}, "label must be"),
        ({"kind": "keyword", "name": "1 bad", "label": 1, "keywords": ["a"]}, "name"),
        ({"kind": "keyword", "name": "x", "label": 1, "keywords": ["a"], "typo": 1}, "typo"),
        ({"kind": "regex", "name": "x", "label": 1, "pattern": "(unclosed"}, "invalid pattern"),
        ({"kind": "metadata", "name": "x", "label": 1, "field": "f", "op": "~"}, "unknown op"),
        (
            {"kind": "metadata", "name": "x", "label": 1, "field": "f", "op": "in", "value": 3},
            "list of values",
        ),
        ({"kind": "keyword", "name": "x", "keywords": ["a"]}, "missing required key 'label'"),
    ],
)
def test_bad_specs_raise_clear_errors(spec, message):
    with pytest.raises(ValueError, match=message):
        lf_from_spec(spec)


def test_label_out_of_range_and_duplicate_names():
    with pytest.raises(ValueError, match="out of range for 2 classes"):
        lf_from_spec({"kind": "keyword", "name": "x", "label": 2, "keywords": ["a"]}, n_classes=2)
    spec = {"kind": "keyword", "name": "x", "label": 1, "keywords": ["a"]}
    with pytest.raises(ValueError, match="unique"):
        lfs_from_specs([spec, spec])


def test_specs_round_trip():
    specs = [
        {
            "kind": "keyword",
            "name": "k",
            "label": 1,
            "keywords": ["a", "B"],
            "field": "text",
            "case_sensitive": False,
        },
        {
            "kind": "regex",
            "name": "r",
            "label": 0,
            "pattern": "x+",
            "field": "t",
            "ignore_case": True,
        },
        {"kind": "metadata", "name": "m", "label": 1, "field": "n", "op": "in", "value": [1, 2]},
    ]
    assert [lf.to_spec() for lf in lfs_from_specs(specs)] == specs


def test_missing_field_is_reported():
    lf = KeywordLF("kw", 1, keywords=["a"], field="body")
    with pytest.raises(ValueError, match="reads field 'body'"):
        apply_lfs([lf], pd.DataFrame({"text": ["a"]}))


def test_python_lfs_load_from_file(tmp_path):
    path = tmp_path / "my_lfs.py"
    path.write_text(
        "from snorkel.labeling import labeling_function\n\n"
        "@labeling_function()\n"
        "def short(x):\n"
        "    return 0 if len(x.text.split()) < 3 else -1\n\n"
        "@labeling_function()\n"
        "def has_link(x):\n"
        "    return 1 if 'http' in x.text else -1\n"
    )
    lfs = load_python_lfs(path)
    assert [lf.name for lf in lfs] == ["short", "has_link"]
    df = pd.DataFrame({"text": ["hi there", "see http://x.y now please", "a b c d"]})
    assert apply_lfs(lfs, df).tolist() == [[0, -1], [-1, 1], [-1, -1]]
    spec_lf = lf_from_spec({"kind": "python", "name": "has_link", "source": path.read_text()})
    assert spec_lf.name == "has_link"
    (tmp_path / "none.py").write_text("x = 1\n")
    with pytest.raises(ValueError, match="defines no Snorkel labeling functions"):
        load_python_lfs(tmp_path / "none.py")
    (tmp_path / "broken.py").write_text("def (:\n")
    with pytest.raises(ValueError, match="failed to load"):
        load_python_lfs(tmp_path / "broken.py")


@pytest.fixture(scope="module")
def youtube_frame() -> pd.DataFrame:
    files = sorted((SHARED_DATA / "youtube_spam_uci").glob("Youtube0*.csv"))
    raw = pd.concat([pd.read_csv(f) for f in files], ignore_index=True)
    extra = pd.DataFrame({"CONTENT": TRICKY, "AUTHOR": [None] * len(TRICKY)})
    raw = pd.concat([raw, extra], ignore_index=True)
    return pd.DataFrame(
        {
            "text": raw["CONTENT"].astype("str"),
            "author": raw["AUTHOR"],
            "length": raw["CONTENT"].str.len(),
            "mixed": [1, "a", None, 2.5] * (len(raw) // 4) + [math.nan] * (len(raw) % 4),
        }
    )


ALL_KINDS = [
    {"kind": "keyword", "name": "my", "label": 1, "keywords": ["my"]},
    {"kind": "keyword", "name": "sub", "label": 1, "keywords": ["subscribe", "σοφος", "i̇s"]},
    {
        "kind": "keyword",
        "name": "song_cs",
        "label": 0,
        "keywords": ["Song"],
        "case_sensitive": True,
    },
    {"kind": "regex", "name": "check", "label": 1, "pattern": "check.*out", "ignore_case": True},
    {"kind": "regex", "name": "words", "label": 1, "pattern": r"\b(love|like|k)\b"},
    {
        "kind": "regex",
        "name": "kelvin",
        "label": 1,
        "pattern": r"[k-s]\w*\s+and",
        "ignore_case": True,
    },
    {"kind": "regex", "name": "spaces", "label": 0, "pattern": r"\S\s\S"},
    {"kind": "regex", "name": "ends", "label": 0, "pattern": r"[!?e]$"},
    {"kind": "regex", "name": "backref", "label": 0, "pattern": r"(\w)\1\1"},
    {"kind": "regex", "name": "digits", "label": 1, "pattern": r"\d{3}"},
    {"kind": "regex", "name": "at_most", "label": 1, "pattern": r"wo{,1}w"},
    {"kind": "metadata", "name": "long", "label": 0, "field": "length", "op": ">", "value": 100},
    {
        "kind": "metadata",
        "name": "author",
        "label": 1,
        "field": "author",
        "op": "in",
        "value": ["M.E.S", "Shakira"],
    },
    {
        "kind": "metadata",
        "name": "author_ge",
        "label": 1,
        "field": "author",
        "op": ">=",
        "value": "Z",
    },
    {"kind": "metadata", "name": "mixed", "label": 1, "field": "mixed", "op": "<", "value": 2},
]


def test_vectorized_votes_equal_snorkel_pandas_applier(youtube_frame):
    lfs = lfs_from_specs(ALL_KINDS)
    ours = apply_lfs(lfs, youtube_frame)
    theirs = _snorkel(lfs, youtube_frame)
    assert ours.dtype == np.int8
    mismatch = {lfs[j].name: int((ours[:, j] != theirs[:, j]).sum()) for j in range(len(lfs))}
    assert not any(mismatch.values()), mismatch
    # every LF fires somewhere, so equality is not vacuous
    assert ((ours >= 0).sum(axis=0) > 0).all()
    # the tricky rows really exercise the Unicode paths
    tail = ours[-len(TRICKY) :]
    assert tail[1, 1] == 1 and tail[2, 1] == 1 and tail[4, 5] == 1


def test_spam_tutorial_declarative_lfs_match_the_published_coverage():
    from weak_supervision.analysis import lf_analysis
    from weak_supervision.examples import youtube_spam as ys

    splits = ys.load_splits(SHARED_DATA / "youtube_spam_uci")
    assert {k: len(v) for k, v in splits.items()} == {
        "train": 1586,
        "dev": 100,
        "valid": 120,
        "test": 250,
    }
    lfs = lfs_from_specs(ys.DECLARATIVE_SPECS)
    table = lf_analysis(apply_lfs(lfs, splits["train"]), lf_names=[lf.name for lf in lfs])
    published = {lf.name: ys.PUBLISHED_COVERAGE[lf.name] for lf in lfs}
    assert table["coverage"].round(6).to_dict() == published


def test_apply_handles_empty_frames_and_non_string_columns():
    lfs = lfs_from_specs(
        [
            {"kind": "keyword", "name": "k", "label": 1, "keywords": ["a"]},
            {"kind": "regex", "name": "r", "label": 0, "pattern": "^1"},
        ]
    )
    assert apply_lfs(lfs, pd.DataFrame({"text": pd.Series([], dtype="str")})).shape == (0, 2)
    mixed = pd.DataFrame({"text": ["a", 1, None, "1a"]})  # object column: Python semantics
    assert apply_lfs(lfs, mixed).tolist() == [[1, -1], [-1, -1], [-1, -1], [1, 0]]
