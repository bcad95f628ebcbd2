"""Names of the review page's sorts and filters (cheap to import: API schemas and pages use
them)."""

from __future__ import annotations

# Sort keys: the label-issue score, the resolved label's confidence, the item id.
REVIEW_SORTS = ("issue_score", "confidence", "item")
PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
MAX_REQUEUE_K = 20
# A page counts the items matching its filter up to this many; beyond, it says "more than" (an
# exact count of a million rows costs a scan per request, far more than the page itself).
COUNT_CAP = 10_000
