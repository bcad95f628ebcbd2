"""Declarative labeling functions: keyword, regular expression, metadata rule.

Each LF votes ``label`` (an int >= 0) or abstains (-1) on one data point. The row-wise
``vote`` method is the reference semantics: ``to_snorkel()`` wraps it as a Snorkel
``LabelingFunction``, and the vectorized applier (``weak_supervision.vectorized``) must give
exactly the same votes. Build LFs from plain dicts with ``lf_from_spec`` (what the app stores):

    {"kind": "keyword", "name": "kw_subscribe", "label": 1, "keywords": ["subscribe"]}
    {"kind": "regex", "name": "re_check_out", "label": 1, "pattern": "check.*out"}
    {"kind": "metadata", "name": "long_reply", "label": 0, "field": "n_words", "op": ">",
     "value": 40}
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from dataclasses import field as dc_field
from typing import Any, ClassVar

ABSTAIN = -1
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,99}$")
METADATA_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "in": lambda v, values: v in values,
    "not in": lambda v, values: v not in values,
}


def _check_common(kind: str, name: Any, label: Any, n_classes: int | None) -> None:
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise ValueError(
            f"{kind} LF name {name!r} is invalid: use 1-100 letters, digits, '_', '.', '-', "
            "starting with a letter or '_'"
        )
    if isinstance(label, bool) or not isinstance(label, int) or label < 0:
        raise ValueError(
            f"LF {name!r}: label must be a class index (int >= 0), got {label!r}; "
            "abstaining is implicit (-1 when the rule does not fire)"
        )
    if n_classes is not None and label >= n_classes:
        raise ValueError(f"LF {name!r}: label {label} is out of range for {n_classes} classes")


def _check_field(name: str, value: Any) -> None:
    if not isinstance(value, str) or not value:
        raise ValueError(f"LF {name!r}: field must be a non-empty column name, got {value!r}")


def is_missing(value: Any) -> bool:
    """True for None, NaN, pandas NA/NaT: values every LF abstains on."""
    if value is None:
        return True
    try:
        return bool(value != value) or type(value).__name__ in ("NAType", "NaTType")
    except (TypeError, ValueError):  # pd.NA raises on bool(); arrays are not missing scalars
        return type(value).__name__ in ("NAType", "NaTType")


@dataclass(frozen=True)
class DeclarativeLF:
    """Base of the declarative kinds: a name, the class it votes, the field it reads."""

    kind: ClassVar[str] = ""
    name: str
    label: int

    @property
    def fields(self) -> tuple[str, ...]:
        return (self.field,)  # type: ignore[attr-defined]

    def vote(self, x: Mapping[str, Any]) -> int:
        """The vote on one data point (a row: a Series or a mapping with this LF's field)."""
        return self.vote_value(x[self.fields[0]])

    def __call__(self, x: Mapping[str, Any]) -> int:
        return self.vote(x)

    def vote_value(self, value: Any) -> int:  # pragma: no cover - abstract
        """The vote on the value of this LF's field."""
        raise NotImplementedError

    def to_spec(self) -> dict[str, Any]:
        """The plain-dict form ``lf_from_spec`` accepts (round-trips exactly)."""
        spec = asdict(self)
        if isinstance(spec.get("keywords"), tuple):
            spec["keywords"] = list(spec["keywords"])
        if isinstance(spec.get("value"), tuple):
            spec["value"] = list(spec["value"])
        return {"kind": self.kind, **spec}

    def to_snorkel(self):
        """This LF as a Snorkel ``LabelingFunction`` (row-wise; what PandasLFApplier runs)."""
        from snorkel.labeling import LabelingFunction

        return LabelingFunction(name=self.name, f=self.vote)


@dataclass(frozen=True)
class KeywordLF(DeclarativeLF):
    """Votes ``label`` if any keyword is a substring of the field (lower-cased unless
    ``case_sensitive``), as ``any(k in x.text.lower() for k in keywords)`` in Snorkel's tutorial."""

    kind: ClassVar[str] = "keyword"
    keywords: tuple[str, ...] = ()
    field: str = "text"
    case_sensitive: bool = False
    _needles: tuple[str, ...] = dc_field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _check_common(self.kind, self.name, self.label, None)
        _check_field(self.name, self.field)
        kws = self.keywords
        if isinstance(kws, str) or not isinstance(kws, Sequence) or not kws:
            raise ValueError(
                f"keyword LF {self.name!r}: keywords must be a non-empty list of strings, "
                f"got {kws!r}"
            )
        bad = [k for k in kws if not isinstance(k, str) or not k]
        if bad:
            raise ValueError(f"keyword LF {self.name!r}: empty or non-string keywords {bad!r}")
        object.__setattr__(self, "keywords", tuple(kws))
        needles = kws if self.case_sensitive else [k.lower() for k in kws]
        object.__setattr__(self, "_needles", tuple(dict.fromkeys(needles)))

    def to_spec(self) -> dict[str, Any]:
        spec = super().to_spec()
        spec.pop("_needles", None)
        return spec

    def vote_value(self, text: Any) -> int:
        if not isinstance(text, str):
            return ABSTAIN
        if not self.case_sensitive:
            text = text.lower()
        return self.label if any(k in text for k in self._needles) else ABSTAIN


@dataclass(frozen=True)
class RegexLF(DeclarativeLF):
    """Votes ``label`` if ``re.search(pattern, field)`` finds a match (Python ``re`` syntax)."""

    kind: ClassVar[str] = "regex"
    pattern: str = ""
    field: str = "text"
    ignore_case: bool = False
    _compiled: re.Pattern | None = dc_field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _check_common(self.kind, self.name, self.label, None)
        _check_field(self.name, self.field)
        if not isinstance(self.pattern, str) or not self.pattern:
            raise ValueError(f"regex LF {self.name!r}: pattern must be a non-empty string")
        try:
            compiled = re.compile(self.pattern, re.IGNORECASE if self.ignore_case else 0)
        except re.error as exc:
            raise ValueError(
                f"regex LF {self.name!r}: invalid pattern {self.pattern!r}: {exc}"
            ) from exc
        object.__setattr__(self, "_compiled", compiled)

    def to_spec(self) -> dict[str, Any]:
        spec = super().to_spec()
        spec.pop("_compiled", None)
        return spec

    def vote_value(self, text: Any) -> int:
        if not isinstance(text, str):
            return ABSTAIN
        return self.label if self._compiled.search(text) is not None else ABSTAIN  # type: ignore[union-attr]


@dataclass(frozen=True)
class MetadataLF(DeclarativeLF):
    """Votes ``label`` if ``field <op> value`` holds (Python semantics). Missing values and
    values that cannot be compared with ``value`` (a ``TypeError``) abstain."""

    kind: ClassVar[str] = "metadata"
    field: str = ""
    op: str = "=="
    value: Any = None

    def __post_init__(self) -> None:
        _check_common(self.kind, self.name, self.label, None)
        _check_field(self.name, self.field)
        if self.op not in METADATA_OPS:
            raise ValueError(
                f"metadata LF {self.name!r}: unknown op {self.op!r}; use one of "
                f"{', '.join(METADATA_OPS)}"
            )
        value = self.value
        if self.op in ("in", "not in"):
            if isinstance(value, str) or not isinstance(value, Sequence | set | frozenset):
                raise ValueError(
                    f"metadata LF {self.name!r}: op {self.op!r} needs a list of values, "
                    f"got {value!r}"
                )
            object.__setattr__(self, "value", tuple(value))
        elif is_missing(value) or not isinstance(value, str | int | float | bool):
            raise ValueError(
                f"metadata LF {self.name!r}: value must be a string, number or boolean, "
                f"got {value!r}"
            )
        if isinstance(value, float) and math.isinf(value) and self.op in ("==", "!="):
            raise ValueError(f"metadata LF {self.name!r}: compare with a finite number")

    def vote_value(self, v: Any) -> int:
        if is_missing(v):
            return ABSTAIN
        try:
            hit = METADATA_OPS[self.op](v, self.value)
        except TypeError:
            return ABSTAIN
        return self.label if bool(hit) else ABSTAIN


LF_KINDS: dict[str, type[DeclarativeLF]] = {
    cls.kind: cls for cls in (KeywordLF, RegexLF, MetadataLF)
}
_PARAMS = {
    "keyword": {"keywords", "field", "case_sensitive"},
    "regex": {"pattern", "field", "ignore_case"},
    "metadata": {"field", "op", "value"},
    "python": {"source", "function"},
}


def lf_from_spec(spec: Mapping[str, Any], n_classes: int | None = None):
    """Build one LF from its dict spec; raise ``ValueError`` naming the LF and the bad key.

    ``kind`` is keyword, regex, metadata or python. A python spec carries ``source`` (a module's
    text) and optionally ``function`` (the LF's variable name, default: the LF named ``name``);
    it executes that source in this process, so only pass code you trust (e.g. files an SME
    loaded with the CLI), never text typed into a web form.
    """
    if not isinstance(spec, Mapping):
        raise ValueError(f"an LF spec must be a dict, got {type(spec).__name__}")
    kind = spec.get("kind")
    name = spec.get("name", "<unnamed>")
    if kind not in _PARAMS:
        raise ValueError(f"LF {name!r}: unknown kind {kind!r}; use one of {', '.join(_PARAMS)}")
    unknown = set(spec) - _PARAMS[kind] - {"kind", "name", "label"}
    if unknown:
        raise ValueError(
            f"{kind} LF {name!r}: unknown key(s) {sorted(unknown)}; allowed: "
            f"{sorted(_PARAMS[kind] | {'name', 'label'})}"
        )
    if kind == "python":
        from weak_supervision.python_lfs import python_lf_from_spec

        return python_lf_from_spec(spec)
    for key in ("name", "label"):
        if key not in spec:
            raise ValueError(f"{kind} LF {name!r}: missing required key {key!r}")
    params = {k: v for k, v in spec.items() if k != "kind"}
    try:
        lf = LF_KINDS[kind](**params)
    except TypeError as exc:  # e.g. a required parameter missing
        raise ValueError(f"{kind} LF {name!r}: {exc}") from exc
    _check_common(kind, lf.name, lf.label, n_classes)
    return lf


def lfs_from_specs(specs: Sequence[Mapping[str, Any]], n_classes: int | None = None) -> list:
    """Build several LFs; names must be unique."""
    lfs = [lf_from_spec(s, n_classes) for s in specs]
    names = [lf.name for lf in lfs]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"LF names must be unique; repeated: {dupes}")
    return lfs
