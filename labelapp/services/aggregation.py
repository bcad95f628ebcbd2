"""Which crowd-aggregation method suggests a label for each item: the agreement page's consensus
and the adjudication suggestions.

:func:`weak_supervision.agreement.crowd_methods.choose_aggregator` runs every method (ours and
crowd-kit's, when the ``[crowd]`` extra is installed) on the project's current answers and picks
(:data:`APP_METHODS`) the one with the best accuracy on the answered gold items (at least
``MIN_GOLD`` of them; the methods never see the gold answers); without enough gold, its
documented rule (Dawid-Skene when annotators answered enough items and items have 2+ answers on
average, else majority vote).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from weak_supervision.agreement.report import AgreementReport

MIN_GOLD = 10
#: The methods the app runs on every agreement report. GLAD and MACE (crowd-kit) are left to
#: ``labelapp agreement evaluate``: on 180 answers on a 2-core machine they took 10.7 s and
#: 38.5 s (MACE's 10 restarts x 50 iterations), against under 0.6 s for each method here.
APP_METHODS = ("dawid_skene", "majority_vote", "wawa", "one_coin_dawid_skene", "mmsr")
SLOW = {
    "glad": "10 s and more per report; compared by labelapp agreement evaluate",
    "mace": "30 s and more per report; compared by labelapp agreement evaluate",
}
METHOD_TITLES = {
    "dawid_skene": "Dawid-Skene",
    "majority_vote": "majority vote",
    "wawa": "Wawa (agreement-weighted vote)",
    "one_coin_dawid_skene": "one-coin Dawid-Skene",
    "glad": "GLAD",
    "mace": "MACE",
    "mmsr": "M-MSR",
}


@dataclass(frozen=True)
class PickedAggregator:
    """The method picked, why, each method's gold accuracy (percent; empty without enough gold),
    methods that did not run and why, and the picked method's label per item id."""

    name: str
    reason: str
    labels: dict[int, str]
    gold_accuracy: dict[str, float] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return METHOD_TITLES.get(self.name, self.name)

    def as_dict(self) -> dict[str, Any]:
        return {
            "method": self.name,
            "title": self.title,
            "reason": self.reason,
            "gold_accuracy": self.gold_accuracy,
            "skipped": self.skipped,
            "titles": {name: METHOD_TITLES.get(name, name) for name in METHOD_TITLES},
        }


def pick_aggregator(
    table: pd.DataFrame, gold: dict[int, str], min_gold: int = MIN_GOLD
) -> PickedAggregator:
    """Pick a method for ``table`` (columns item, annotator, label, created_at: every answer;
    only each annotator's latest per item counts) with ``gold`` (item id -> known label)."""
    import pandas as pd

    from weak_supervision.agreement.crowd_methods import (
        EXTRA_HINT,
        FROM_CROWDKIT,
        choose_aggregator,
        crowdkit_available,
    )
    from weak_supervision.agreement.data import latest_answers

    created = "created_at" if "created_at" in table.columns else None
    latest = latest_answers(table, "item", "annotator", "label", created)
    answers = pd.DataFrame(
        {"item": latest["item"], "worker": latest["annotator"], "label": latest["label"]}
    )
    truth = pd.Series(gold, dtype=object) if gold else None
    skipped = dict(SLOW)
    methods = list(APP_METHODS)
    if not crowdkit_available():
        skipped.update({m: f"crowd-kit is not installed: {EXTRA_HINT}" for m in FROM_CROWDKIT})
        methods = [m for m in methods if m not in FROM_CROWDKIT]
    choice = choose_aggregator(answers, truth, methods=methods, min_gold=min_gold)

    return PickedAggregator(
        name=choice.name,
        reason=choice.reason,
        labels={int(item): str(label) for item, label in choice.labels.items()},
        gold_accuracy=dict(choice.gold_accuracy),
        skipped={**skipped, **choice.skipped},
    )


def with_picked_consensus(report: AgreementReport, picked: PickedAggregator) -> AgreementReport:
    """``report`` whose per-item ``consensus`` is the picked method's label; Dawid-Skene's own
    label moves to ``dawid_skene`` and ``confidence`` stays its posterior (the only method here
    that gives one)."""
    import pandas as pd

    consensus = report.consensus.copy()
    consensus["dawid_skene"] = consensus["consensus"]
    picked_labels = pd.Series(picked.labels, dtype=object).reindex(consensus.index)
    consensus["consensus"] = picked_labels.fillna(consensus["consensus"])
    disagreements = report.disagreements.copy()
    for column in ("consensus", "dawid_skene"):
        disagreements[column] = consensus[column].reindex(disagreements.index)
    return replace(report, consensus=consensus, disagreements=disagreements)
