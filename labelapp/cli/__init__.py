"""The ``labelapp`` command line. Commands import what they need when they run, so it starts fast."""

import click

from labelapp.cli.db import db
from labelapp.cli.demo import demo
from labelapp.cli.imports import import_command
from labelapp.cli.projects import projects
from labelapp.cli.serve import serve
from labelapp.cli.users import users


@click.group()
@click.version_option(package_name="labelapp")
def main() -> None:
    """labelapp: label data, guided by active learning and weak supervision."""


for command in (db, demo, import_command, projects, serve, users):
    main.add_command(command)
