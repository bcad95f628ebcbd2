"""The ``labelapp`` command line."""

import click


@click.group()
@click.version_option(package_name="labelapp")
def main() -> None:
    """labelapp: label data, guided by active learning and weak supervision."""
