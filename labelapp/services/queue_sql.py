"""The annotation loop's SQL, built once: every item an annotator sees runs these statements.

Building a SQLAlchemy statement costs about as much Python time as executing it (the queue
benchmark showed ~0.27 ms per ORM statement built per call against ~0.12 ms for a prebuilt one),
so the hot path keeps its statements here, with named bind parameters, and passes values at
execution. Bind names: ``project``, ``user``, ``item``, ``client``, ``now``, ``expires``,
``new_remaining``, and ``a_<column>`` for a new annotation's values. On PostgreSQL a claim
(``CLAIM_FOR_USER``) and a submit's write (``SETTLE_AND_INSERT``) are one statement each.
"""

from __future__ import annotations

from sqlalchemy import (
    bindparam,
    case,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    union_all,
    update,
)

from labelapp.models import Annotation, Item, Label, QueueEntry

# Table columns, not ORM attributes: these statements run on the session's Connection as plain
# Core (the ORM's execution path cost a fifth of a worker's CPU on the loop).
_queue = QueueEntry.__table__
_annotations = Annotation.__table__
_items = Item.__table__
_q = _queue.c
_a = _annotations.c
_label = Label.__table__.c


# What a claim needs to know about the entry it leases (why it was queued; gold or not).
CLAIM_COLUMNS = (_q.item_id, _q.strategy, _q.score, _q.model_run_id, _q.is_gold)

_not_done_by_user = ~exists().where(_a.item_id == _q.item_id, _a.user_id == bindparam("user"))

# Every claim statement answers with the entry's claim columns and its item's columns.
_CLAIM_ROWS = select(*CLAIM_COLUMNS, *_items.c).join_from(_queue, _items, _items.c.id == _q.item_id)

_my_live_lease = (
    _q.project_id == bindparam("project"),
    _q.leased_by_id == bindparam("user"),
    _q.lease_expires_at > bindparam("now"),
    or_(_q.remaining > 0, _q.is_gold),
)
# The user's own live lease in the project (a reopened page resumes it), with its item.
MY_LEASE = _CLAIM_ROWS.where(*_my_live_lease).order_by(_q.lease_expires_at.desc()).limit(1)

# The first gold item the user has not answered (gold items are never leased), with its item.
NEXT_GOLD = (
    _CLAIM_ROWS.where(
        _q.project_id == bindparam("project"), _q.is_gold.is_(True), _not_done_by_user
    )
    .order_by(_q.position)
    .limit(1)
)

# Lease the best free entry in one statement: UPDATE .. WHERE item_id = (SELECT .. FOR UPDATE
# SKIP LOCKED) RETURNING. PostgreSQL locks the row it picks and skips rows other claims hold;
# SQLite ignores the lock clause (its writers are serialized by BEGIN IMMEDIATE).
_free_for_user = (
    _q.project_id == bindparam("project"),
    _q.remaining > 0,
    _q.is_gold.is_(False),
    or_(
        _q.leased_by_id.is_(None),
        _q.lease_expires_at <= bindparam("now"),
        _q.leased_by_id == bindparam("user"),
    ),
    _not_done_by_user,
)


def _lease_best(*also, wait: bool = False):
    """UPDATE the best entry free for the user (and matching ``also``) to their lease; with
    ``wait``, rows another transaction holds are waited for instead of skipped."""
    best = (
        select(_q.item_id)
        .where(*_free_for_user, *also)
        .order_by(_q.priority.desc(), _q.position)
        .limit(1)
        .with_for_update(of=_queue, skip_locked=not wait)
        .scalar_subquery()
        .correlate(None)  # its own scan of the queue, not a reference to the updated row
    )
    return (
        update(_queue)
        .where(_q.item_id == best)
        .values(leased_by_id=bindparam("user"), lease_expires_at=bindparam("expires"))
        .returning(*CLAIM_COLUMNS)
    )


LEASE_NEXT = _lease_best()
# PostgreSQL: the lease and its item in one round trip (a data-modifying CTE; SQLite has none,
# so there the item comes with CLAIMED).
_leased = LEASE_NEXT.cte("leased")
LEASE_NEXT_WITH_ITEM = select(_leased, _items).join_from(
    _leased, _items, _items.c.id == _leased.c.item_id
)

# PostgreSQL, when SKIP LOCKED found nothing (issue 16): a retrain's priority swap holds row locks
# on up to twice its top_n entries until it commits; near the end of a project that is every
# entry left, and the skipping claim saw an empty queue while thousands of items were left. This
# claim waits for those locks instead (under a lock timeout; see queue.claim_next).
_waited = _lease_best(wait=True).cte("waited")
LEASE_NEXT_WAITING_WITH_ITEM = select(_waited, _items).join_from(
    _waited, _items, _items.c.id == _waited.c.item_id
)
WAIT_FOR_LOCKS = text("SET LOCAL lock_timeout = '3s'")

# PostgreSQL: a whole claim in one round trip (what claim_next does in up to four statements
# elsewhere): resume the user's live lease and renew it (gold entries are never leased), or,
# when they hold none, lease the best free entry; answer with the entry and its item. The lease
# commit skips the wait for the disk (set_config(.., true): this transaction only; see
# start_lease_write). Data-modifying CTEs run exactly once whether or not the query reads them;
# the uncorrelated NOT EXISTS becomes a one-time filter, so with a live lease the queue is not
# scanned and no row is locked.
_mine = select(*CLAIM_COLUMNS).where(*_my_live_lease)
_mine = _mine.order_by(_q.lease_expires_at.desc()).limit(1).cte("mine")
_renewed = (
    update(_queue)
    .where(_q.item_id == select(_mine.c.item_id).where(~_mine.c.is_gold).scalar_subquery())
    .values(lease_expires_at=bindparam("expires"))
    .cte("renewed")
)
_claimed = _lease_best(~exists(select(_mine.c.item_id))).cte("claimed")
_mine_or_claimed = union_all(select(_mine), select(_claimed)).subquery("claim")
CLAIM_FOR_USER = (
    select(
        _mine_or_claimed,
        _items,
        func.set_config("synchronous_commit", "off", literal(True)).label("lease_commit"),
    )
    .join_from(_mine_or_claimed, _items, _items.c.id == _mine_or_claimed.c.item_id)
    .add_cte(_renewed)
)

# How many entries the user could still get although the claim found none (counted up to 1,000):
# other annotators' live leases, and (PostgreSQL) entries a running priority swap held locked.
_could_come_back = (
    select(_q.item_id)
    .where(
        _q.project_id == bindparam("project"),
        _q.remaining > 0,
        _q.is_gold.is_(False),
        or_(
            _q.leased_by_id.is_(None),
            _q.leased_by_id != bindparam("user"),
            _q.lease_expires_at <= bindparam("now"),
        ),
        _not_done_by_user,
    )
    .limit(1000)
    .subquery()
)
HELD_BY_OTHERS = select(func.count()).select_from(_could_come_back)

# Renew the lease on one entry.
LEASE = (
    update(_queue)
    .where(_q.item_id == bindparam("item"))
    .values(leased_by_id=bindparam("user"), lease_expires_at=bindparam("expires"))
)

# The project's label set, in display order (checked on every submit).
LABELS = (
    select(_label.name, _label.is_ambiguous)
    .where(_label.project_id == bindparam("project"), _label.retired.is_(False))  # offered ones
    .order_by(_label.position)
)

# A leased entry with its item, by item id (SQLite's second step of LEASE_NEXT).
CLAIMED = _CLAIM_ROWS.where(_q.item_id == bindparam("item"))

# The id of the annotation the user already stored under a client id (a retried submit).
BY_CLIENT_ID = select(_a.id).where(
    _a.user_id == bindparam("user"), _a.client_id == bindparam("client")
)

# The queue entry a submit settles, locked until the submit commits.
ENTRY_FOR_SUBMIT = (
    select(
        _q.remaining,
        _q.leased_by_id,
        _q.lease_expires_at,
        _q.is_gold,
        _q.strategy,
        _q.model_run_id,
    )
    .where(_q.item_id == bindparam("item"))
    .with_for_update()
)

# The kind of the user's latest row for the item (what state the pair is in).
PRIOR_KIND = (
    select(_a.kind)
    .where(
        _a.item_id == bindparam("item"),
        _a.user_id == bindparam("user"),
        _a.kind != "adjudicate",
    )
    .order_by(_a.id.desc())
    .limit(1)
)

# A submit's two questions in one round trip: was this client id stored already (a retry), and
# what state is the (item, user) pair in.
SUBMIT_STATE = select(
    BY_CLIENT_ID.scalar_subquery().label("stored_id"),
    PRIOR_KIND.scalar_subquery().label("prior_kind"),
)

# A submit's effect on the entry: the new ``remaining``, and the submitter's lease given back.
_mine = _q.leased_by_id == bindparam("user")
SETTLE = (
    update(_queue)
    .where(_q.item_id == bindparam("item"))
    .values(
        remaining=bindparam("new_remaining"),
        leased_by_id=case((_mine, None), else_=_q.leased_by_id),
        lease_expires_at=case((_mine, None), else_=_q.lease_expires_at),
    )
)

# One annotation row; values come as parameters named ``a_<column>``, the new id comes back.
# (Named apart from every column: SQLAlchemy turns parameter keys that match a column name into
# SET clauses, and would do so in SETTLE_AND_INSERT's UPDATE too.)
ANNOTATION_FIELDS = (
    "item_id",
    "project_id",
    "user_id",
    "source",
    "kind",
    "labels",
    "client_id",
    "duration_ms",
    "guideline_version",
    "strategy",
    "model_run_id",
    "note",
    "created_at",
)
INSERT_ANNOTATION = (
    insert(_annotations)
    .values({f: bindparam(f"a_{f}") for f in ANNOTATION_FIELDS})
    .returning(_annotations.c.id)
)
# PostgreSQL: SETTLE and INSERT_ANNOTATION in one round trip (a data-modifying CTE).
SETTLE_AND_INSERT = INSERT_ANNOTATION.add_cte(SETTLE.cte("settled"))
