"""Python ``re`` searches run in a child process with a time limit.

RE2 (:mod:`weak_supervision.re2`) runs in linear time, but patterns it cannot run (lookarounds,
back-references) and the few rows whose characters RE2 reads differently fall back to Python's
``re``, which backtracks: ``(a+)+(?=b)`` on 27 "a"s takes ~17 s and holds the GIL all along.
:func:`search_many` runs such searches in a fresh interpreter (``python -I -S``, only ``re``
imported) fed through a pipe; the caller waits without holding the GIL and kills the child at
the deadline, raising :class:`RegexTimeout` (a ``ValueError`` whose message says how to fix it).
The child also sets its own CPU and address-space limits (``setrlimit``).
"""

from __future__ import annotations

import marshal
import re
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import numpy as np

DEFAULT_TIMEOUT = 60.0  # seconds; labelapp passes its own settings
_MEMORY_FLOOR = 256 << 20  # address space of the child beyond its input, bytes

_CHILD = """\
import marshal, re, resource, sys
cpu, mem = int(sys.argv[1]), int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
pattern, flags, values = marshal.loads(sys.stdin.buffer.read())
search = re.compile(pattern, flags).search
out = bytearray(len(values))
for i, v in enumerate(values):
    if v is not None and search(v) is not None:
        out[i] = 1
sys.stdout.buffer.write(out)
"""


_limit: ContextVar[float | None] = ContextVar("regex_time_limit", default=DEFAULT_TIMEOUT)


def current_limit() -> float | None:
    """The time limit for Python-``re`` fallbacks in this context (None: run in process)."""
    return _limit.get()


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Within the block, Python-``re`` fallbacks of regex LFs (in this thread / context) run in
    a child process limited to ``seconds`` (None: in this process, for trusted patterns only).
    Applications pass their setting here, e.g. a short one for previews inside a request."""
    token = _limit.set(seconds)
    try:
        yield
    finally:
        _limit.reset(token)


class RegexTimeout(ValueError):
    """A Python-``re`` search exceeded its time limit (the pattern backtracks badly)."""


def timeout_message(pattern: str, timeout: float, n_texts: int, where: str = "") -> str:
    """What a user reads when ``pattern`` ran out of time: the limit and how to fix it."""
    place = f" {where}" if where else ""
    return (
        f"pattern {pattern!r} took longer than {timeout:g} s on {n_texts:,} texts{place}; "
        "simplify it (avoid nested quantifiers such as (a+)+) or use a pattern RE2 supports "
        "(no lookarounds or back-references)"
    )


def search_many(
    pattern: str, ignore_case: bool, values: Sequence[Any], timeout: float = DEFAULT_TIMEOUT
) -> np.ndarray:
    """Whether ``re.search(pattern, v)`` matches, per value (non-strings: False), computed in a
    child process killed after ``timeout`` seconds (then :class:`RegexTimeout`)."""
    if not len(values):
        return np.zeros(0, dtype=bool)
    plain = str.__add__  # "" + v: a plain str also for subclasses (numpy.str_), which marshal needs
    texts = [plain("", v) if isinstance(v, str) else None for v in values]
    payload = marshal.dumps((plain("", pattern), int(re.IGNORECASE) if ignore_case else 0, texts))
    cpu = max(1, int(timeout) + 1)
    memory = _MEMORY_FLOOR + 4 * len(payload)
    proc = subprocess.Popen(
        [sys.executable, "-I", "-S", "-B", "-c", _CHILD, str(cpu), str(memory)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        out, err = proc.communicate(payload, timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise RegexTimeout(timeout_message(pattern, timeout, len(texts))) from None
    if proc.returncode != 0 or len(out) != len(texts):
        if proc.returncode in (-9, -24):  # SIGKILL / SIGXCPU: the CPU limit
            raise RegexTimeout(timeout_message(pattern, timeout, len(texts)))
        detail = err.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
        raise ValueError(f"pattern {pattern!r} could not run: {detail[0]}")
    return np.frombuffer(out, dtype=np.uint8).astype(bool)
