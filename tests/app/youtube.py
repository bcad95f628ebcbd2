"""The YouTube spam comments as the tests use them: the demo's file, the UCI videos, their
labels as ham/spam, imported through the service or the command line."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from click.testing import CliRunner, Result

import labelapp
from labelapp.cli import main
from labelapp.db import session_scope
from labelapp.models import Project
from labelapp.services.imports import ImportOptions, import_path
from tests.paths import SHARED_DATA

DEMO_CSV = Path(labelapp.__file__).parent / "demo_data" / "youtube_spam.csv"
UCI = SHARED_DATA / "youtube_spam_uci"  # one CSV per video: COMMENT_ID, AUTHOR, CONTENT, CLASS

# Keyword LFs that find spam (and ham) among the comments.
KEYWORD_LFS = (
    {"kind": "keyword", "name": "kw_check", "label": "spam", "keywords": ["check", "subscribe"]},
    {"kind": "keyword", "name": "kw_http", "label": "spam", "keywords": ["http", "channel"]},
    {"kind": "keyword", "name": "kw_song", "label": "ham", "keywords": ["song", "love"]},
)


def demo_comments(n: int | None = None) -> tuple[list[str], list[str]]:
    """The demo's distinct comments (the first ``n``) and their true classes (ham, spam)."""
    frame = pd.read_csv(DEMO_CSV).drop_duplicates("CONTENT")
    frame = frame if n is None else frame.head(n)
    return frame["CONTENT"].tolist(), ["spam" if c == 1 else "ham" for c in frame["CLASS"]]


def labeled_video(path: Path, keep_class: bool = False) -> pd.DataFrame:
    """A video's comments as text, with a ``label`` column (ham, spam) made from ``CLASS``
    (which stays only with ``keep_class``)."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    classes = frame["CLASS"] if keep_class else frame.pop("CLASS")
    frame["label"] = classes.map({"0": "ham", "1": "spam"})
    return frame


def import_labeled(sessions, project_id: int, path: Path, schema: str = "strict") -> None:
    """Import a :func:`labeled_video` file: human labels, comments grouped by author."""
    options = ImportOptions(
        text_col="CONTENT",
        id_col="COMMENT_ID",
        group_col="AUTHOR",
        label_col="label",
        label_kind="human",
        schema=schema,
    )
    with session_scope(sessions) as session:
        import_path(session, session.get(Project, project_id), path, options)


def cli_import(path: Path, project: str, *options: str) -> Result:
    """``labelapp import PATH --project PROJECT --create --labels ham,spam`` of comments (text
    ``CONTENT``, id ``COMMENT_ID``) with more ``options``."""
    args = ["import", str(path), "--project", project, "--create", "--labels", "ham,spam"]
    args += ["--text-col", "CONTENT", "--id-col", "COMMENT_ID", *options]
    return CliRunner().invoke(main, args, catch_exceptions=False)
