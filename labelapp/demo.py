"""The demo: a data directory with an SQLite database, two real projects and four users."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from labelapp.models.roles import Role

if TYPE_CHECKING:
    from labelapp.models import Project

DEMO_USERS = (  # username, role, password: printed by `labelapp demo`; change them for real use
    ("admin", Role.ADMIN.value, "demo-admin"),
    ("sme", Role.SME.value, "demo-sme"),
    ("alice", Role.ANNOTATOR.value, "demo-alice"),
    ("bob", Role.ANNOTATOR.value, "demo-bob"),
)
TEXT_PROJECT = "youtube-spam"
GOLD_COMMENTS = 40  # known answers among the comments, to show annotator accuracy
IMAGE_PROJECT = "digits"
GUIDELINES = """# Is this YouTube comment spam?

**spam** (key `2`): the comment advertises something unrelated to the video — a channel to subscribe
to, a link, a product, "check out my ...", money offers, requests for likes or follows.

**ham** (key `1`): a real reaction to the video or the artist, even if rude, short or off-topic.

**ambiguous** (key `3`): you cannot tell (for example a bare link with no context). Prefer a
decision; use ambiguous when a second reader would reasonably disagree.

Tips: self-promotion of the commenter's *own* music is spam. Song lyrics quoted alone are ham.
"""


@dataclass
class DemoInfo:
    data_dir: Path
    database_url: str
    created: bool
    admin_token: str


def prepare(data_dir: Path) -> DemoInfo:
    """Create (or reuse) the demo database in ``data_dir``. Safe to run again."""
    from labelapp.config import private_dir

    data_dir = private_dir(data_dir)
    os.environ["LABELAPP_DATA_DIR"] = str(data_dir)
    url = f"sqlite:///{data_dir / 'labelapp.sqlite3'}"
    os.environ["LABELAPP_DATABASE_URL"] = url

    from labelapp.db import begin_write, make_engine, make_session_factory, session_scope
    from labelapp.migrate import upgrade
    from labelapp.models import Project
    from labelapp.services.users import get_user, rotate_token

    upgrade(url)
    engine = make_engine(url)
    try:
        factory = make_session_factory(engine)
        with session_scope(factory) as session:
            begin_write(session)  # a server may be writing to this database right now
            created = session.scalar(select(Project.id).where(Project.name == TEXT_PROJECT)) is None
            if created:
                _populate(session)
            token = rotate_token(session, get_user(session, "admin"))
    finally:
        engine.dispose()
    return DemoInfo(data_dir=data_dir, database_url=url, created=created, admin_token=token)


def _populate(session: Session) -> None:
    from labelapp.services.imports import ImportOptions, import_path
    from labelapp.services.projects import create_project
    from labelapp.services.users import add_member, create_user

    users = [create_user(session, name, role, password=pw)[0] for name, role, pw in DEMO_USERS]
    text = create_project(
        session,
        TEXT_PROJECT,
        ["ham", "spam"],
        allow_ambiguous=True,
        description="1,956 real YouTube comments (UCI YouTube Spam Collection, CC BY 4.0): "
        "spam or not?",
        guidelines=GUIDELINES,
        queue_order="random",
    )
    truth = _import_comments(session, text)
    _simulate_annotators(session, text, truth)
    digits = create_project(
        session,
        IMAGE_PROJECT,
        [str(d) for d in range(10)],
        task_type="image",
        hotkeys=[str(d) for d in range(10)],
        description="300 handwritten digits from scikit-learn's bundled digits data set.",
        guidelines="# Which digit is this?\n\nPress the digit's key. Unreadable? Skip it (`s`).",
    )
    digits.flips_keep_label = False  # a mirrored 2 is no 2: exports leave flips out
    with tempfile.TemporaryDirectory() as tmp:
        _write_digit_images(Path(tmp), count=300)
        import_path(session, digits, Path(tmp), ImportOptions())
    for user in users:
        if not user.is_admin:
            add_member(session, user, text)
            add_member(session, user, digits)


class _PlainText(HTMLParser):
    """A comment's text from the markup the data set stores (YouTube's HTML): tags dropped,
    ``<br>`` as a new line, entities such as ``&#39;`` decoded (by the standard library's
    parser; the raw data escapes a literal ``<`` as ``&lt;``, so every ``<`` starts a tag)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "br":
            self.parts.append("\n")


def plain_text(markup: str) -> str:
    """The text a reader sees in ``markup`` (see :class:`_PlainText`)."""
    parser = _PlainText()
    parser.feed(markup)
    parser.close()
    return "".join(parser.parts).strip()


def _simulate_annotators(session: Session, project: Project, truth: dict[str, str]) -> None:
    """Overlap on a seeded share of the comments, answered by three simulated annotators of
    different reliability (labelapp.demo_annotators), so agreement has real numbers at once."""
    from labelapp.demo_annotators import OVERLAP_K, OVERLAP_SHARE, SIMULATED, simulate
    from labelapp.services.overlap import queue_overlap
    from labelapp.services.projects import current_guideline
    from labelapp.services.users import add_member, create_user

    project.overlap_k, project.overlap_share = OVERLAP_K, OVERLAP_SHARE
    queue_overlap(session, project)
    people = [create_user(session, name, Role.ANNOTATOR.value)[0] for name, _ in SIMULATED]
    for person in people:
        add_member(session, person, project)
    guideline = current_guideline(session, project)
    simulate(session, project, people, truth, guideline.version if guideline else 1)


def _import_comments(session: Session, project: Project) -> dict[str, str]:
    """The comments, without their answer column: the data set's CLASS (0 ham, 1 spam) would sit
    in every item's metadata on the labeling page. ``GOLD_COMMENTS`` of them, chosen with a
    fixed seed, come in as gold items (known answers served at the project's gold rate).
    Returns every comment's answer by its id (for the simulated annotators only)."""
    import pandas as pd

    from labelapp.services.imports import ImportOptions, import_path

    data = resources.files("labelapp") / "demo_data" / "youtube_spam.csv"
    with resources.as_file(data) as path:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame["label"] = frame.pop("CLASS").map({"0": "ham", "1": "spam"})
    frame["CONTENT"] = frame["CONTENT"].map(plain_text)
    gold = frame.sample(n=GOLD_COMMENTS, random_state=0)
    rest = frame.drop(gold.index).drop(columns="label")
    columns = {"text_col": "CONTENT", "id_col": "COMMENT_ID", "group_col": "AUTHOR"}
    with tempfile.TemporaryDirectory() as tmp:
        gold.to_csv(Path(tmp) / "youtube_spam_gold.csv", index=False)
        rest.to_csv(Path(tmp) / "youtube_spam.csv", index=False)
        import_path(
            session,
            project,
            Path(tmp) / "youtube_spam_gold.csv",
            ImportOptions(**columns, label_col="label", gold=True),
        )
        import_path(session, project, Path(tmp) / "youtube_spam.csv", ImportOptions(**columns))
    project.gold_rate = 0.05
    return dict(zip(frame["COMMENT_ID"], frame["label"], strict=True))


def _write_digit_images(folder: Path, count: int) -> None:
    """Render scikit-learn's 8x8 digits as 64x64 PNGs (nearest-neighbour, so pixels stay crisp)."""
    import numpy as np
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    for i in range(count):
        pixels = (255 - digits.images[i] * (255 / 16)).astype(np.uint8)
        image = Image.fromarray(pixels, mode="L").resize((64, 64), Image.Resampling.NEAREST)
        image.save(folder / f"digit_{i:04d}.png")
