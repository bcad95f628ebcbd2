"""When a difference counts as drift: significant, and at least a small effect.

At a million items per group every difference is significant, so significance alone says little;
each threshold below comes from one conventional choice, Cohen's *small* effect:

- the domain classifier's AUC: 0.556, the AUC of two normal groups Cohen's d = 0.2 apart
  (AUC = Phi(d / sqrt 2); Rice & Harris 2005, "Comparing effect sizes in follow-up studies: ROC
  area, Cohen's d, and r", Law and Human Behavior 29(5), map d 0.2 / 0.5 / 0.8 to AUC 0.556 /
  0.639 / 0.714);
- Kolmogorov-Smirnov's distance D: 0.08, the KS distance of the same two normals
  (D = 2 Phi(d / 2) - 1 = 0.0797 for d = 0.2);
- chi-square's Cramér's V: 0.1, Cohen's small w (Cohen 1988, Statistical Power Analysis for the
  Behavioral Sciences, ch. 7), which V equals for a two-group table.

A column (and the human labels) counts as drifted when its Benjamini-Hochberg corrected p-value is
below ``alpha`` and its effect is at least its threshold: which columns moved. The verdict is a
minimum-effect test (Murphy & Myors 1999, "Testing the hypothesis that treatments have negligible
effects", Journal of Applied Psychology 84(2)) on the domain classifier, the omnibus test of all
features: drift when the AUC is above 0.5 (the exact Mann-Whitney test of the held-out scores)
and its one-sided 1 - ``alpha`` confidence bound (DeLong's standard error) is above ``min_auc``,
that is when the data show, not merely suggest, at least a small shift. Random halves of one
YouTube video raise no alarm in 500 splits under this verdict; the first rule tried (the AUC's
point estimate at least ``min_auc`` and p below ``alpha``) is a test at level ``alpha`` and, as
such, raised 24 alarms in those 500 (4.8%), two of them in the twenty the acceptance test uses
for one video, which the issue allows at most one of.

Each threshold is a setting (``LABELAPP_DRIFT_ALPHA``, ``LABELAPP_DRIFT_MIN_AUC``,
``LABELAPP_DRIFT_MIN_KS``, ``LABELAPP_DRIFT_MIN_V``), a ``labelapp drift`` option and an API
parameter.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

ALPHA = 0.05
SMALL_AUC = 0.556  # Rice & Harris 2005: Cohen's d = 0.2
SMALL_KS = 0.08  # 2 Phi(0.1) - 1: two normals d = 0.2 apart
SMALL_V = 0.1  # Cohen 1988: w = 0.1


@dataclass(frozen=True)
class DriftRule:
    """The significance level and the smallest effects that count as drift."""

    alpha: float = ALPHA
    min_auc: float = SMALL_AUC
    min_ks: float = SMALL_KS
    min_v: float = SMALL_V

    def __post_init__(self) -> None:
        from labelapp.services.errors import UserError

        if not 0 < self.alpha < 1:
            raise UserError(f"alpha must be between 0 and 1 (it is {self.alpha:g})")
        if not 0.5 <= self.min_auc <= 1:
            raise UserError(f"the smallest AUC must be between 0.5 and 1 (it is {self.min_auc:g})")
        for name in ("min_ks", "min_v"):
            if not 0 <= getattr(self, name) <= 1:
                raise UserError(f"{name} must be between 0 and 1 (it is {getattr(self, name):g})")

    @classmethod
    def from_settings(cls, **given: float | None) -> DriftRule:
        """The rule from ``given`` values, else ``LABELAPP_DRIFT_*``, else the defaults."""
        from labelapp.config import drift_threshold

        defaults = asdict(cls())
        return cls(
            **{
                name: given[name] if given.get(name) is not None else drift_threshold(name, value)
                for name, value in defaults.items()
            }
        )

    def min_effect(self, test: str) -> float:
        """The smallest effect of ``test`` (ks, chi2 or classifier, whose effect is AUC - 0.5)."""
        return {"ks": self.min_ks, "chi2": self.min_v, "classifier": self.min_auc - 0.5}[test]

    def drifted(self, test: dict[str, Any], p: float) -> bool:
        """Whether ``test`` (its p-value ``p``, corrected or not) counts as drift."""
        return bool(p < self.alpha and test["effect"] >= self.min_effect(test["test"]))

    def domain_drifted(self, test: dict[str, Any]) -> bool:
        """The verdict: the domain classifier's AUC is above 0.5 and, at confidence 1 - alpha,
        above ``min_auc`` (``p_small``, the minimum-effect test)."""
        return bool(test["p"] < self.alpha and test["p_small"] < self.alpha)

    def to_dict(self) -> dict[str, float]:
        return asdict(self)
