"""The process that runs Python LFs: ``python -I -B -m weak_supervision.sandbox_runner DIR``.

Started by :mod:`weak_supervision.sandbox` with a fresh scratch directory ``DIR`` holding
``job.json`` (mode, LF sources, limits) and, to apply, ``items.pkl`` (the item data). It sets up the
layers of :mod:`weak_supervision.sandbox_layers` in this order: network namespace and Landlock
(while single-threaded, so every later thread inherits them), imports of the libraries LFs use and
of every module the sources name, and the item data (as root these load before the switch to
``nobody``, who may not read a Python installed under ``/root``), ``nobody`` (as root), rlimits, the
audit hook; only then does it execute the LF sources. It writes ``status.json`` and ``votes.npy``
into ``DIR`` and keeps the index of the LF running in the 4-byte file ``current`` (for the parent to
name it if it has to kill this process). The LF's own prints go to ``DIR/log.txt`` (the parent's
``stderr`` file).
"""

from __future__ import annotations

import ast
import importlib
import json
import mmap
import os
import pickle
import struct
import sys
import traceback
from typing import Any

from weak_supervision import sandbox_layers as layers_

# Imported before any LF code: the data stack, and the modules the sources import at module level
# (named_modules). As root, before the switch to nobody, the whole standard library too (~1 s):
# nobody may not read a Python installed under /root, and libraries an LF imports lazily from a
# readable site-packages still need it. Other modules load later only if nobody can read them.
PRELOADED = (
    "numpy",
    "pandas",
    "pyarrow",
    "snorkel.labeling",
    "snorkel.preprocess",
    "weak_supervision.python_lfs",
)
STDLIB_PACKAGES = (
    "xml",
    "email",
    "http",
    "urllib",
    "json",
    "logging",
    "concurrent",
    "importlib",
    "encodings",
    "html",
    "wsgiref",
    "dbm",
    "sqlite3",
    "ctypes",
    "unittest",
    "collections",
    "multiprocessing",
    "asyncio",
    "zoneinfo",
)
# Never imported ahead of the LF code: side effects (a browser, a GUI) or installers.
NOT_PRELOADED = frozenset(
    (
        "antigravity",
        "this",
        "turtle",
        "turtledemo",
        "tkinter",
        "idlelib",
        "pip",
        "ensurepip",
        "venv",
        "__hello__",
        "__phello__",
        "lib2to3",
        "pydoc_data",
        "test",
        "msvcrt",
        "winreg",
        "winsound",
        "nt",
        "ntpath",
        "msilib",
    )
)
SYSTEM_READ_ROOTS = (
    "/usr/lib",
    "/usr/lib64",
    "/lib",
    "/lib64",
    "/usr/share/zoneinfo",
    "/etc/ld.so.cache",
    "/dev/urandom",
)


def read_roots() -> list[str]:
    """What an LF may read: the interpreter, its libraries and this package, system libraries."""
    roots = {
        sys.prefix,
        sys.base_prefix,
        sys.exec_prefix,
        sys.base_exec_prefix,
        os.path.dirname(os.path.abspath(__file__)),
    }
    roots.update(p for p in sys.path if p and os.path.isabs(p) and os.path.exists(p))
    return sorted(roots) + list(SYSTEM_READ_ROOTS)


def _module_level(tree: ast.AST) -> list[ast.AST]:
    """The nodes that run when the module is executed (function bodies excluded)."""
    out, todo = [], [tree]
    while todo:
        node = todo.pop()
        out.append(node)
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            todo.extend(ast.iter_child_nodes(node))
    return out


def named_modules(sources: list[str]) -> list[str]:
    """Every absolute module an LF source imports at module level, deduplicated (imports inside
    functions load when called, as nobody: from a readable site-packages they work)."""
    found: dict[str, None] = {}
    for source in sources:
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue  # reported when the source is executed
        for node in _module_level(tree):
            if isinstance(node, ast.Import):
                found.update((alias.name, None) for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found[node.module] = None
    return [m for m in found if m.split(".")[0] not in NOT_PRELOADED]


def stdlib_modules() -> list[str]:
    """The standard library's public modules and the submodules of ``STDLIB_PACKAGES``."""
    import pkgutil

    names = [
        m
        for m in sorted(sys.stdlib_module_names)
        if not m.startswith("_") and m not in NOT_PRELOADED
    ]
    for package in STDLIB_PACKAGES:
        try:
            path = importlib.import_module(package).__path__
        except (ImportError, AttributeError):
            continue
        names += [
            m.name
            for m in pkgutil.walk_packages(path, package + ".")
            if ".test" not in m.name and not m.name.endswith("__main__")
        ]
    return names


def preload(names: list[str]) -> None:
    """Import ``names`` now; a module that fails is left for the LF code to report."""
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:
            continue


class RunnerError(Exception):
    """A problem the runner reports as is (not an LF's exception)."""


class _Tracked:
    """An LF that records its index in the shared ``current`` file before each call."""

    def __init__(self, lf: Any, index: int, marker: mmap.mmap) -> None:
        self.lf, self.name, self.marker = lf, lf.name, marker
        self.mark = struct.pack("<i", index + 1)

    def __call__(self, x: Any) -> int:
        self.marker[:4] = self.mark
        return self.lf(x)


def _write_status(status: dict[str, Any]) -> None:
    with open("status.json", "w", encoding="utf-8") as f:
        json.dump(status, f)


def _run(job: dict[str, Any], items: Any, marker: mmap.mmap, layers: dict[str, bool]) -> None:
    import numpy as np
    from snorkel.labeling import PandasLFApplier

    from weak_supervision.python_lfs import python_lfs_from_source

    modules = []
    for i, module in enumerate(job["modules"]):
        marker[:4] = struct.pack("<i", -(i + 1))
        modules.append(python_lfs_from_source(module["source"], f"labelapp_lfs_{i}"))
    marker[:4] = struct.pack("<i", 0)
    if job["mode"] == "inspect":
        _write_status(
            {"ok": True, "names": [[lf.name for lf in m] for m in modules], "layers": layers}
        )
        return
    chosen = []
    for i, module in enumerate(job["modules"]):
        defined = {lf.name: lf for lf in modules[i]}
        for name in module["names"]:
            if name not in defined:
                raise RunnerError(f"Python LF {name!r} is no longer defined in its stored source")
            chosen.append(_Tracked(defined[name], len(chosen), marker))
    votes = PandasLFApplier(chosen).apply(items, progress_bar=False)
    marker[:4] = struct.pack("<i", 0)
    from weak_supervision.apply import votes_dtype

    votes = np.asarray(votes)
    small = votes_dtype(int(votes.max(initial=0)))  # int8 for < 127 classes: a small file
    np.save(
        "votes.npy",
        votes.astype(small if votes.min(initial=0) >= -1 else np.int64),
        allow_pickle=False,
    )
    _write_status({"ok": True, "names": [lf.name for lf in chosen], "layers": layers})


def main(argv: list[str]) -> int:
    scratch = os.path.realpath(argv[1])
    os.chdir(scratch)
    with open("job.json", encoding="utf-8") as f:
        job = json.load(f)
    limits = job["limits"]
    layers = {"network": layers_.isolate_network()}  # first: needs a single thread
    os.dup2(2, 1)  # prints (ours, imported modules', the LF's) go to the log, never a result
    fd = os.open("current", os.O_RDWR | os.O_CREAT, 0o600)
    os.ftruncate(fd, 4)
    marker = mmap.mmap(fd, 4)
    os.close(fd)
    uid = job.get("uid")
    become = os.geteuid() == 0 and uid is not None
    if become:
        os.chown(scratch, uid, uid)
    layers["no_new_privs"] = layers_.no_new_privs()
    roots = read_roots()
    layers["filesystem"] = layers_.restrict_filesystem(roots, [scratch, "/dev/null"])
    sources = [m["source"] for m in job["modules"]]
    preload((stdlib_modules() if become else []) + list(PRELOADED) + named_modules(sources))
    items = None
    if job["mode"] == "apply":
        with open("items.pkl", "rb") as f:
            items = pickle.load(f)
    layers["user"] = layers_.drop_privileges(uid) if become else False
    limited = layers_.set_limits(
        int(limits["cpu_seconds"]), int(limits["memory_mb"]) << 20, int(limits["file_mb"]) << 20
    )
    layers.update({f"limit_{k}": v for k, v in limited.items()})
    layers["audit_hook"] = layers_.install_audit_hook(roots, scratch)
    try:
        _run(job, items, marker, layers)
    except (Exception, SystemExit) as exc:
        index = struct.unpack("<i", marker[:4])[0]
        cause = exc.__cause__ if isinstance(exc, ValueError) and exc.__cause__ else exc
        kind = "memory" if isinstance(cause, MemoryError) else "error"
        plain = isinstance(exc, RunnerError) or (index < 0 and isinstance(exc, ValueError))
        message = str(exc) if plain else f"{type(exc).__name__}: {exc}"
        traceback.print_exc()
        _write_status(
            {"ok": False, "kind": kind, "index": index, "error": message, "layers": layers}
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
