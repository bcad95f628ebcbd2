"""The ``labelapp`` command line. Commands import what they need when they run, so it starts
fast."""

import click

from labelapp.cli.agreement import agreement
from labelapp.cli.db import db
from labelapp.cli.demo import demo
from labelapp.cli.drift import drift
from labelapp.cli.export import export
from labelapp.cli.imports import import_command
from labelapp.cli.lf import lf
from labelapp.cli.projects import projects
from labelapp.cli.review import review
from labelapp.cli.serve import serve
from labelapp.cli.simulate import simulate
from labelapp.cli.slices import slices
from labelapp.cli.users import users
from labelapp.cli.worker import worker
from labelapp.cli.ws import ws
from labelapp.extras import ExtrasAwareGroup


@click.group(cls=ExtrasAwareGroup)
@click.version_option(package_name="labelapp")
def main() -> None:
    """labelapp: label data, guided by active learning and weak supervision."""


for command in (
    agreement,
    db,
    demo,
    export,
    import_command,
    lf,
    projects,
    review,
    serve,
    simulate,
    users,
    worker,
    ws,
):
    main.add_command(command)
for command in (drift, slices):  # issue 20: data validation
    main.add_command(command)
