"""Build benchmarks/RESULTS.md from the per-area result files in benchmarks/results/.

.venv/bin/python benchmarks/merge_results.py
"""

from __future__ import annotations

import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
ORDER = [
    "import_queue.md",
    "active_learning.md",
    "al_quality.md",
    "label_issues.md",
    "weak_supervision.md",
    "ws_zoo.md",
    "propagation_scale.md",
    "featurize_scale.md",
    "agreement.md",
    "agreement_app.md",
    "export.md",
    "export_app.md",
    "export_speed.md",
    "review.md",
    "api_fuzz.md",
    "security.md",
    "drift.md",
    "web_rss.md",
    "scale.md",
]
HEADER = """# Benchmark results

The latest figures of every benchmark in `benchmarks/`, with the command that produced them and
the machine. Each section is kept in `benchmarks/results/<area>.md` (plots beside it) and merged
here by `benchmarks/merge_results.py`. All runs: 2 cores, 24 GiB, python-svc machine kind,
2026-11-23, **shared with other engineers' work** (load averages are given per section): absolute
times are upper bounds for a quiet machine; same-run ratios (ours vs. a peer) are fair.

"""


def main() -> None:
    parts = [HEADER]
    for name in ORDER:
        path = HERE / "results" / name
        if not path.exists():
            continue
        text = path.read_text()
        # Links and images are relative to results/; from here they live one folder down.
        text = re.sub(r"\]\((?!https?:|/|results/)([^)]+)\)", r"](results/\1)", text)
        text = re.sub(r"^#(?=\s)", "##", text, flags=re.MULTILINE)
        parts.append(text.rstrip() + "\n\n")
    (HERE / "RESULTS.md").write_text("".join(parts))


if __name__ == "__main__":
    main()
