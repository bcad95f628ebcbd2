"""Changing a project's label set: add, rename (stored answers follow), hotkeys and order,
retire and restore, merge (with a preview of how many answers change). Every change is recorded
in ``LabelChange``; each function is one unit of work and commits it.

Labels are stored by name in answers, gold answers, reviewers' corrections, probabilistic labels,
label-issue scans and keyword/regex labeling functions; renames and merges rewrite them all
(:mod:`labelapp.services.label_rewrite`, counted per store in the history's ``rewritten``) and
refresh every item's resolved label (``ItemLabel``).
Weak votes are stored as the index of a class in label order, so a new order clears the
project's weak votes and probabilistic labels (apply the labeling functions again afterwards), and
is refused while the project has Python labeling functions (they return a class index).
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from labelapp.db import ensure_write_lock
from labelapp.models import (
    Annotation,
    Label,
    LabelChange,
    LabelingFunction,
    ProbLabel,
    Project,
    User,
    WeakLabel,
)
from labelapp.services.errors import Conflict, NotFound, UserError
from labelapp.services.label_rewrite import rewrite_everywhere
from labelapp.services.labels import refresh_item_labels
from labelapp.services.projects import parse_label_list, require_writable

HOTKEY_MAX = 8


def offered_labels(project: Project) -> list[Label]:
    """The labels annotators may choose: every label not retired, in order."""
    return [label for label in project.labels if not label.retired]


def label_named(project: Project, name: str) -> Label:
    for label in project.labels:
        if label.name == name:
            return label
    known = ", ".join(label.name for label in project.labels)
    raise NotFound(f"project {project.name!r} has no label {name!r}; its labels: {known}")


def history(
    session: Session, project: Project, limit: int = 50
) -> list[tuple[LabelChange, str | None]]:
    """The newest label-set changes with the name of who made them."""
    rows = session.execute(
        select(LabelChange, User.username)
        .outerjoin(User, User.id == LabelChange.user_id)
        .where(LabelChange.project_id == project.id)
        .order_by(LabelChange.id.desc())
        .limit(limit)
    )
    return [(change, name) for change, name in rows]


def _record(
    session: Session,
    project: Project,
    actor: User | None,
    kind: str,
    old: str | None,
    new: str | None,
    rewritten: dict[str, int] | None = None,
) -> None:
    session.add(
        LabelChange(
            project_id=project.id,
            kind=kind,
            old_name=old,
            new_name=new,
            answers_changed=(rewritten or {}).get("answers", 0),
            rewritten=rewritten or None,
            user_id=actor.id if actor else None,
        )
    )


def _check_hotkey(project: Project, hotkey: str, keep: Label | None = None) -> str:
    hotkey = hotkey.strip()
    if not hotkey or len(hotkey) > HOTKEY_MAX or any(c.isspace() for c in hotkey):
        raise UserError(f"a hotkey is 1-{HOTKEY_MAX} characters without spaces, e.g. 3 or q")
    taken = [lab.name for lab in project.labels if lab.hotkey == hotkey and lab is not keep]
    if taken:
        raise Conflict(f"hotkey {hotkey!r} is already {taken[0]!r}'s; choose another")
    return hotkey


def _free_hotkey(project: Project) -> str:
    used = {label.hotkey for label in project.labels}
    for key in [str(i) for i in range(1, 10)] + list("qwertyuiopasdghjkl"):
        if key not in used:
            return key
    raise UserError("no free hotkey left: give one")


def add_label(
    session: Session, actor: User | None, project: Project, name: str, hotkey: str | None = None
) -> Label:
    """Append a label to the set (offered from the next item on)."""
    require_writable(project, "label-set changes")
    ensure_write_lock(session)
    (name,) = parse_label_list([name])
    if any(label.name == name for label in project.labels):
        raise Conflict(f"project {project.name!r} already has a label {name!r}")
    key = _check_hotkey(project, hotkey) if hotkey else _free_hotkey(project)
    position = max((label.position for label in project.labels), default=-1) + 1
    label = Label(project_id=project.id, name=name, position=position, hotkey=key)
    project.labels.append(label)
    _record(session, project, actor, "add", None, name)
    session.commit()
    return label


def _commit_rewrite(
    session: Session,
    project: Project,
    actor: User | None,
    kind: str,
    old: str,
    new: str,
    rewritten: dict[str, int],
) -> int:
    """Record a change that rewrote stored labels, resolve the items' labels again and commit;
    returns how many answers were rewritten."""
    _record(session, project, actor, kind, old, new, rewritten)
    refresh_item_labels(session, project)
    session.commit()
    return rewritten.get("answers", 0)


def rename_label(session: Session, actor: User | None, project: Project, old: str, new: str) -> int:
    """Rename a label; stored answers, gold answers and labeling functions follow. Returns how
    many answers were rewritten (recorded in the history)."""
    require_writable(project, "label-set changes")
    ensure_write_lock(session)
    label = label_named(project, old)
    (new,) = parse_label_list([new])
    if new == old:
        raise UserError(f"{old!r} already has that name")
    if any(lab.name == new for lab in project.labels):
        raise Conflict(f"project {project.name!r} already has a label {new!r}: merge them instead")
    rewritten = rewrite_everywhere(session, project, old, new)
    label.name = new
    return _commit_rewrite(session, project, actor, "rename", old, new, rewritten)


def set_retired(
    session: Session, actor: User | None, project: Project, name: str, retired: bool
) -> Label:
    """Retire a label (no longer offered; answers naming it stay) or restore it."""
    require_writable(project, "label-set changes")
    ensure_write_lock(session)
    label = label_named(project, name)
    if retired and label.retired is False and len(offered_labels(project)) <= 1:
        raise UserError("a project needs at least one label that annotators can choose")
    if label.retired != retired:
        label.retired = retired
        _record(session, project, actor, "retire" if retired else "restore", name, None)
    session.commit()
    return label


def merge_preview(session: Session, project: Project, source: str, target: str) -> int:
    """How many stored answers a merge of ``source`` into ``target`` would rewrite."""
    _merge_pair(project, source, target)
    return sum(
        1
        for (labels,) in session.execute(
            select(Annotation.labels).where(Annotation.project_id == project.id)
        )
        if source in (labels or [])
    )


def _merge_pair(project: Project, source: str, target: str) -> tuple[Label, Label]:
    if source == target:
        raise UserError("choose two different labels to merge")
    return label_named(project, source), label_named(project, target)


def merge_labels(
    session: Session, actor: User | None, project: Project, source: str, target: str
) -> int:
    """Every answer naming ``source`` names ``target`` instead; ``source`` is retired.
    Returns how many answers changed (recorded in the history)."""
    require_writable(project, "label-set changes")
    ensure_write_lock(session)
    src, _ = _merge_pair(project, source, target)
    rewritten = rewrite_everywhere(session, project, source, target, merge=True)
    src.retired = True
    return _commit_rewrite(session, project, actor, "merge", source, target, rewritten)


def set_hotkeys_and_order(
    session: Session, actor: User | None, project: Project, order: list[tuple[str, str]]
) -> bool:
    """``order``: every label's (name, hotkey), in the new display order. Returns whether the
    order changed (then the project's weak votes and probabilistic labels are cleared)."""
    require_writable(project, "label-set changes")
    ensure_write_lock(session)
    names = [name for name, _ in order]
    current = [label.name for label in project.labels]
    if sorted(names) != sorted(current):
        raise UserError("give every label exactly once", [f"labels: {', '.join(current)}"])
    keys = [key.strip() for _, key in order]
    for key in keys:
        if not key or len(key) > HOTKEY_MAX or any(c.isspace() for c in key):
            raise UserError(f"a hotkey is 1-{HOTKEY_MAX} characters without spaces, e.g. 3 or q")
    if len(set(keys)) != len(keys):
        raise UserError("each label needs its own hotkey")
    reordered = names != current
    if reordered and _has_python_lfs(session, project):
        raise Conflict(
            "this project has Python labeling functions, which vote by a label's "
            "position: a new order would change their votes. Change the hotkeys and "
            "keep the order"
        )
    by_name = {label.name: label for label in project.labels}
    # Two steps: unique (project, hotkey) and (project, name) hold after each flush.
    for i, label in enumerate(project.labels):
        label.hotkey = f"~{i}"
        label.position = -1 - i
    session.flush()
    for position, (name, key) in enumerate(zip(names, keys, strict=True)):
        by_name[name].hotkey, by_name[name].position = key, position
    project.labels.sort(key=lambda label: label.position)
    if reordered:
        _clear_weak_votes(session, project)
        refresh_item_labels(session, project)  # the probabilistic labels are gone
    summary = ", ".join(f"{key}={name}" for name, key in zip(names, keys, strict=True))
    _record(session, project, actor, "hotkeys", None, summary[:80])
    session.commit()
    return reordered


def _has_python_lfs(session: Session, project: Project) -> bool:
    return (
        session.scalar(
            select(LabelingFunction.id)
            .where(LabelingFunction.project_id == project.id, LabelingFunction.kind == "python")
            .limit(1)
        )
        is not None
    )


def _clear_weak_votes(session: Session, project: Project) -> None:
    lfs = select(LabelingFunction.id).where(LabelingFunction.project_id == project.id)
    session.execute(delete(WeakLabel).where(WeakLabel.lf_id.in_(lfs)))
    session.execute(delete(ProbLabel).where(ProbLabel.project_id == project.id))


def answers_per_label(session: Session, project: Project) -> dict[str, int]:
    """How many stored answers (any source) name each label, retired ones included."""
    counts: dict[str, int] = {}
    for (labels,) in session.execute(
        select(Annotation.labels).where(
            Annotation.project_id == project.id, Annotation.kind == "label"
        )
    ):
        for name in labels or []:
            counts[name] = counts.get(name, 0) + 1
    return counts
