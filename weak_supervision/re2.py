"""Run Python ``re.search`` semantics with RE2 (pyarrow's ``match_substring_regex``), exactly.

Why hand-written: Python's ``re`` costs ~2-4 us per text; pyarrow's RE2 kernels run 10-20x
faster but differ from ``re`` in syntax (``x{,3}``, lookarounds, back-references) and in Unicode
details (RE2's ``\\w``, ``\\s``, ``\\b`` are ASCII-only; case folding of a few characters such as
U+0131 and U+212A). No library bridges the two, so ``translate`` re-emits Python's own parse tree
as RE2 syntax (refusing what RE2 lacks) and names a *hazard* set of characters: rows containing
one of them are answered by Python's ``re`` instead, so every row gets exactly Python's answer.
"""

from __future__ import annotations

import re
import sys
import threading
from dataclasses import dataclass
from functools import cache

import numpy as np

# Python's own regex parser (private but stable across 3.11-3.13): the only exact source of how
# Python reads a pattern. Guarded: on an interpreter without it every pattern runs in Python.
try:
    from re import _constants as C  # type: ignore[attr-defined]
    from re import _parser as sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover
    sre_parse = None

_MAX_REPEAT = 1000  # RE2's repetition limit


class Untranslatable(Exception):
    """The pattern uses syntax that RE2 lacks or reads differently."""


@dataclass(frozen=True)
class Plan:
    """How to run one pattern: ``re2`` on every row except those containing a character of
    one of the named ``hazards`` (see ``hazard_mask``); Python's ``re`` answers those."""

    re2: str
    hazards: tuple[str, ...] = ()


def _esc(code: int) -> str:
    ch = chr(code)
    return ch if ch.isascii() and ch.isalnum() else f"\\x{{{code:x}}}"


def _code_points() -> np.ndarray:
    """Every non-ASCII code point, surrogates excluded (what tests check hazards over)."""
    cps = np.arange(0x80, sys.maxunicode + 1, dtype=np.uint32)
    return cps[(cps < 0xD800) | (cps > 0xDFFF)]


# ASCII characters that are hazards: Python's \s has \v and \x1c-\x1f, RE2's does not.
ASCII_HAZARDS = "\x0b\x1c\x1d\x1e\x1f"
HAZARDS = ("word", "space", "ignorecase", "lower")
_known: dict[str, np.ndarray] = {}  # per hazard: -1 unknown, 0 no, 1 yes, by code point
_lock = threading.Lock()


def _decide(name: str, chars: list[str]) -> list[bool]:
    """Whether each character is a hazard of kind ``name`` (see ``hazard_mask``)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    joined = "".join(chars)
    if name == "word":
        found = set(re.findall(r"\w", joined))
        return [c > "\x7f" and c in found for c in chars]
    if name == "space":
        found = set(re.findall(r"\s", joined))
        return [(c > "\x7f" and c in found) or c in ASCII_HAZARDS for c in chars]
    if name == "ignorecase":
        rx = np.asarray(pc.match_substring_regex(pa.array(chars, pa.string()), "(?i)[a-z]"))
        py = set(re.findall("[a-z]", joined, re.IGNORECASE))
        return [
            c > "\x7f"
            and (bool(r) or c in py or (c.lower() != c and any(x.isascii() for x in c.lower())))
            for c, r in zip(chars, rx, strict=True)
        ]
    if name == "lower":
        arrow = pc.utf8_lower(pa.array(chars, pa.string())).to_pylist()
        return [c.lower() != a or c == "\u03a3" for c, a in zip(chars, arrow, strict=True)]
    raise ValueError(f"unknown hazard {name!r}; use one of {HAZARDS}")


def hazard_mask(name: str, code_points: np.ndarray) -> np.ndarray:
    """For each code point, whether RE2 (or Arrow) and Python may answer differently on a text
    holding it, for one kind of construct. Decided per distinct character, once per process:

    - ``word``: ``\\w \\d \\b`` (RE2's are ASCII-only): every non-ASCII word character
      (Python's digits are word characters too);
    - ``space``: ``\\s``: every non-ASCII space character, and the ASCII controls Python
      counts as space but RE2 does not;
    - ``ignorecase``: non-ASCII characters either engine folds onto an ASCII letter (K, the
      Kelvin sign; long s; dotless i), or whose Python lower case holds an ASCII letter;
    - ``empty`` (rows, not characters): the empty text, where Python's ``\\B`` fails;
    - ``lower``: characters whose lower case Arrow's ``utf8_lower`` and Python's
      ``str.lower`` disagree on (e.g. U+0130, and Unicode-version differences), plus U+03A3,
      whose Python lower case depends on its neighbours (final sigma).
    """
    code_points = np.asarray(code_points, dtype=np.int64)
    with _lock:
        table = _known.setdefault(name, np.full(sys.maxunicode + 1, -1, dtype=np.int8))
        unknown = np.unique(code_points[table[code_points] < 0])
        if len(unknown):
            chars = [chr(c) for c in unknown]
            if name not in HAZARDS:
                raise ValueError(f"unknown hazard {name!r}; use one of {HAZARDS}")
            surrogate = (unknown >= 0xD800) & (unknown <= 0xDFFF)
            decided = np.zeros(len(unknown), dtype=np.int8)
            ok = ~surrogate
            decided[ok] = _decide(name, [c for c, keep in zip(chars, ok, strict=True) if keep])
            table[unknown] = decided
        return table[code_points] == 1


class _Emitter:
    def __init__(self, flags: int) -> None:
        self.flags = flags
        self.categories: set[str] = set()  # hazard tables the pattern's categories need
        self.non_ascii = False

    def seq(self, items: list, top: bool = False) -> str:
        out = []
        for i, (op, av) in enumerate(items):
            last = top and i == len(items) - 1
            out.append(self.node(op, av, last))
        return "".join(out)

    def lit(self, code: int) -> str:
        if code > 0x7F:
            self.non_ascii = True
        return _esc(code)

    def node(self, op, av, last: bool) -> str:
        if op is C.LITERAL:
            return self.lit(av)
        if op is C.NOT_LITERAL:
            return f"[^{self.lit(av)}]"
        if op is C.ANY:
            return "."
        if op is C.IN:
            return self.klass(av)
        if op is C.BRANCH:
            return "(?:" + "|".join(self.seq(list(b), top=last) for b in av[1]) + ")"
        if op is C.SUBPATTERN:
            _group, add_flags, del_flags, sub = av
            if add_flags or del_flags:
                raise Untranslatable("scoped inline flags")
            return "(?:" + self.seq(list(sub), top=last) + ")"
        if op in (C.MAX_REPEAT, C.MIN_REPEAT):
            lo, hi, sub = av
            if lo > _MAX_REPEAT or (hi is not C.MAXREPEAT and hi > _MAX_REPEAT):
                raise Untranslatable("repeat count above RE2's limit of 1000")
            body = "(?:" + self.seq(list(sub)) + ")"
            rep = f"{{{lo},}}" if hi is C.MAXREPEAT else f"{{{lo},{hi}}}"
            return body + rep + ("?" if op is C.MIN_REPEAT else "")
        if op is C.AT:
            return self.at(av, last)
        raise Untranslatable(f"{op} is not supported by RE2")

    def at(self, code, last: bool) -> str:
        multiline = bool(self.flags & re.MULTILINE)
        if code is C.AT_BEGINNING:
            return "^"
        if code is C.AT_BEGINNING_STRING:
            return r"\A"
        if code is C.AT_END_STRING:
            return r"\z"
        if code is C.AT_END:
            if multiline:
                return "$"
            if not last:  # Python's $ also matches before a final newline: exact only at the end
                raise Untranslatable("'$' before the end of the pattern")
            return r"(?:\n?\z)"
        if code in (C.AT_BOUNDARY, C.AT_NON_BOUNDARY):
            self.categories.add("word")
            if code is C.AT_NON_BOUNDARY:  # Python's \B never matches an empty text; RE2's does
                self.categories.add("empty")
            return r"\b" if code is C.AT_BOUNDARY else r"\B"
        raise Untranslatable(f"anchor {code}")

    def klass(self, items: list) -> str:
        parts, negate = [], False
        names = {
            C.CATEGORY_DIGIT: r"\d",
            C.CATEGORY_NOT_DIGIT: r"\D",
            C.CATEGORY_SPACE: r"\s",
            C.CATEGORY_NOT_SPACE: r"\S",
            C.CATEGORY_WORD: r"\w",
            C.CATEGORY_NOT_WORD: r"\W",
        }
        for op, av in items:
            if op is C.NEGATE:
                negate = True
            elif op is C.LITERAL:
                parts.append(self.lit(av))
            elif op is C.RANGE:
                parts.append(f"{self.lit(av[0])}-{self.lit(av[1])}")
            elif op is C.CATEGORY and av in names:
                space = av in (C.CATEGORY_SPACE, C.CATEGORY_NOT_SPACE)
                self.categories.add("space" if space else "word")
                parts.append(names[av])
            else:
                raise Untranslatable(f"class item {op}")
        return "[" + ("^" if negate else "") + "".join(parts) + "]"


@cache
def translate(pattern: str, ignore_case: bool = False) -> Plan | None:
    """The RE2 plan for ``re.search(pattern, text, re.I if ignore_case else 0)``, or None when
    only Python's ``re`` can run it."""
    if sre_parse is None:  # pragma: no cover
        return None
    try:
        parsed = sre_parse.parse(pattern, re.IGNORECASE if ignore_case else 0)
    except re.error:
        return None
    flags = parsed.state.flags
    if flags & ~(re.IGNORECASE | re.UNICODE | re.MULTILINE | re.DOTALL | re.VERBOSE | re.ASCII):
        return None
    emitter = _Emitter(flags)
    try:
        body = emitter.seq(list(parsed), top=True)
    except Untranslatable:
        return None
    prefix = "".join(
        f for f, bit in (("i", re.IGNORECASE), ("m", re.MULTILINE), ("s", re.DOTALL)) if flags & bit
    )
    re2 = (f"(?{prefix})" if prefix else "") + body
    hazards = sorted(emitter.categories)  # with re.ASCII fewer differ; kept simple
    if flags & re.IGNORECASE:
        if emitter.non_ascii:  # Python folds e.g. U+0131 onto ASCII "i": no row is safe
            return None
        hazards.append("ignorecase")
    return Plan(re2=re2, hazards=tuple(hazards))


def literal_alternation(needles: tuple[str, ...]) -> str:
    """An RE2 pattern matching where any of ``needles`` occurs as a substring."""
    return "|".join("".join(_esc(ord(ch)) for ch in n) for n in needles)
