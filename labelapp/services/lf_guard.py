"""The limits on code SMEs write, from the settings (:mod:`labelapp.config`): regex LFs whose
pattern Python's ``re`` must run get a time limit (a child process,
:mod:`weak_supervision.regex_guard`), Python LFs run in the sandbox
(:mod:`weak_supervision.sandbox`), one sandboxed process per apply or per check of a file.
Nothing here executes user code in the calling process.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from labelapp import config
from labelapp.services.errors import UserError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from weak_supervision.sandbox import Limits


def _setting(read):
    try:
        return read()
    except ValueError as exc:  # a bad setting: the message names it and how to fix it
        raise UserError(str(exc)) from None


def regex_seconds(where: str) -> float:
    """The Python-``re`` time limit for a ``"preview"`` (also saves) or an ``"apply"``."""
    if where == "apply":
        return _setting(config.regex_apply_timeout_seconds)
    return _setting(config.regex_timeout_seconds)


def regex_hint(where: str) -> str:
    """The setting that raises the regex time limit of ``where``."""
    return (
        "LABELAPP_REGEX_APPLY_TIMEOUT_SECONDS"
        if where == "apply"
        else "LABELAPP_REGEX_TIMEOUT_SECONDS"
    )


def lf_limits() -> Limits:
    """The sandbox limits of one Python-LF run, with the settings that raise them."""
    from weak_supervision.sandbox import Limits

    return Limits(
        cpu_seconds=_setting(config.lf_cpu_seconds),
        wall_seconds=_setting(config.lf_wall_seconds),
        memory_mb=_setting(config.lf_memory_mb),
        hints={
            "cpu": "LABELAPP_LF_CPU_SECONDS",
            "wall": "LABELAPP_LF_WALL_SECONDS",
            "memory": "LABELAPP_LF_MEMORY_MB",
        },
    )


def python_lf_names(source: str) -> list[str]:
    """The LF names a Python source defines, found by loading it in the sandbox."""
    from weak_supervision.sandbox import SandboxError, lf_names

    try:
        return lf_names(source, lf_limits())
    except SandboxError as exc:
        raise UserError(str(exc)) from None


def apply_python(lfs: Sequence[tuple[str, str]], frame: pd.DataFrame) -> np.ndarray:
    """Votes ``(items, len(lfs))`` of the Python LFs ``(name, source)`` on ``frame``, computed
    in one sandboxed process (each distinct source loaded once)."""
    import numpy as np

    from weak_supervision.sandbox import SandboxError, apply_python_lfs

    modules: dict[str, list[str]] = {}
    for name, source in lfs:
        modules.setdefault(source, []).append(name)
    order = [(source, name) for source, names in modules.items() for name in names]
    try:
        result = apply_python_lfs(
            [{"source": s, "names": n} for s, n in modules.items()], frame, lf_limits()
        )
    except SandboxError as exc:
        raise UserError(str(exc)) from None
    column = {key: k for k, key in enumerate(order)}
    out = np.empty((len(frame), len(lfs)), dtype=np.int64)
    for j, (name, source) in enumerate(lfs):
        out[:, j] = result.votes[:, column[(source, name)]]
    return out
