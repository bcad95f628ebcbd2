"""A web worker starts without the data-science stack: numpy, pandas and friends load only in the
jobs and pages that need them, so each gunicorn worker stays small."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("numpy", "pandas", "pyarrow", "scipy", "sklearn", "torch", "snorkel", "dask", "PIL")


@pytest.mark.slow
def test_the_app_starts_without_heavy_libraries(tmp_path: Path) -> None:
    code = (
        "import json, sys\n"
        "from labelapp.app import create_app\n"
        f"create_app({{'DATABASE_URL': 'sqlite:///{tmp_path}/x.db', 'CHECK_SCHEMA': False, "
        "'SECRET_KEY': 'x'})\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"LABELAPP_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


# What a web process must never import, even after serving every route (issue 16): the learning
# stack and labelapp's three libraries run in job workers only.
NEVER_IN_WEB = (
    "sklearn",
    "torch",
    "snorkel",
    "dask",
    "weak_supervision",
    "active_learning",
    "augment",
)

# In a fresh process: the app, then every route once as the admin (GETs first, then writes,
# DELETEs last), ids filled in from the world the test built; prints what got imported.
_EVERY_ROUTE = """
import json, sys
from labelapp.app import create_app
app = create_app({"DATABASE_URL": sys.argv[1], "SECRET_KEY": "x", "RATELIMIT_ENABLED": False})
ids = json.loads(sys.argv[2])
client = app.test_client()
headers = {"Authorization": "Bearer " + ids.pop("token")}
order = {"GET": 0, "POST": 1, "PUT": 1, "PATCH": 1, "DELETE": 2}
calls = []
for rule in app.url_map.iter_rules():
    if rule.endpoint == "static":
        continue
    for method in rule.methods - {"HEAD", "OPTIONS"}:
        calls.append((order.get(method, 1), rule.rule, method, rule))
statuses, first_by, NEVER = [], {}, %r
CHEAP = {"active_learning", "active_learning.names"}  # the strategy names: constants only


def loaded(name):
    return any(m == name or m.startswith(name + ".") for m in sys.modules if m not in CHEAP)


for _, _, method, rule in sorted(calls, key=lambda c: c[:2]):
    values = {arg: ids.get(arg, 1) for arg in rule.arguments}
    with app.test_request_context():
        from flask import url_for
        url = url_for(rule.endpoint, **values)
    # wait=0: reports a job computes (agreement, LF analysis) answer at once, not when computed
    query = {"wait": 0} if method == "GET" else {}
    res = client.open(url, method=method, headers=headers, json={}, query_string=query)
    statuses.append(res.status_code)
    for name in NEVER:
        if loaded(name) and name not in first_by:
            first_by[name] = f"{method} {rule.endpoint}"
# The worker the job routes started holds this process's output pipes until it stops: stop it.
from tests.conftest import _stop_local_workers
_stop_local_workers()
print(json.dumps({"imported": first_by, "routes": len(statuses),
                  "5xx": sum(s >= 500 for s in statuses)}))
"""


# What a route imports does not depend on the database: SQLite only keeps CI within its budget.
@pytest.mark.slow
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_serving_every_route_imports_no_learning_stack(db_url, sessions, tmp_path) -> None:
    from tests.app.factories import add_items, make_project, make_user

    project = make_project(sessions, "lean")
    items = add_items(sessions, project, [f"text {i}" for i in range(20)], tmp_path)
    admin = make_user(sessions, "boss", "admin", (project,))
    world = {"token": admin.token, "project_id": project, "item_id": items[0]}
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            _EVERY_ROUTE % (NEVER_IN_WEB,),
            db_url,
            json.dumps(world),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["routes"] > 100  # every page and API route was served
    assert report["imported"] == {}, report  # module: the route that first imported it
