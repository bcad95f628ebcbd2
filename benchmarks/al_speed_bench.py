"""Active-learning speed at scale, each figure next to modAL's equivalent on the same pool/model.

Pool: 1,000,000 synthetic news texts (each an AG News test text with 25 % of its words dropped
at random, so rows are distinct but realistic), TF-IDF featurized once (and reloaded from the
feature cache to show the reuse), a 4-class logistic regression trained on 2,000 of them.
Measured: ``predict_proba``; select 100 with margin (ours vs modAL's ``margin_sampling``, same
selection asserted), a 5-member committee (vote entropy; ours vs modAL's
``vote_entropy_sampling``), cluster-based (modAL.cluster does not import); and a diverse
(ranked) batch of 100 from 100k and from 1M (ours vs modAL's ``uncertainty_batch_sampling``).

    .venv/bin/python benchmarks/al_speed_bench.py                 # 1M pool
    .venv/bin/python benchmarks/al_speed_bench.py --n 200000 --skip-modal-batch

Times are the best of ``--repeat`` runs; memory is the peak extra memory of one run (numpy and
Python allocations traced with tracemalloc; for modAL's slow ranked batch, the peak resident
memory sampled every 20 ms, to avoid tracing overhead on its Python loop).
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.al_data import synthetic_texts  # noqa: E402

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE / 2**20


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def traced_peak_mb(fn: Callable[[], Any]) -> float:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def sampled_peak_mb(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """(seconds, peak RSS increase in MB, result), RSS sampled in a thread every 20 ms."""
    base = rss_mb()
    peak = [base]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.02):
            peak[0] = max(peak[0], rss_mb())

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    t0 = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - t0
    done.set()
    t.join()
    return seconds, max(peak[0], rss_mb()) - base, out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=1_000_000)
    p.add_argument("--n-small", type=int, default=100_000)
    p.add_argument("--batch", type=int, default=100)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument(
        "--skip-modal-batch",
        action="store_true",
        help="skip modAL's ranked batch (about 2 minutes at 100k)",
    )
    args = p.parse_args()

    import numpy as np

    from active_learning import modal_compat
    from active_learning.cluster_based import cluster_based_query
    from active_learning.clustering import cluster_pool
    from active_learning.committee import committee_query, fit_committee
    from active_learning.diversity import diversity_query
    from active_learning.feature_cache import FeatureCache
    from active_learning.featurize import featurize_texts
    from active_learning.models import make_classifier
    from active_learning.uncertainty import margin_query

    modal_compat.preload()
    rows: list[tuple[str, str, float, float, str]] = []

    def report(task: str, who: str, seconds: float, mb: float, note: str = "") -> None:
        rows.append((task, who, seconds, mb, note))
        print(f"{task:<38} {who:<7} {seconds:9.3f} s {mb:9.1f} MB  {note}", flush=True)

    print(
        f"# {os.cpu_count()} cores, python {platform.python_version()}, "
        f"{time.strftime('%Y-%m-%d %H:%M')}, load {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    t0 = time.perf_counter()
    texts, y = synthetic_texts(args.n)
    print(f"generated {len(texts):,} texts in {time.perf_counter() - t0:.1f} s", flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        cache = FeatureCache(tmp)
        secs, mb, X = sampled_peak_mb(lambda: featurize_texts(texts, cache=cache, version="bench"))
        report(
            f"TF-IDF of {args.n:,} texts (first time)",
            "ours",
            secs,
            mb,
            f"{X.shape[1]:,} terms, {X.nnz / X.shape[0]:.1f} terms/row",
        )
        other = FeatureCache(tmp)  # a second process: reads the cached matrix
        secs, mb, X2 = sampled_peak_mb(lambda: featurize_texts(texts, cache=other, version="bench"))
        report("same data version, other process", "ours", secs, mb, "loaded from feature cache")
        assert (X2 != X).nnz == 0
        del X2
    texts.clear()  # free the strings; the features are all that is needed now

    rng = np.random.default_rng(0)
    train = rng.choice(args.n, 2000, replace=False)
    model = make_classifier().fit(X[train], y[train])
    n = args.batch

    secs, proba = timed(lambda: model.predict_proba(X), args.repeat)
    report(
        f"predict_proba on {args.n:,}",
        "sklearn",
        secs,
        traced_peak_mb(lambda: model.predict_proba(X)),
        f"{proba.shape[1]} classes",
    )
    t_proba = secs
    del proba

    s_ours, q = timed(lambda: margin_query(model, X, n), args.repeat)
    report(
        f"margin: select {n} of {args.n:,}",
        "ours",
        s_ours,
        traced_peak_mb(lambda: margin_query(model, X, n)),
        f"{s_ours / t_proba:.2f}x predict_proba",
    )
    s_modal, (m_idx, _) = timed(
        lambda: modal_compat.modal_margin_sampling(model, X, n), args.repeat
    )
    same = set(q.indices.tolist()) == set(np.asarray(m_idx).tolist())
    report(
        f"margin: select {n} of {args.n:,}",
        "modAL",
        s_modal,
        traced_peak_mb(lambda: modal_compat.modal_margin_sampling(model, X, n)),
        f"{s_modal / t_proba:.2f}x predict_proba; same selection as ours: {same}",
    )
    assert same, "margin selection differs from modAL's"

    committee = fit_committee(make_classifier(), X[train], y[train], 5, random_state=0)
    s_ours, q = timed(lambda: committee_query(committee, X, n), 1)
    report(
        f"committee (5, vote entropy): {n} of {args.n:,}",
        "ours",
        s_ours,
        traced_peak_mb(lambda: committee_query(committee, X, n)),
    )
    from modAL.disagreement import vote_entropy_sampling

    modal_committee = modal_compat.modal_committee(committee.members)
    s_modal, (m_idx, _) = timed(lambda: vote_entropy_sampling(modal_committee, X, n_instances=n), 1)
    ve = q.pool_scores
    report(
        f"committee (5, vote entropy): {n} of {args.n:,}",
        "modAL",
        s_modal,
        traced_peak_mb(lambda: vote_entropy_sampling(modal_committee, X, n_instances=n)),
        f"ours {s_modal / s_ours:.1f}x faster; both pick vote entropy "
        f"{ve[q.indices].min():.3f}..{ve[q.indices].max():.3f} vs "
        f"{ve[np.asarray(m_idx)].min():.3f}..{ve[np.asarray(m_idx)].max():.3f}",
    )

    secs, mb, clustering = sampled_peak_mb(lambda: cluster_pool(X, n, random_state=0))
    report(
        f"cluster {args.n:,} into {n} (once per version)",
        "ours",
        secs,
        mb,
        "TruncatedSVD(64) + MiniBatchKMeans, fitted on 20k rows",
    )
    state = {"clusters": clustering.labels, "well_formed": clustering.well_formed}
    s_ours, q = timed(lambda: cluster_based_query(model, X, n, **state), args.repeat)
    report(
        f"cluster-based: select {n} of {args.n:,}",
        "ours",
        s_ours,
        traced_peak_mb(lambda: cluster_based_query(model, X, n, **state)),
        f"{np.unique(clustering.labels[q.indices]).shape[0]} clusters covered",
    )
    try:
        import modAL.cluster  # noqa: F401

        note = "imports"
    except Exception as exc:
        note = f"no modAL equivalent: modAL.cluster fails to import ({type(exc).__name__}: {exc})"
    report(f"cluster-based: select {n} of {args.n:,}", "modAL", float("nan"), float("nan"), note)

    X_lab = X[train]
    for size in (args.n_small, args.n):
        Xp = X[:size]
        for factor, label in ((10, "top-1000 candidates"), (None, "whole pool")):

            def run(Xp: Any = Xp, factor: int | None = factor) -> Any:
                return diversity_query(model, Xp, n, X_labeled=X_lab, candidate_factor=factor)

            secs, mb, q = sampled_peak_mb(run)
            report(
                f"diverse batch: {n} of {size:,}",
                "ours",
                secs,
                max(mb, traced_peak_mb(run) if size <= args.n_small else mb),
                label,
            )
            if size == args.n_small and factor is None:
                ours_full = q.indices
        if size == args.n_small and not args.skip_modal_batch:
            secs, mb, m_idx = sampled_peak_mb(
                lambda Xp=Xp: modal_compat.modal_uncertainty_batch_sampling(model, Xp, n, X_lab)
            )
            same = np.array_equal(np.asarray(m_idx), ours_full)
            report(
                f"diverse batch: {n} of {size:,}",
                "modAL",
                secs,
                mb,
                f"uncertainty_batch_sampling; same ranked batch as ours (whole pool): {same}",
            )

    print(
        f"\npeak RSS of the process {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}"
        f" MB; load at end {os.getloadavg()[0]:.1f}"
    )
    print("\n| task | who | seconds | peak extra MB | note |\n|---|---|---|---|---|")
    for task, who, s, mb, note in rows:
        fs = "-" if s != s else f"{s:.3f}"
        fm = "-" if mb != mb else f"{mb:.0f}"
        print(f"| {task} | {who} | {fs} | {fm} | {note} |")


if __name__ == "__main__":
    main()
