"""SQLAlchemy 2.0 typed models. Importing this package registers every table on ``Base.metadata``."""

from labelapp.models.base import Base, utcnow
from labelapp.models.items import Annotation, ImportBatch, Item, QueueEntry
from labelapp.models.projects import Guideline, Label, Project
from labelapp.models.runs import DatasetVersion, Job, ModelRun
from labelapp.models.users import ROLES, Membership, User
from labelapp.models.weak import LabelingFunction, LabelModelRun, ProbLabel, WeakLabel

__all__ = [
    "ROLES",
    "Annotation",
    "Base",
    "DatasetVersion",
    "Guideline",
    "ImportBatch",
    "Item",
    "Job",
    "Label",
    "LabelModelRun",
    "LabelingFunction",
    "Membership",
    "ModelRun",
    "ProbLabel",
    "Project",
    "QueueEntry",
    "User",
    "WeakLabel",
    "utcnow",
]
