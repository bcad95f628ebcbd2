"""A rate with its count and 95% interval, and the rule for when it may be a headline."""

from __future__ import annotations

import math

MIN_HEADLINE_N = (
    20  # a rate computed on fewer items is shown small, with its count, never as a headline
)
Z95 = 1.959963984540054


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval of ``successes`` out of ``n`` (None when n is 0)."""
    if n <= 0:
        return None
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def rate(successes: int, n: int) -> dict[str, object]:
    """``{"value", "n", "low", "high", "headline"}`` for a rate of ``successes`` out of ``n``."""
    interval = wilson(successes, n)
    return {
        "value": successes / n if n else None,
        "n": n,
        "low": interval[0] if interval else None,
        "high": interval[1] if interval else None,
        "headline": n >= MIN_HEADLINE_N,
    }
