"""Run Python LFs in a sandboxed child process: one process per apply (or per check of a source).

The parent (this module) writes the LF sources and the item data into a fresh scratch directory,
starts ``python -I -B -m weak_supervision.sandbox_runner DIR`` in its own session with a minimal
environment (no database URL, no secrets) and no inherited descriptors, waits at most
``Limits.wall_seconds`` (then kills the whole process group) and reads back the vote matrix.
The runner adds the layers of :mod:`weak_supervision.sandbox_layers`: a private network
namespace, the ``nobody`` user (as root), Landlock file access (read the interpreter and
libraries, write the scratch directory, no ``execve``), ``setrlimit`` CPU/memory/file
size/processes, and an audit hook. ``SandboxResult.layers`` says which of them were enforced.

Every failure is a :class:`SandboxError` (a ``ValueError``) naming the LF and, for a limit, the
limit: "LF 'slow' exceeded the 30 s wall-time limit (LABELAPP_LF_WALL_SECONDS)".
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import pwd
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from weak_supervision.sandbox_layers import NOBODY_UID

_LOG_TAIL = 2000  # characters of the runner's log quoted in an unexpected failure


@dataclass(frozen=True)
class Limits:
    """Per-run limits. ``memory_mb`` is what the LFs may allocate beyond the runner's libraries
    and item data; ``file_mb`` the largest file they may write. ``hints`` name, per limit
    ("cpu", "wall", "memory"), the setting that raises it, quoted in error messages."""

    cpu_seconds: float = 120.0
    wall_seconds: float = 180.0
    memory_mb: int = 768
    file_mb: int = 256
    hints: Mapping[str, str] = field(default_factory=dict)

    def describe(self, kind: str) -> str:
        text = {
            "cpu": f"the {self.cpu_seconds:g} s CPU-time limit",
            "wall": f"the {self.wall_seconds:g} s wall-time limit",
            "memory": f"the {self.memory_mb} MB memory limit",
            "file": f"the {self.file_mb} MB file-size limit",
        }[kind]
        return f"{text} ({self.hints[kind]})" if kind in self.hints else text


class SandboxError(ValueError):
    """A Python LF failed or hit a limit; ``lf`` is its name (None: not known), ``limit`` the
    limit it hit ("cpu", "wall", "memory", "file"; None: it raised)."""

    def __init__(self, message: str, lf: str | None = None, limit: str | None = None) -> None:
        super().__init__(message)
        self.lf, self.limit = lf, limit


@dataclass(frozen=True)
class SandboxResult:
    """Votes ``(items, LFs)`` (or None when only checking sources), the LF names, and which
    isolation layers the runner enforced (``network``, ``user``, ``filesystem``, ...)."""

    votes: np.ndarray | None
    names: list
    layers: dict[str, bool]


def sandbox_uid() -> int | None:
    """The user LFs run as when the server runs as root: ``nobody`` (None: not root)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("nobody").pw_uid
    except KeyError:
        return NOBODY_UID


def _environment(scratch: str) -> dict[str, str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": scratch, "TMPDIR": scratch, "LANG": "C.UTF-8"}
    for name in (
        "OPENBLAS_NUM_THREADS",
        "OMP_NUM_THREADS",
        "MKL_NUM_THREADS",
        "NUMEXPR_MAX_THREADS",
    ):
        env[name] = "1"
    return env


def _open(scratch: str, name: str) -> Any:
    """A file the runner wrote, opened for reading without following a symlink (the sandboxed
    user owns the directory: a link planted there must not make us read another file)."""
    fd = os.open(os.path.join(scratch, name), os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    return os.fdopen(fd, "rb")


def _read_json(scratch: str, name: str) -> dict[str, Any] | None:
    try:
        with _open(scratch, name) as f:
            return json.loads(f.read(1 << 20).decode("utf-8"))
    except (OSError, ValueError):
        return None


def _current(scratch: str) -> int:
    try:
        with _open(scratch, "current") as f:
            data = f.read(4)
        return struct.unpack("<i", data)[0] if len(data) == 4 else 0
    except OSError:
        return 0


def _log_tail(scratch: str) -> str:
    try:
        with _open(scratch, "log.txt") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - _LOG_TAIL))
            return f.read().decode("utf-8", "replace").strip()
    except OSError:
        return ""


def _who(index: int, modules: Sequence[Mapping[str, Any]], names: list[str]) -> str | None:
    """The LF (or source) the runner was in: index > 0 an LF, < 0 loading a source."""
    if index > 0 and index <= len(names):
        return names[index - 1]
    if index < 0 and -index <= len(modules):
        defined = modules[-index - 1].get("names") or []
        return ", ".join(defined) if defined else None
    return None


def _label(who: str | None, loading: bool) -> str:
    if who is None:
        return "the Python LF source (while loading)" if loading else "the Python LFs"
    return f"Python LF source of {who!r} (while loading)" if loading else f"LF {who!r}"


def run(
    mode: str,
    modules: Sequence[Mapping[str, Any]],
    items: pd.DataFrame | None = None,
    limits: Limits | None = None,
) -> SandboxResult:
    """Run the runner once. ``modules``: ``{"source": code, "names": [LF names to apply]}``;
    ``mode`` "apply" (votes of those LFs on ``items``) or "inspect" (the LF names each source
    defines). Raises :class:`SandboxError`."""
    limits = limits or Limits()
    names = [n for m in modules for n in m.get("names", [])]
    scratch = tempfile.mkdtemp(prefix="labelapp-lf-")
    try:
        job = {
            "mode": mode,
            "uid": sandbox_uid(),
            "modules": [
                {"source": m["source"], "names": list(m.get("names", []))} for m in modules
            ],
            "limits": {
                "cpu_seconds": max(1, int(limits.cpu_seconds)),
                "memory_mb": int(limits.memory_mb),
                "file_mb": int(limits.file_mb),
            },
        }
        with open(os.path.join(scratch, "job.json"), "w", encoding="utf-8") as f:
            json.dump(job, f)
        if mode == "apply":
            with open(os.path.join(scratch, "items.pkl"), "wb") as f:
                pickle.dump(items.reset_index(drop=True), f, protocol=5)
        with open(os.path.join(scratch, "log.txt"), "wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-I", "-B", "-m", "weak_supervision.sandbox_runner", scratch],
                cwd=scratch,
                env=_environment(scratch),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=log,
                start_new_session=True,
            )
            timed_out = False
            try:
                proc.wait(timeout=limits.wall_seconds)
            except subprocess.TimeoutExpired:
                timed_out = True
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        return _result(scratch, proc.returncode, timed_out, modules, names, limits, mode)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _result(
    scratch: str,
    returncode: int,
    timed_out: bool,
    modules: Sequence[Mapping[str, Any]],
    names: list[str],
    limits: Limits,
    mode: str,
) -> SandboxResult:
    index = _current(scratch)
    who, loading = _who(index, modules, names), index < 0
    label = _label(who, loading)
    if timed_out:
        raise SandboxError(f"{label} exceeded {limits.describe('wall')}", who, "wall")
    if returncode in (-signal.SIGXCPU, -signal.SIGKILL):
        raise SandboxError(f"{label} exceeded {limits.describe('cpu')}", who, "cpu")
    if returncode == -signal.SIGXFSZ:
        raise SandboxError(f"{label} exceeded {limits.describe('file')}", who, "file")
    status = _read_json(scratch, "status.json")
    if status is None or (returncode != 0 and status.get("ok")):
        tail = _log_tail(scratch)
        raise SandboxError(
            f"{label} stopped the sandbox (exit status {returncode}): {tail or 'no output'}", who
        )
    if not status.get("ok"):
        index = int(status.get("index", 0))
        who, loading = _who(index, modules, names), index < 0
        label = _label(who, loading)
        if status.get("kind") == "memory":
            raise SandboxError(f"{label} exceeded {limits.describe('memory')}", who, "memory")
        raise SandboxError(f"{label} failed: {status.get('error', 'unknown error')}", who)
    votes = None
    if mode == "apply":
        try:
            with _open(scratch, "votes.npy") as f:
                votes = np.load(f, allow_pickle=False).astype(np.int64)
        except (OSError, ValueError) as exc:
            raise SandboxError(f"the Python LFs gave no readable votes: {exc}") from None
    return SandboxResult(votes, list(status.get("names", [])), dict(status.get("layers", {})))


def apply_python_lfs(
    modules: Sequence[Mapping[str, Any]], items: pd.DataFrame, limits: Limits | None = None
) -> SandboxResult:
    """Votes ``(len(items), n)`` of the named LFs of each source, in order, as Snorkel's
    ``PandasLFApplier`` gives them (-1 abstain), computed in the sandbox."""
    n = sum(len(m.get("names", [])) for m in modules)
    if not n:
        return SandboxResult(np.empty((len(items), 0), dtype=np.int64), [], {})
    result = run("apply", modules, items, limits)
    votes = result.votes
    if votes is None or votes.ndim != 2 or votes.shape != (len(items), n):
        raise SandboxError(
            f"the Python LFs gave votes of shape {getattr(votes, 'shape', None)}, "
            f"expected {(len(items), n)}"
        )
    return result


def lf_names(source: str, limits: Limits | None = None) -> list[str]:
    """The names of the Snorkel LFs ``source`` defines, found by running it in the sandbox
    (``SandboxError`` if it fails to load, defines none or repeats a name)."""
    result = run("inspect", [{"source": source, "names": []}], None, limits)
    return list(result.names[0]) if result.names else []
