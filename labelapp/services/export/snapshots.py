"""A project's dataset versions (the exports): list them, get one by number, read its snapshot."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from labelapp.models import DatasetVersion
from labelapp.services.errors import NotFound, UserError

if TYPE_CHECKING:
    import pandas as pd


def list_versions(session: Session, project_id: int) -> list[DatasetVersion]:
    return list(
        session.scalars(
            select(DatasetVersion)
            .where(DatasetVersion.project_id == project_id)
            .order_by(DatasetVersion.version)
        )
    )


def get_version(session: Session, project_id: int, number: int) -> DatasetVersion:
    version = session.scalar(
        select(DatasetVersion).where(
            DatasetVersion.project_id == project_id, DatasetVersion.version == number
        )
    )
    if version is None:
        known = [v.version for v in list_versions(session, project_id)]
        raise NotFound(
            f"no dataset version {number} in this project; versions: "
            f"{', '.join(map(str, known)) or 'none yet (export first)'}"
        )
    return version


def version_snapshot(version: DatasetVersion) -> pd.DataFrame:
    from labelapp.export import read_snapshot

    path = version.params.get("snapshot")
    if not path or not Path(path).is_file():
        raise UserError(
            f"the snapshot of version {version.version} is missing from the data directory "
            f"(versions/{Path(path).parent.name}/{Path(path).name}); it is kept on the machine "
            "where the export ran"
        )
    return read_snapshot(path)
