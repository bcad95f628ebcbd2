"""SQLAlchemy 2.0 typed models. Importing this package registers every table on
``Base.metadata``."""

from labelapp.models.base import Base, utcnow
from labelapp.models.item_labels import ItemLabel
from labelapp.models.items import Annotation, ImportBatch, Item, QueueEntry
from labelapp.models.label_history import LabelChange
from labelapp.models.projects import Guideline, Label, Project
from labelapp.models.review import (
    FLAG_REASONS,
    AdjudicationRequest,
    Flag,
    LabelCorrection,
    LabelIssue,
    LabelIssueRun,
)
from labelapp.models.runs import DatasetVersion, Job, ModelRun
from labelapp.models.users import REVIEWER_ROLES, ROLES, Membership, User
from labelapp.models.validation import ProjectSchema, SchemaCheck
from labelapp.models.weak import LabelingFunction, LabelModelRun, ProbLabel, WeakLabel

__all__ = [
    "FLAG_REASONS",
    "REVIEWER_ROLES",
    "ROLES",
    "AdjudicationRequest",
    "Annotation",
    "Base",
    "DatasetVersion",
    "Flag",
    "Guideline",
    "ImportBatch",
    "Item",
    "ItemLabel",
    "Job",
    "Label",
    "LabelChange",
    "LabelCorrection",
    "LabelIssue",
    "LabelIssueRun",
    "LabelModelRun",
    "LabelingFunction",
    "Membership",
    "ModelRun",
    "ProbLabel",
    "Project",
    "ProjectSchema",
    "QueueEntry",
    "SchemaCheck",
    "User",
    "WeakLabel",
    "utcnow",
]
