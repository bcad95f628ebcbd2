"""Near-duplicates never back to back in the queue, whatever strategy ordered it.

Uncertainty strategies score near-identical items alike ("Cool", "cool", "cool cool..."), so a
batch chosen by score serves them one after another and the annotator answers the same thing
three times. After a retrain the chosen items are put in an order where the members of one
duplicate group are spread out: each group's best item keeps its place in the first round, its
next-best comes in the second round, and so on; no two neighbours belong to one group.

Groups come from the duplicate detector the export uses (``augment.duplicates``): the same
content hash, the same normalized text, or word sets with a Jaccard similarity of at least
``SIMILARITY`` (single words, so short comments such as "cool" and "cool cool..." count).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from labelapp.db import session_scope
from labelapp.models import Item

if TYPE_CHECKING:
    import numpy as np

SIMILARITY = 0.5
SHINGLE_WORDS = 1


def duplicate_groups(texts: list[str | None], hashes: list[str]) -> np.ndarray:
    """A group id per row: rows with the same content hash or near-duplicate texts share one."""
    import numpy as np
    import pandas as pd

    from augment.duplicates import find_duplicates, linked_components

    keys = [pd.factorize(pd.Series(hashes, dtype=object), use_na_sentinel=True)[0]]
    pairs = None
    if any(t for t in texts):
        links = find_duplicates(
            [t or "" for t in texts], threshold=SIMILARITY, shingle=SHINGLE_WORDS, random_state=0
        )
        keys.append(np.where(np.array([bool(t) for t in texts]), links.exact, -1))
        pairs = links.near_pairs
    return linked_components(len(hashes), keys=keys, pairs=pairs)


def spread_groups(groups: np.ndarray) -> np.ndarray:
    """A permutation of rows (given best first) in rounds: every group's first row in the given
    order, then every group's second row, ...; then neighbours of one group are pulled apart."""
    import numpy as np

    groups = np.asarray(groups)
    n = len(groups)
    if n < 2:
        return np.arange(n)
    seen: dict[int, int] = {}
    rank = np.empty(n, dtype=np.int64)
    for i, g in enumerate(groups.tolist()):
        rank[i] = seen.get(g, 0)
        seen[g] = rank[i] + 1
    perm = list(np.lexsort((np.arange(n), rank)))
    # A round can end and the next begin with one group: move the next other group's row up.
    for i in range(1, n):
        if groups[perm[i]] == groups[perm[i - 1]]:
            j = next((j for j in range(i + 1, n) if groups[perm[j]] != groups[perm[i - 1]]), None)
            if j is None:
                break  # only one group is left: nothing to spread it with
            perm.insert(i, perm.pop(j))
    return np.asarray(perm, dtype=np.int64)


def spread_near_duplicates(sessions: sessionmaker[Session], item_ids: np.ndarray) -> np.ndarray:
    """The permutation of ``item_ids`` (best first) that serves no near-duplicates back to back."""
    ids = [int(i) for i in item_ids]
    with session_scope(sessions) as session:
        rows = dict(
            (r[0], (r[1], r[2]))
            for r in session.execute(
                select(Item.id, Item.text, Item.content_hash).where(Item.id.in_(ids))
            )
        )
    texts = [rows[i][0] if i in rows else None for i in ids]
    hashes = [rows[i][1] if i in rows else None for i in ids]
    return spread_groups(duplicate_groups(texts, hashes))
