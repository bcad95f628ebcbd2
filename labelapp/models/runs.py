"""Background work and its products: jobs, model runs, dataset versions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from labelapp.models.base import Base, utcnow

JOB_STATUSES = ("queued", "running", "done", "failed", "cancelled")
# A job in these states holds its (project, kind): the partial unique index below allows one.
JOB_ACTIVE_STATUSES = ("queued", "running")
_ACTIVE_SQL = "status IN ('queued', 'running')"


class Job(Base):
    """A background task (retrain, apply LFs, export...) with progress, error and timings."""

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int | None] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    progress: Mapped[float] = mapped_column(default=0.0)
    message: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str | None] = mapped_column(Text)  # what went wrong, for every member
    traceback: Mapped[str | None] = mapped_column(Text)  # a crash's traceback, for admins only
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    result: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    # Durable jobs (issue 16): the worker running a job renews heartbeat_at every few seconds (a
    # queued job's is when it was last put on the task queue); a job whose heartbeat is older than
    # the lease is run again by the next worker, or failed after its attempts.
    heartbeat_at: Mapped[datetime | None] = mapped_column()
    attempts: Mapped[int] = mapped_column(default=0)
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    worker: Mapped[str | None] = mapped_column(String(255))  # host:pid of the running worker

    __table_args__ = (
        Index(
            "uq_jobs_active_project_kind",
            "project_id",
            "kind",
            unique=True,
            sqlite_where=text(_ACTIVE_SQL),
            postgresql_where=text(_ACTIVE_SQL),
        ),
    )


class ModelRun(Base):
    """A model trained on human labels: features, estimator, training set and held-out metrics."""

    __tablename__ = "model_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    featurizer: Mapped[str] = mapped_column(String(64))
    estimator: Mapped[str] = mapped_column(String(64))
    strategy: Mapped[str] = mapped_column(String(32))
    n_train: Mapped[int] = mapped_column(default=0)
    n_eval: Mapped[int] = mapped_column(default=0)
    trained_through_annotation_id: Mapped[int | None] = mapped_column()
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DatasetVersion(Base):
    """An export: parameters, manifest (hashes, counts, label sources) and where it was written."""

    __tablename__ = "dataset_versions"
    __table_args__ = (UniqueConstraint("project_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column()
    format: Mapped[str] = mapped_column(String(32))
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    manifest: Mapped[dict[str, Any]] = mapped_column(default=dict)
    manifest_sha256: Mapped[str] = mapped_column(String(64))
    out_dir: Mapped[str] = mapped_column(String(1000))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
