"""The active-learning card's one story: the strategy now, the model run that ordered the queue,
and when the next retrain comes. The page and ``GET /api/projects/{id}/learning`` both show these
sentences, so the card reads the same before and after a live update."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from active_learning.names import STRATEGY_TITLES
from labelapp.models import Job, ModelRun, Project, QueueEntry
from labelapp.services.jobs import active_job
from labelapp.services.retrain_trigger import labels_since_last_run

UNSCORED_ORDER = {"import": "in import order", "random": "in a seeded random order"}


@dataclass(frozen=True)
class LearningStory:
    """What the card says, sentence by sentence, and the facts behind it (for the API)."""

    strategy: str
    queue_run_id: int | None
    scored_items: int
    labels_since_run: int | None
    labels_to_next_retrain: int | None
    job: Job | None
    now: str
    queue: str
    next_retrain: str

    def as_json(self) -> dict[str, Any]:
        job = self.job
        return {
            "strategy": self.strategy,
            "queue_run_id": self.queue_run_id,
            "scored_items": self.scored_items,
            "labels_since_run": self.labels_since_run,
            "labels_to_next_retrain": self.labels_to_next_retrain,
            "job_id": job.id if job else None,
            "sentences": {"now": self.now, "queue": self.queue, "next_retrain": self.next_retrain},
        }


def _title(strategy: str | None) -> str:
    return STRATEGY_TITLES.get(strategy or "", strategy or "no strategy")


def _queue_sentence(project: Project, run: ModelRun | None, scored: int) -> str:
    rest = UNSCORED_ORDER.get(project.queue_order, project.queue_order)
    if run is None:
        return f"No model has ordered the queue yet: items come {rest}."
    accuracy = (run.metrics or {}).get("accuracy")
    held_out = (
        f", {100 * accuracy:.1f}% accurate on held-out labels" if accuracy is not None else ""
    )
    text = (
        f"The queue is ordered by model run #{run.id} ({_title(run.strategy)}, trained on "
        f"{run.n_train:,} labels on {run.created_at:%Y-%m-%d %H:%M} UTC{held_out}): its "
        f"{scored:,} best-scored items come first, the rest {rest}."
    )
    if run.strategy != project.strategy:
        text += (
            " The strategy has changed since: the next retrain orders by "
            f"{_title(project.strategy)}."
        )
    return text


def _next_sentence(project: Project, job: Job | None, since: int | None) -> str:
    if project.multi_label:
        return "Active learning orders single-label projects only: this queue keeps its order."
    if job is not None:
        done = (
            f" ({100 * job.progress:.0f}%{': ' + job.message if job.message else ''})"
            if job.progress is not None
            else ""
        )
        return f"Retrain job #{job.id} is {job.status} now{done}."
    if project.retrain_every <= 0:
        return "The next retrain starts when someone presses Retrain now (no automatic retrains)."
    assert since is not None
    left = max(0, project.retrain_every - since)
    return (
        f"The next retrain starts after {left:,} more label{'s' if left != 1 else ''} "
        f"({since:,} of {project.retrain_every:,} since the last run)."
    )


def learning_story(session: Session, project: Project) -> LearningStory:
    """Read the card's facts in one go and put them in sentences."""
    q = QueueEntry
    run_id, scored = session.execute(
        select(func.max(q.model_run_id), func.count(q.model_run_id)).where(
            q.project_id == project.id, q.model_run_id.is_not(None)
        )
    ).one()
    run = session.get(ModelRun, run_id) if run_id is not None else None
    job = active_job(session, project.id, "retrain")
    since = None
    if project.retrain_every > 0 and not project.multi_label:
        since = labels_since_last_run(session, project.id, project.retrain_every)
    now = f"Strategy: {_title(project.strategy)}, in batches of {project.batch_size:,}."
    return LearningStory(
        strategy=project.strategy,
        queue_run_id=run.id if run else None,
        scored_items=int(scored or 0),
        labels_since_run=since,
        labels_to_next_retrain=max(0, project.retrain_every - since) if since is not None else None,
        job=job,
        now=now,
        queue=_queue_sentence(project, run, int(scored or 0)),
        next_retrain=_next_sentence(project, job, since),
    )
