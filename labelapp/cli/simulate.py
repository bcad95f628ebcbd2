"""``labelapp simulate``: pick a query strategy offline, with the gold labels as the oracle."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from labelapp.formats import TABLE_FORMATS as FORMATS
from labelapp.formats import TABLE_SUFFIXES as SUFFIXES


def _read_table(path: Path, fmt: str | None, header: bool) -> Any:
    import pandas as pd

    fmt = fmt or SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise click.UsageError(
            f"Cannot tell the format of {path.name} from its suffix; pass --format "
            f"({', '.join(FORMATS)})."
        )
    try:
        if fmt in ("csv", "tsv"):
            return pd.read_csv(
                path,
                sep="\t" if fmt == "tsv" else ",",
                header=0 if header else None,
                dtype=str,
                keep_default_na=False,
                quoting=3 if fmt == "tsv" else 0,
            )
        if fmt == "jsonl":
            return pd.read_json(path, lines=True, dtype=False)
        return pd.read_parquet(path)
    except Exception as exc:
        raise click.ClickException(f"Could not read {path} as {fmt}: {exc}") from None


def _column(df: Any, spec: str, option: str) -> Any:
    """One column, or several joined by ". " (``--text-col title,body``); numbers without header."""
    cols = []
    for name in spec.split(","):
        key: Any = int(name) if name.strip().isdigit() and name not in df.columns else name.strip()
        if key not in df.columns:
            have = ", ".join(map(str, df.columns[:20]))
            raise click.UsageError(f"{option}: no column {name!r} in the file; columns: {have}.")
        cols.append(df[key].astype(str).where(df[key].notna(), ""))
    out = cols[0]
    for c in cols[1:]:
        out = out + ". " + c
    return out


@click.command("simulate")
@click.option(
    "--data",
    "data_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CSV, TSV, JSONL or Parquet file with texts and their gold labels.",
)
@click.option(
    "--text-col", required=True, help="Column with the text (several: 'title,body' are joined)."
)
@click.option("--label-col", required=True, help="Column with the gold label.")
@click.option(
    "--strategy",
    "strategies",
    default="random,margin,auto",
    show_default=True,
    help="Comma-separated strategies to compare (see --list-strategies).",
)
@click.option(
    "--budget",
    required=True,
    type=click.IntRange(min=2),
    help="Labels each run may use in total (including the initial ones).",
)
@click.option(
    "--batch",
    default=20,
    show_default=True,
    type=click.IntRange(min=1),
    help="Labels asked for per round (the model is retrained after each round).",
)
@click.option(
    "--seeds",
    default=5,
    show_default=True,
    type=click.IntRange(min=1),
    help="Repetitions with different test splits and initial labels.",
)
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory for learning_curves.csv/.png and summary.csv/.json.",
)
@click.option(
    "--test-size",
    default=0.2,
    show_default=True,
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    help="Share of FILE held out (stratified) to score each round.",
)
@click.option(
    "--initial", type=click.IntRange(min=2), help="Random labels to start from (default: --batch)."
)
@click.option(
    "--target",
    type=click.FloatRange(0, 1),
    help="Accuracy whose label cost is reported (default: random's final accuracy).",
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), help="Default: from the suffix.")
@click.option(
    "--no-header",
    is_flag=True,
    help="CSV/TSV without a header row: name columns by number (0 = first).",
)
@click.option(
    "--featurizer",
    type=click.Choice(["embeddings", "tfidf"]),
    default="embeddings",
    show_default=True,
    help="Sentence embeddings (all-MiniLM-L6-v2, offline; TF-IDF if it cannot load).",
)
@click.option(
    "--embedding-cache",
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory keeping each text's embedding (by content hash) for later runs.",
)
@click.option(
    "--list-strategies",
    is_flag=True,
    is_eager=True,
    expose_value=False,
    callback=lambda ctx, _p, v: _list_strategies(ctx) if v else None,
    help="Print the strategies and exit.",
)
def simulate(
    data_path: Path,
    text_col: str,
    label_col: str,
    strategies: str,
    budget: int,
    batch: int,
    seeds: int,
    out_dir: Path,
    test_size: float,
    initial: int | None,
    target: float | None,
    fmt: str | None,
    no_header: bool,
    featurizer: str,
    embedding_cache: Path | None,
) -> None:
    """Run active learning offline on FILE for several strategies and seeds.

    Each round trains a classifier on the labels so far, scores it on a held-out part of FILE
    and asks the strategy for the next --batch labels, until --budget labels. Writes learning
    curves (CSV, PNG) and a summary; the last line printed is a JSON object giving, per
    strategy, the final mean accuracy, the area under the learning curve and the labels needed
    to reach the target accuracy.
    """
    from active_learning.curves import summarize
    from active_learning.simulation import simulate as run_simulation

    names = _strategy_names(strategies)
    texts, y = _labeled_texts(data_path, fmt, not no_header, text_col, label_col)
    X = _features(texts, featurizer, embedding_cache)

    def progress(strategy: str, seed: int, done: int) -> None:
        click.echo(f"  seed {seed} {strategy} done ({done}/{len(names) * seeds})", err=True)

    try:
        curves = run_simulation(
            X,
            y,
            names,
            budget=budget,
            batch_size=batch,
            seeds=seeds,
            test_size=test_size,
            initial=initial,
            progress=progress,
        )
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    summary = summarize(curves, target)
    title = f"{data_path.name}: batch {batch}, {seeds} seeds (mean +- std)"
    _write_results(curves, summary, out_dir, target, title)
    _print_summary(summary, out_dir)


def _strategy_names(strategies: str) -> list[str]:
    """The comma-separated strategy names, each checked to exist."""
    from active_learning.strategies import get_strategy

    names = [s.strip() for s in strategies.split(",") if s.strip()]
    try:
        for name in names:
            get_strategy(name)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--strategy") from None
    return names


def _labeled_texts(
    data_path: Path, fmt: str | None, header: bool, text_col: str, label_col: str
) -> tuple[list[str], Any]:
    """The texts and gold labels of FILE's rows that have a label (the others are skipped)."""
    import numpy as np

    df = _read_table(data_path, fmt, header=header)
    texts = _column(df, text_col, "--text-col")
    labels = _column(df, label_col, "--label-col").str.strip()
    keep = labels != ""
    if (~keep).any():
        click.echo(f"skipped {(~keep).sum():,} rows without a label", err=True)
    texts, y = texts[keep].tolist(), np.asarray(labels[keep])
    click.echo(f"{data_path.name}: {len(y):,} rows, {len(set(y))} classes", err=True)
    return texts, y


def _features(texts: list[str], featurizer: str, embedding_cache: Path | None) -> Any:
    """The feature matrix of the texts, saying which featurizer it used (and why, if not)."""
    from active_learning.featurize import featurize_texts_as

    X, used, reason = featurize_texts_as(
        texts, kind=featurizer, embedding_cache_dir=embedding_cache
    )
    click.echo(
        f"features: {used} ({X.shape[1]} columns)" + (f"; {reason}" if reason else ""), err=True
    )
    return X


def _write_results(
    curves: Any, summary: dict[str, Any], out_dir: Path, target: float | None, title: str
) -> None:
    """learning_curves.csv/.png and summary.csv/.json in ``out_dir``."""
    import pandas as pd

    from active_learning.curves import plot_learning_curves

    out_dir.mkdir(parents=True, exist_ok=True)
    curves.to_csv(out_dir / "learning_curves.csv", index=False)
    plot_learning_curves(curves, out_dir / "learning_curves.png", target=target, title=title)
    pd.DataFrame([{"strategy": k, **v} for k, v in summary.items()]).to_csv(
        out_dir / "summary.csv", index=False
    )
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")


def _print_summary(summary: dict[str, Any], out_dir: Path) -> None:
    """A table per strategy, the target accuracy, and the summary as one JSON line (last)."""
    click.echo(f"{'strategy':<18}{'final acc':>10}{'AUC':>8}{'labels to target':>18}")
    for name, r in summary.items():
        need = r["labels_to_target"]
        click.echo(
            f"{name:<18}{r['final_accuracy']:>10.4f}{r['auc']:>8.4f}"
            f"{need if need is not None else 'not reached':>18}"
        )
    click.echo(
        f"target accuracy {next(iter(summary.values()))['target_accuracy']:.4f}; files in {out_dir}"
    )
    click.echo(json.dumps(summary, separators=(",", ":")))


def _list_strategies(ctx: click.Context) -> None:
    from active_learning.strategies import STRATEGIES

    for s in STRATEGIES.values():
        click.echo(f"{s.name:<18}{s.description}")
    ctx.exit()
