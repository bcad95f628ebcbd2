"""What changed since each weak-supervision run: LFs saved, switched off or deleted after the
votes were applied, and upstream runs newer than the one a result was built on."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from labelapp.models import LabelingFunction, LabelModelRun


def _lf_changes(
    session: Session, run: LabelModelRun, live: dict[int, LabelingFunction]
) -> list[str]:
    used = set(run.lf_ids or [])
    reasons = [
        f"{lf.name} v{lf.version} saved or switched on" for i, lf in live.items() if i not in used
    ]
    gone = sorted(used - set(live))
    if gone:
        for lf in session.scalars(select(LabelingFunction).where(LabelingFunction.id.in_(gone))):
            what = (
                "deleted"
                if lf.deleted_at is not None
                else ("replaced by a newer version" if not lf.active else "switched off")
            )
            reasons.append(f"{lf.name} v{lf.version} {what}")
    return reasons


def staleness(
    session: Session, project_id: int, runs: dict[str, LabelModelRun]
) -> dict[str, list[str]]:
    """Per run kind (apply, label_model, propagation, end_model), what changed since its latest
    run; an empty list means it is current."""
    live = {
        lf.id: lf
        for lf in session.scalars(
            select(LabelingFunction).where(
                LabelingFunction.project_id == project_id,
                LabelingFunction.active.is_(True),
                LabelingFunction.deleted_at.is_(None),
            )
        )
    }
    out: dict[str, list[str]] = {}
    apply, fit = runs.get("apply"), runs.get("label_model")
    if apply is not None:
        out["apply"] = _lf_changes(session, apply, live)
    if fit is not None:
        reasons = _lf_changes(session, fit, live)
        if apply is not None and apply.id > fit.id:
            reasons.append(f"votes applied again (run #{apply.id})")
        out["label_model"] = reasons
    for kind in ("propagation", "end_model"):
        run = runs.get(kind)
        if run is None:
            continue
        reasons = list(out.get("label_model", []))
        built_on = (run.metrics or {}).get("label_model_run_id")
        if fit is not None and (
            (built_on is not None and built_on != fit.id) or (built_on is None and fit.id > run.id)
        ):
            reasons.append(f"label model fitted again (run #{fit.id})")
        out[kind] = reasons
    return out
