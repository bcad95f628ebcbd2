"""A feature whose optional library is missing says which extra to install (CLI, pages, API)."""

from __future__ import annotations

import sys

import click
import pytest
from click.testing import CliRunner
from flask import Flask

from labelapp.extras import EXTRA_OF_MODULE, ExtrasAwareGroup, missing_extra_message
from labelapp.web.errors import register_error_handlers


@pytest.fixture
def no_snorkel(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``import snorkel`` fail as it does where the [weak] extra is not installed."""
    for name in [m for m in sys.modules if m == "snorkel" or m.startswith("snorkel.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "snorkel", None)


def needs_snorkel() -> None:
    from snorkel.labeling.model import LabelModel  # noqa: F401


def test_the_message_names_the_extra_and_the_pip_command(no_snorkel: None) -> None:
    with pytest.raises(ModuleNotFoundError) as caught:
        needs_snorkel()
    message = missing_extra_message(caught.value)
    assert message is not None
    assert "[weak]" in message and "pip install 'labelapp[weak]'" in message
    assert missing_extra_message(ModuleNotFoundError("x", name="not_ours")) is None
    assert missing_extra_message(ValueError("snorkel")) is None


def test_every_extra_of_pyproject_that_brings_a_module_is_mapped() -> None:
    assert set(EXTRA_OF_MODULE.values()) >= {"postgres", "weak", "images", "dask", "embeddings"}


def test_a_cli_command_reports_the_missing_extra_in_one_line(no_snorkel: None) -> None:
    @click.group(cls=ExtrasAwareGroup)
    def cli() -> None:
        pass

    @cli.command()
    def fit() -> None:
        needs_snorkel()

    result = CliRunner().invoke(cli, ["fit"])
    assert result.exit_code == 1
    assert "Error: Snorkel's label model needs" in result.output
    assert "Traceback" not in result.output


def test_a_page_and_an_api_route_answer_503_with_the_extra(no_snorkel: None) -> None:
    app = Flask(__name__, template_folder="../labelapp/templates")
    register_error_handlers(app)

    @app.get("/api/fit")
    def fit():
        needs_snorkel()

    response = app.test_client().get("/api/fit")
    assert response.status_code == 503
    body = response.get_json()["error"]
    assert body["code"] == "missing_extra" and "labelapp[weak]" in body["message"]
