"""The demo's simulated annotators: three people of different reliability answering a seeded share
of the comments (and some gold items) from the data set's own answers, so that the agreement page,
adjudication and Dawid-Skene show real numbers on the demo's first start."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from labelapp.models import Annotation, Item, Project, QueueEntry, User
from labelapp.models.base import utcnow
from labelapp.services.labels import refresh_item_labels

# username, chance of giving the data set's answer (otherwise the other class, now and then
# "ambiguous"): a careful, an average and a hasty annotator
SIMULATED = (("carol", 0.96), ("dan", 0.86), ("erin", 0.72))
OVERLAP_K = 3
OVERLAP_SHARE = 0.15  # of the comments need three annotators; the simulation answers most of them
ANSWERED_SHARE = 0.6  # of those overlap items, answered by all three
GOLD_ANSWERED = 30  # gold items answered by all three (gold accuracy per annotator)
SEED = 18
DAYS = 21  # answers spread over the last three weeks: agreement over time has several periods


def _answer(rng: np.random.Generator, truth: str, reliability: float, labels: list[str]) -> str:
    if rng.random() < reliability:
        return truth
    if rng.random() < 0.1:
        return "ambiguous"
    return rng.choice([lab for lab in labels if lab != truth])


def simulate(
    session: Session, project: Project, users: list[User], truth: dict[str, str], guideline: int
) -> int:
    """Answers of ``users`` (one per :data:`SIMULATED` entry) on the project's overlap items and
    on some gold items, given ``truth`` (external id -> label); returns how many were added.
    Queue entries count the answers, so real annotators get the overlap items left."""
    rng = np.random.default_rng(SEED)
    labels = [lab.name for lab in project.labels if not lab.is_ambiguous]
    rows = session.execute(
        select(Item.id, Item.external_id, QueueEntry.is_gold, QueueEntry.remaining)
        .join(QueueEntry, QueueEntry.item_id == Item.id)
        .where(Item.project_id == project.id)
        .order_by(Item.id)
    ).all()
    overlap = [r for r in rows if not r.is_gold and r.remaining >= len(users)]
    gold = [r for r in rows if r.is_gold]
    chosen = [
        overlap[i]
        for i in sorted(rng.choice(len(overlap), int(len(overlap) * ANSWERED_SHARE), replace=False))
    ]
    chosen += [
        gold[i] for i in sorted(rng.choice(len(gold), min(GOLD_ANSWERED, len(gold)), replace=False))
    ]
    now = utcnow()
    added = 0
    for row in chosen:
        when = now - timedelta(days=float(rng.uniform(0.2, DAYS)))
        for k, (user, (_, reliability)) in enumerate(zip(users, SIMULATED, strict=True)):
            session.add(
                Annotation(
                    item_id=row.id,
                    project_id=project.id,
                    user_id=user.id,
                    kind="label",
                    labels=[_answer(rng, truth[row.external_id], reliability, labels)],
                    client_id=f"demo-sim-{row.id}-{k}",
                    duration_ms=int(rng.integers(1500, 9000)),
                    guideline_version=guideline,
                    created_at=when + timedelta(minutes=5 * k),
                )
            )
            added += 1
        if not row.is_gold:
            entry = session.get(QueueEntry, row.id)
            entry.remaining = max(0, entry.remaining - len(users))
    session.flush()
    refresh_item_labels(session, project, [row.id for row in chosen])
    return added
