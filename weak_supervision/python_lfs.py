"""Python labeling functions: Snorkel ``@labeling_function`` objects loaded from a file or source.

Loading executes the module's code in *this* process: these functions are for code you trust
(your own notebook, the bundled examples) and for :mod:`weak_supervision.sandbox_runner`, which
calls them inside the sandbox. Code an SME wrote goes through :mod:`weak_supervision.sandbox`
(``sandbox.lf_names(source)`` to check it, ``sandbox.apply_python_lfs`` to apply it), never here.
"""

from __future__ import annotations

import hashlib
import types
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def _labeling_function_class() -> type:
    from snorkel.labeling import LabelingFunction

    return LabelingFunction


def python_lfs_from_source(source: str, module_name: str | None = None) -> list:
    """Execute ``source`` as a module and return the Snorkel LabelingFunctions it defines, in
    definition order. Raises ``ValueError`` if it fails to run or defines none."""
    lf_class = _labeling_function_class()
    digest = hashlib.sha1(source.encode()).hexdigest()[:12]
    name = module_name or f"labelapp_lfs_{digest}"
    module = types.ModuleType(name)
    module.__file__ = f"<{name}>"
    # Deliberately not put in sys.modules: cloudpickle (Dask) then ships the LFs' functions by
    # value, so workers need not import a module that exists only in this process.
    try:
        exec(compile(source, module.__file__, "exec"), module.__dict__)
    except Exception as exc:
        raise ValueError(f"Python LF module {name!r} failed to load: {exc!r}") from exc
    lfs = [v for v in vars(module).values() if isinstance(v, lf_class)]
    if not lfs:
        raise ValueError(
            f"Python LF module {name!r} defines no Snorkel labeling functions; decorate them "
            "with @labeling_function() from snorkel.labeling"
        )
    names = [lf.name for lf in lfs]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"Python LF module {name!r} repeats LF names {dupes}")
    return lfs


def load_python_lfs(path: str | Path) -> list:
    """Load the Snorkel LabelingFunctions defined in the ``.py`` file at ``path``."""
    path = Path(path)
    if path.suffix != ".py":
        raise ValueError(f"{path}: expected a .py file of labeling functions")
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    return python_lfs_from_source(
        path.read_text(encoding="utf-8"), module_name=f"labelapp_lfs_{path.stem}"
    )


def python_lf_from_spec(spec: Mapping[str, Any]):
    """The LF named ``spec["function"]`` (default ``spec["name"]``) from ``spec["source"]``."""
    name = spec.get("name", "<unnamed>")
    source = spec.get("source")
    if not isinstance(source, str) or not source.strip():
        raise ValueError(f"python LF {name!r}: 'source' must hold the module's Python code")
    wanted = spec.get("function") or name
    lfs = python_lfs_from_source(source)
    for lf in lfs:
        if lf.name == wanted:
            return lf
    raise ValueError(
        f"python LF {name!r}: the source defines no LF named {wanted!r}; "
        f"it defines {[lf.name for lf in lfs]}"
    )
