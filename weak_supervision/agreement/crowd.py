"""Crowd answer files and their evaluation by majority vote and Dawid-Skene.

``answer.csv`` has the header ``question,worker,answer``, ``truth.csv`` ``question,truth``: the
format of Zheng et al., "Truth Inference in Crowdsourcing: Is the Problem Solved?" (PVLDB
2017). Labels are read as strings, so any number of classes and any label spelling works. Scores
are percentages, as in the paper's tables: accuracy, and F1 of class "1" for binary data (the
paper's F1 for its binary data sets) or macro F1 otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from sklearn.metrics import accuracy_score, f1_score

from weak_supervision.agreement.dawid_skene import DawidSkene
from weak_supervision.agreement.votes import majority_vote

ANSWER_COLUMNS = ("question", "worker", "answer")
TRUTH_COLUMNS = ("question", "truth")
POSITIVE_LABEL = "1"
# accepted header names per role, as the public crowd benchmark files spell them (Zheng et al.:
# question/worker/answer and question/truth; others: id,worker,answer and q,truth; crowd-kit:
# task/worker/label)
ALIASES = {
    "question": ("question", "q", "id", "item", "task", "question_id", "item_id", "task_id"),
    "worker": ("worker", "annotator", "performer", "worker_id", "annotator_id"),
    "answer": ("answer", "label", "response"),
    "truth": ("truth", "gold", "label", "answer", "true_label"),
}


class CrowdFileError(ValueError):
    """A crowd CSV file that cannot be used, with the file, the line and how to fix it."""


def _find_columns(
    path: Path, header: list[str], columns: tuple[str, ...], given: dict[str, str | None]
) -> list[str]:
    """The file's column for each role of ``columns``: the one named by ``given[role]``, else
    the first of ``ALIASES[role]`` in the header (case-insensitive)."""
    lower = {name.lower(): name for name in header}
    found = []
    for role in columns:
        wanted = given.get(role)
        if wanted is not None:
            if wanted not in header:
                raise CrowdFileError(
                    f"{path}, line 1: no column '{wanted}' (given for the {role}); the header is "
                    f"'{','.join(header)}'."
                )
            found.append(wanted)
            continue
        match = next(
            (lower[a] for a in ALIASES[role] if a in lower and lower[a] not in found), None
        )
        if match is None:
            raise CrowdFileError(
                f"{path}, line 1: header is '{','.join(header)}' but has no {role} column; "
                f"name it one of {', '.join(ALIASES[role])}, or give --{_option(role)}-col."
            )
        found.append(match)
    return found


def _option(role: str) -> str:
    return {"question": "item", "answer": "label"}.get(role, role)


def _read_csv(
    path: str | Path, columns: tuple[str, ...], given: dict[str, str | None] | None = None
) -> pd.DataFrame:
    path = Path(path)
    expected = ",".join(columns)
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except FileNotFoundError as exc:
        raise CrowdFileError(
            f"{path}: file not found; pass the path of a CSV with header '{expected}'."
        ) from exc
    except pd.errors.EmptyDataError as exc:
        raise CrowdFileError(
            f"{path}: the file is empty; it needs a header line '{expected}' and rows."
        ) from exc
    except pd.errors.ParserError as exc:
        raise CrowdFileError(
            f"{path}: malformed CSV ({exc}); every line must have as many comma-separated "
            f"fields as the header ({expected})."
        ) from exc
    header = [c.strip() for c in table.columns]
    table.columns = header
    table = table[_find_columns(path, header, columns, given or {})]
    table.columns = list(columns)
    table = table.apply(lambda column: column.str.strip())
    empty = table.eq("")
    if empty.to_numpy().any():
        row, col = next(zip(*empty.to_numpy().nonzero(), strict=True))
        raise CrowdFileError(
            f"{path}, line {row + 2}: column '{columns[col]}' is empty; "
            "fill it in or delete the line."
        )
    if table.empty:
        raise CrowdFileError(f"{path}: no rows after the header; add lines '{expected}'.")
    return table


def load_answers(
    path: str | Path,
    item_col: str | None = None,
    worker_col: str | None = None,
    label_col: str | None = None,
) -> pd.DataFrame:
    """Read an answers CSV as strings into columns question, worker, answer, validating every
    line. Header names: see ``ALIASES`` (e.g. ``id,worker,answer``), or name the columns."""
    given = {"question": item_col, "worker": worker_col, "answer": label_col}
    return _read_csv(path, ANSWER_COLUMNS, given)


def load_truth(path: str | Path, item_col: str | None = None) -> pd.Series:
    """Read a truth CSV (question,truth; or q,truth, id,truth ...) into a Series of true labels
    indexed by question."""
    table = _read_csv(path, TRUTH_COLUMNS, {"question": item_col})
    conflicting = table.groupby("question")["truth"].nunique() > 1
    if conflicting.any():
        question = conflicting[conflicting].index[0]
        line = int(table.index[table["question"] == question][1]) + 2
        raise CrowdFileError(
            f"{path}, line {line}: question '{question}' has two different truths; "
            "keep one line per question."
        )
    return table.drop_duplicates("question").set_index("question")["truth"]


@dataclass(frozen=True)
class CrowdEvaluation:
    """Accuracy and F1 (percentages) of majority vote and Dawid-Skene on items with truth."""

    items: int
    classes: list[str]
    f1_kind: str  # "binary" (F1 of class "1") or "macro"
    scores: dict[str, dict[str, float]] = field(default_factory=dict)
    answers: int = 0
    workers: int = 0
    dawid_skene_iterations: int = 0
    chosen: str = ""  # the method the app would pick (evaluate_methods), never by the truth
    reason: str = ""
    skipped: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def as_json(self) -> dict:
        """The summary object: one ``{"accuracy": .., "f1": ..}`` per method, ``"chosen"``
        (when a choice was made) and ``"items"``."""
        out: dict = {name: dict(scores) for name, scores in self.scores.items()}
        if self.chosen:
            out["chosen"] = self.chosen
        out["items"] = self.items
        return out


def _scores(truth: pd.Series, predicted: pd.Series, f1_kind: str) -> dict[str, float]:
    if f1_kind == "binary":
        f1 = f1_score(truth, predicted, pos_label=POSITIVE_LABEL, average="binary", zero_division=0)
    else:
        f1 = f1_score(truth, predicted, average="macro", zero_division=0)
    return {
        "accuracy": round(100.0 * accuracy_score(truth, predicted), 4),
        "f1": round(100.0 * f1, 4),
    }


def _answered_truth(truth: pd.Series, answered: pd.Index) -> pd.Index:
    """The questions with both answers and a truth; a clear error when there are none."""
    common = truth.index.intersection(answered)
    if len(common) == 0:
        raise ValueError(
            "no question has both answers and a truth; check that the answers and the truth use "
            "the same question ids."
        )
    return common


def _f1_kind(classes: list) -> str:
    """Binary F1 of the positive class for two classes that include it, macro F1 otherwise."""
    return "binary" if len(classes) <= 2 and POSITIVE_LABEL in classes else "macro"


def _evaluation(
    answers: pd.DataFrame,
    truth: pd.Series,
    common: pd.Index,
    labels: dict[str, pd.Series],
    **extra: Any,
) -> CrowdEvaluation:
    """Score each method's ``labels`` against ``truth`` on the ``common`` items (F1 kind from the
    classes of the truth and the answers); ``extra`` are the other fields of the result."""
    gold = truth.loc[common]
    classes = sorted(set(gold) | set(answers["answer"]))
    f1_kind = _f1_kind(classes)
    return CrowdEvaluation(
        items=len(common),
        classes=classes,
        f1_kind=f1_kind,
        scores={
            name: _scores(gold, method.loc[common], f1_kind) for name, method in labels.items()
        },
        answers=len(answers),
        workers=int(answers["worker"].nunique()),
        **extra,
    )


def evaluate_crowd(
    answers: pd.DataFrame, truth: pd.Series, dawid_skene: DawidSkene | None = None
) -> CrowdEvaluation:
    """Aggregate ``answers`` by majority vote and Dawid-Skene and score both against ``truth``.

    Both aggregators use every answer (items without truth help Dawid-Skene estimate the workers);
    scores are over the items that have both answers and truth. F1 is of class "1" when the data
    is binary with a class "1", macro over the classes otherwise.
    """
    columns = {"item": "question", "annotator": "worker", "label": "answer"}
    voted = majority_vote(answers, **columns)["label"]
    model = (dawid_skene or DawidSkene()).fit(answers, **columns)
    consensus = model.predict()
    common = _answered_truth(truth, voted.index)
    labels = {"majority_vote": voted, "dawid_skene": consensus}
    return _evaluation(answers, truth, common, labels, dawid_skene_iterations=model.n_iter_)


def evaluate_methods(
    answers: pd.DataFrame,
    truth: pd.Series,
    gold: pd.Series | None = None,
    methods: list[str] | None = None,
) -> CrowdEvaluation:
    """Run every aggregation method of ``crowd_methods`` (or ``methods``) on all ``answers``,
    score each against ``truth`` on the items with answers and truth, and record which one
    ``choose_aggregator`` picks: by accuracy on ``gold`` (items with known answers, as a
    project's gold items) if given, else by its documented rule. The truth never picks."""
    from weak_supervision.agreement import crowd_methods

    long = answers.rename(columns={"question": "item", "answer": "label"})
    common = _answered_truth(truth, pd.Index(long["item"].unique()))
    choice = crowd_methods.choose_aggregator(long, gold=gold, methods=methods)
    return _evaluation(
        answers,
        truth,
        common,
        choice.all_labels,
        chosen=choice.name,
        reason=choice.reason,
        skipped=choice.skipped,
        seconds=choice.seconds,
    )
