"""``labelapp serve``: run the web app."""

from __future__ import annotations

import click


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=0, type=int, help="gunicorn workers (0: one threaded process).")
@click.option(
    "--threads", default=4, show_default=True, type=int, help="Threads per gunicorn worker."
)
def serve(host: str, port: int, workers: int, threads: int) -> None:
    """Serve the app on HOST:PORT (the database is found as for every command)."""
    from labelapp.config import database_url

    url = database_url()
    if workers > 0:
        start_worker_beside(url)
        run_gunicorn(host, port, workers, threads)
        return
    from labelapp.app import create_app
    from labelapp.migrate import SchemaOutOfDate

    try:
        app = create_app()
    except SchemaOutOfDate as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"labelapp on http://{host}:{port}/ (database: {_safe(url)})")
    start_worker_beside(url)
    run_threaded(host, port, app)


def start_worker_beside(url: str) -> None:
    """On the embedded queue, one ``labelapp worker`` beside the web process (it stops with it);
    with ``LABELAPP_QUEUE_URL`` set, workers are separate processes the operator runs."""
    from labelapp import config
    from labelapp.services import local_worker

    try:
        team_queue = config.queue_url()
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    if team_queue:
        click.echo("jobs: on the queue at LABELAPP_QUEUE_URL; run `labelapp worker` to run them")
        return
    local_worker.start(url)
    click.echo("jobs: one worker started beside this server (queue in the data directory)")


def run_threaded(host: str, port: int, app) -> None:
    """One threaded process (Werkzeug), whose ``Server`` header names no versions."""
    from werkzeug.serving import run_simple

    run_simple(
        host, port, app, threaded=True, use_reloader=False, request_handler=quiet_request_handler()
    )


def quiet_request_handler() -> type:
    """Werkzeug's request handler without its ``Server: Werkzeug/3.x Python/3.x`` versions."""
    from werkzeug.serving import WSGIRequestHandler

    class QuietRequestHandler(WSGIRequestHandler):
        def version_string(self) -> str:
            return "labelapp"

    return QuietRequestHandler


def run_gunicorn(host: str, port: int, workers: int, threads: int = 4) -> None:
    """Several worker processes (for PostgreSQL): gunicorn's own runner, configured in code."""
    from gunicorn.app.base import BaseApplication

    from labelapp.app import create_app

    class _App(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", threads)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("accesslog", None)

        def load(self):
            return create_app()

    _App().run()


def _safe(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
