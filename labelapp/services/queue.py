"""The annotation queue: claim the next item under a lease, submit, skip, undo, heartbeat.

Each (item, annotator) pair is in one of three states, read from the annotator's latest
append-only row for the item: nothing (no row, or a ``retract``), labeled (``label``) or
skipped (``skip``). A queue entry's ``remaining`` counts the distinct annotators an item still
needs, so it moves only when a pair enters or leaves the labeled state; an edit changes nothing.

Claiming is one short write transaction. On PostgreSQL the candidate row is locked with
``FOR UPDATE SKIP LOCKED``, so parallel claims never wait for each other or take the same
item; on SQLite the transaction starts with ``BEGIN IMMEDIATE`` (one writer at a time).
"""

from __future__ import annotations

import hashlib
import hmac
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from labelapp.db import start_lease_write, start_write
from labelapp.models import Annotation, Item, Project, QueueEntry, User, utcnow
from labelapp.services import queue_sql as sql
from labelapp.services.errors import Conflict, UserError
from labelapp.services.labels import refresh_item_labels
from labelapp.services.projects import current_guideline, get_project_of_item, require_writable
from labelapp.services.retrain_trigger import maybe_retrain

LIVE_KINDS = ("label", "skip")
MAX_CLIENT_ID = 64
MAX_DURATION_MS = 24 * 3600 * 1000


@dataclass(frozen=True)
class Claim:
    """An item leased to an annotator, and why the queue chose it."""

    item: Item | Row  # on the claim path: a Core row with the item's columns
    lease_expires_at: datetime
    strategy: str | None
    score: float | None
    model_run_id: int | None
    is_gold: bool


@dataclass(frozen=True)
class Submitted:
    """An annotation and whether this request stored it (False: a retry of a stored one)."""

    annotation: Annotation
    created: bool
    project: Project | None = None


class LeaseLost(Conflict):
    """The item was handed to someone else (or finished) while this annotator had it open."""

    code = "lease_lost"


def _lease_until(project: Project, now: datetime) -> datetime:
    return now + timedelta(seconds=project.lease_seconds)


def claim_next(session: Session, project: Project, user: User) -> Claim | None:
    """Lease the best item ``user`` may label next, or None when nothing is left for them.

    Order: the user's own live lease (a reopened page resumes it), then, at the project's gold
    rate, a gold item they have not answered, then the highest-priority entry that still needs
    labels, that they have not labeled or skipped, and that nobody else holds a live lease on.

    This runs on every item an annotator sees, so it uses column rows and Core statements (no
    ORM entities or unit-of-work flush): on PostgreSQL a claim is one statement and a commit.
    """
    require_writable(project, "new leases")
    gold_turn = project.gold_rate > 0 and random.random() < project.gold_rate
    now = utcnow()
    expires = _lease_until(project, now)
    params = {"project": project.id, "user": user.id, "now": now, "expires": expires}
    if not gold_turn and session.get_bind().dialect.name == "postgresql":
        start_write(session)  # the statement itself lets the lease commit skip the disk
        row = session.connection().execute(sql.CLAIM_FOR_USER, params).first()
        if row is None:
            row = _claim_waiting(session, params)
    else:
        start_lease_write(session)
        row = _claim_in_steps(session.connection(), params, gold_turn)
    if row is None:
        session.commit()
        return None
    # The row carries the item's columns too (every claim statement joins the item).
    claim = Claim(row, expires, row.strategy, row.score, row.model_run_id, row.is_gold)
    session.commit()
    return claim


def _claim_in_steps(conn: Connection, params: dict, gold_turn: bool) -> Row | None:
    """The claim as separate statements (SQLite; and a gold turn on PostgreSQL)."""
    row = conn.execute(sql.MY_LEASE, params).first()
    if row is not None:
        if not row.is_gold:
            conn.execute(sql.LEASE, {**params, "item": row.item_id})
        return row
    if gold_turn:
        row = conn.execute(sql.NEXT_GOLD, params).first()
    if row is None and conn.dialect.name == "postgresql":
        row = conn.execute(sql.LEASE_NEXT_WITH_ITEM, params).first()
    elif row is None:
        leased = conn.execute(sql.LEASE_NEXT, params).first()
        if leased is not None:
            row = conn.execute(sql.CLAIMED, {"item": leased.item_id}).first()
    return row


def _claim_waiting(session: Session, params: dict) -> Row | None:
    """PostgreSQL, after a skipping claim found nothing: claim again, waiting (up to 3 s) for
    rows other transactions hold (a retrain's priority swap locks every entry it reorders). On a
    lock timeout, None: the 204 then carries Retry-After (:func:`held_by_others` counts them)."""
    conn = session.connection()
    try:
        with conn.begin_nested():
            conn.execute(sql.WAIT_FOR_LOCKS)
            return conn.execute(sql.LEASE_NEXT_WAITING_WITH_ITEM, params).first()
    except OperationalError as error:
        if "lock timeout" not in str(error).lower():
            raise
        return None


def held_by_others(session: Session, project: Project, user: User) -> int:
    """How many items (up to 1,000) this user could still get although a claim found none: held
    by other annotators' leases, or by a running priority swap's row locks (PostgreSQL)."""
    params = {"project": project.id, "user": user.id, "now": utcnow()}
    return session.connection().scalar(sql.HELD_BY_OTHERS, params) or 0


def check_client_id(client_id: object) -> str:
    """The client's id for one submit (the same on its retries), checked."""
    if not isinstance(client_id, str) or not 1 <= len(client_id) <= MAX_CLIENT_ID:
        raise UserError(
            f"client_id must be a string of 1-{MAX_CLIENT_ID} characters (a UUID made by the "
            "client, the same on every retry of one submit)"
        )
    return client_id


def _check_labels(session: Session, project: Project, labels: object, kind: str) -> list[str]:
    if kind == "skip":
        return []
    if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
        raise UserError('labels must be a list of label names, e.g. {"labels": ["spam"]}')
    label_set = session.connection().execute(sql.LABELS, {"project": project.id}).all()
    names = [label.name for label in label_set]
    unknown = [x for x in labels if x not in names]
    if unknown:
        raise UserError(
            f"unknown label(s) {', '.join(map(repr, unknown))} for project {project.name!r}",
            [f"known labels: {', '.join(names)}"],
        )
    chosen = [n for n in names if n in set(labels)]  # the project's order, no repeats
    if not chosen:
        raise UserError("choose at least one label (or skip the item)")
    ambiguous = {label.name for label in label_set if label.is_ambiguous}
    if len(chosen) > 1 and (not project.multi_label or ambiguous & set(chosen)):
        raise UserError(
            "this project takes one label per item"
            if not project.multi_label
            else "'ambiguous' cannot be combined with other labels"
        )
    return chosen


def _prior(session: Session, item_id: int, user_id: int) -> Annotation | None:
    """The user's latest row for the item (what state the pair is in); adjudications aside."""
    return session.scalar(
        select(Annotation)
        .where(
            Annotation.item_id == item_id,
            Annotation.user_id == user_id,
            Annotation.kind != "adjudicate",
        )
        .order_by(Annotation.id.desc())
        .limit(1)
    )


def annotation_by_client_id(session: Session, user: User, client_id: str) -> Annotation | None:
    """The annotation ``user`` already stored under ``client_id``, if any."""
    return session.scalar(
        select(Annotation).where(Annotation.user_id == user.id, Annotation.client_id == client_id)
    )


def stored_by_the_other_copy(
    session: Session, user: User, client_id: str, error: IntegrityError
) -> Annotation:
    """After ``error`` on commit: two copies of one submit raced past the "already stored?"
    check and the other one stored it; roll back and return that. Re-raises ``error`` when no
    annotation has this client id (the integrity error was something else)."""
    session.rollback()
    stored = annotation_by_client_id(session, user, client_id)
    if stored is None:
        raise error
    return stored


def _replay(existing: Annotation, item_id: int, project: Project | None = None) -> Submitted:
    if existing.item_id != item_id:
        raise Conflict(
            f"client_id {existing.client_id!r} was already used for item {existing.item_id}; "
            "make a new client_id for each submit"
        )
    return Submitted(existing, created=False, project=project)


def record(session: Session, user: User, item_id: int, *, kind: str, **answer: object) -> Submitted:
    """The submit and skip use case: store the answer (:func:`store_answer`), then count a new
    label toward the next retrain."""
    result = store_answer(session, user, item_id, kind=kind, **answer)  # type: ignore[arg-type]
    if result.created and kind == "label" and result.project is not None:
        maybe_retrain(session, result.project)
    return result


def _check_duration(duration_ms: object) -> None:
    if duration_ms is not None and (
        not isinstance(duration_ms, int) or not 0 <= duration_ms <= MAX_DURATION_MS
    ):
        raise UserError("duration_ms must be a whole number of milliseconds, 0 to 86400000")


def _settlement(
    session: Session,
    entry: Row | None,
    prior_kind: str | None,
    user: User,
    kind: str,
    keys: dict[str, Any],
    now: datetime,
) -> dict[str, Any] | None:
    """How the item's queue entry settles with this answer (None for gold or unqueued items).
    Raises LeaseLost (after a rollback) when someone else holds the item or it is finished."""
    if entry is None or entry.is_gold:
        return None
    held_by_other = (
        entry.leased_by_id not in (None, user.id)
        and entry.lease_expires_at is not None
        and entry.lease_expires_at > now
    )
    first_answer = prior_kind in (None, "retract")
    if first_answer and (held_by_other or (kind == "label" and entry.remaining <= 0)):
        session.rollback()
        raise LeaseLost(
            "your lease on this item ran out and it went to another annotator, who is "
            "labeling it now (or has finished it); your answer was not stored: go on with "
            "the next item"
        )
    delta = int(kind == "label") - int(prior_kind == "label")
    return {**keys, "new_remaining": max(0, entry.remaining - delta)}


def store_answer(
    session: Session,
    user: User,
    item_id: int,
    *,
    kind: str,
    client_id: object,
    labels: object = None,
    duration_ms: object = None,
    guideline_version: object = None,
    note: str | None = None,
) -> Submitted:
    """Store a label or a skip for ``item_id`` by ``user``; a retry with the same client_id is a
    no-op.

    Raises LeaseLost when another annotator now holds the item or it already has every label it
    needs; the caller shows that and moves on. Nothing is stored in that case. Like a claim, this
    runs once per item an annotator sees: column rows and Core statements, one commit.
    """
    client_id = check_client_id(client_id)
    _check_duration(duration_ms)
    project = get_project_of_item(session, user, item_id)
    require_writable(project, "answers and skips")
    chosen = _check_labels(session, project, labels, kind)

    start_write(session)
    keys = {"item": item_id, "user": user.id, "client": client_id}
    conn = session.connection()
    entry = conn.execute(sql.ENTRY_FOR_SUBMIT, keys).first()
    # Read after the lock, in a statement of its own: on PostgreSQL it then sees whatever a
    # concurrent submit of the same pair committed while this one waited for the lock.
    state = conn.execute(sql.SUBMIT_STATE, keys).one()
    if state.stored_id is not None:
        existing = session.get(Annotation, state.stored_id)
        session.commit()
        assert existing is not None
        return _replay(existing, item_id, project)
    now = utcnow()
    settle = _settlement(session, entry, state.prior_kind, user, kind, keys, now)
    if guideline_version is None or not isinstance(guideline_version, int):
        guideline = current_guideline(session, project)
        guideline_version = guideline.version if guideline else None
    annotation = Annotation(
        item_id=item_id,
        project_id=project.id,
        user_id=user.id,
        source="human",
        kind=kind,
        labels=chosen,
        client_id=client_id,
        duration_ms=duration_ms,
        guideline_version=guideline_version,
        strategy=entry.strategy if entry else None,
        model_run_id=entry.model_run_id if entry else None,
        note=note,
        created_at=now,
    )
    try:
        # The row goes in as one prebuilt INSERT .. RETURNING id; the caller gets the (transient)
        # Annotation with its id, without a unit-of-work flush.
        values = {f"a_{f}": getattr(annotation, f) for f in sql.ANNOTATION_FIELDS}
        if settle is None:
            annotation.id = conn.scalar(sql.INSERT_ANNOTATION, values)
        elif conn.dialect.name == "postgresql":
            annotation.id = conn.scalar(sql.SETTLE_AND_INSERT, {**values, **settle})
        else:
            conn.execute(sql.SETTLE, settle)
            annotation.id = conn.scalar(sql.INSERT_ANNOTATION, values)
        refresh_item_labels(session, project, [item_id])
        session.commit()
    except IntegrityError as error:
        return _replay(stored_by_the_other_copy(session, user, client_id, error), item_id, project)
    return Submitted(annotation, created=True, project=project)


def undo_last(session: Session, project: Project, user: User, client_id: object) -> Claim | None:
    """Retract the user's latest label or skip in the project and lease that item back to them.

    Returns the item to show again, or None when there is nothing left to undo. Each undo adds
    a ``retract`` row; the retracted row stays in the history.
    """
    client_id = check_client_id(client_id)
    require_writable(project, "undos")
    start_write(session)
    existing = annotation_by_client_id(session, user, client_id)
    if existing is not None:
        entry = session.get(QueueEntry, existing.item_id)
        item = session.get(Item, existing.item_id)
        session.commit()
        assert item is not None
        expires = entry.lease_expires_at if entry and entry.lease_expires_at else utcnow()
        return Claim(item, expires, None, None, None, bool(entry and entry.is_gold))
    recent = session.execute(
        select(Annotation.item_id, Annotation.kind)
        .where(Annotation.project_id == project.id, Annotation.user_id == user.id)
        .order_by(Annotation.id.desc())
        .limit(500)
    ).all()
    latest_by_item: dict[int, str] = {}
    for item_id, kind in recent:
        latest_by_item.setdefault(item_id, kind)
    target = next((i for i, k in latest_by_item.items() if k in LIVE_KINDS), None)
    if target is None:
        session.commit()
        return None
    prior = _prior(session, target, user.id)
    assert prior is not None
    entry = session.scalar(select(QueueEntry).where(QueueEntry.item_id == target).with_for_update())
    now = utcnow()
    expires = _lease_until(project, now)
    if entry is not None:
        if prior.kind == "label" and not entry.is_gold:
            entry.remaining += 1
        if not entry.is_gold:
            entry.leased_by_id = user.id
            entry.lease_expires_at = expires
    session.add(
        Annotation(
            item_id=target,
            project_id=project.id,
            user_id=user.id,
            source="human",
            kind="retract",
            labels=list(prior.labels),
            client_id=client_id,
            guideline_version=prior.guideline_version,
            note=f"undo of annotation {prior.id}",
            created_at=now,
        )
    )
    refresh_item_labels(session, project, [target])
    item = session.get(Item, target)
    assert item is not None
    claim = Claim(
        item,
        expires,
        entry.strategy if entry else None,
        entry.score if entry else None,
        entry.model_run_id if entry else None,
        bool(entry and entry.is_gold),
    )
    session.commit()
    return claim


def has_seen(session: Session, user: User, item_id: int) -> bool:
    """True if the queue gave ``item_id`` to ``user``: they hold its lease or answered it."""
    answered = select(Annotation.id).where(
        Annotation.item_id == item_id, Annotation.user_id == user.id
    )
    held = select(QueueEntry.item_id).where(
        QueueEntry.item_id == item_id, QueueEntry.leased_by_id == user.id
    )
    return bool(session.scalar(select(answered.exists() | held.exists())))


def lease_ticket(secret: str, user_id: int, item_id: int) -> str:
    """Proof, handed out with a claim, that ``item_id`` was served to ``user_id``: gold items are
    served to everyone and have no lease row to show who is looking at them."""
    message = f"lease:{user_id}:{item_id}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def heartbeat(session: Session, user: User, item_id: int, served: bool = False) -> datetime:
    """Extend the lease ``user`` holds on an item; LeaseLost when they hold none.

    A lease is only ever taken through the queue (claim_next): a heartbeat never leases a free
    item. A gold item has no lease; it answers like a held one only with ``served`` (a valid
    :func:`lease_ticket`), so a heartbeat cannot tell anyone which items are gold.
    """
    project = get_project_of_item(session, user, item_id)
    require_writable(project, "leases")
    start_lease_write(session)
    now = utcnow()
    expires = _lease_until(project, now)
    q = QueueEntry
    held = session.execute(
        update(q)
        .where(q.item_id == item_id, q.leased_by_id == user.id, q.is_gold.is_(False))
        .values(lease_expires_at=expires)
    ).rowcount
    gold = bool(session.scalar(select(q.is_gold).where(q.item_id == item_id)))
    session.commit()
    if not held and not (gold and served):
        raise LeaseLost(
            "you hold no lease on this item (it went to another annotator, or was never "
            "yours): ask for the next item"
        )
    return expires


def release(session: Session, user: User, item_id: int) -> bool:
    """Give back the user's lease (they left the page); True if they held it."""
    start_lease_write(session)
    q = QueueEntry
    count = session.execute(
        update(q)
        .where(q.item_id == item_id, q.leased_by_id == user.id)
        .values(leased_by_id=None, lease_expires_at=None)
    ).rowcount
    session.commit()
    return bool(count)
