"""``labelapp demo``: a ready-to-use instance on real data, in seconds."""

from __future__ import annotations

from pathlib import Path

import click


def default_demo_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("labelapp")) / "demo"


@click.command("demo")
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option(
    "--data-dir", type=click.Path(path_type=Path), help="Default: <user data dir>/labelapp/demo."
)
@click.option("--no-serve", is_flag=True, help="Prepare the data and exit.")
def demo(port: int, host: str, data_dir: Path | None, no_serve: bool) -> None:
    """Create a demo database (YouTube spam comments, handwritten digits, 4 users) and serve it."""
    from labelapp import demo as demo_setup

    info = demo_setup.prepare(data_dir or default_demo_dir())
    click.echo(f"data directory: {info.data_dir} ({'created' if info.created else 'reused'})")
    click.echo(f"projects: {demo_setup.TEXT_PROJECT} (text), {demo_setup.IMAGE_PROJECT} (images)")
    click.echo("logins (username / password):")
    for name, role, password in demo_setup.DEMO_USERS:
        click.echo(f"  {name:<6} / {password:<11} ({role})")
    click.echo(f"admin API token: {info.admin_token}")
    if no_serve:
        return
    from labelapp.app import create_app
    from labelapp.cli.serve import run_threaded, start_worker_beside
    from labelapp.config import database_url

    app = create_app()
    start_worker_beside(database_url())
    click.echo(f"\nlabelapp demo running at http://{host}:{port}/   (Ctrl+C to stop)")
    run_threaded(host, port, app)
