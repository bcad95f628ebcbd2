"""A large upload does not grow the web server: the file streams to disk, and an import job in a
worker parses, validates and stores it (issue 13: under 300 MB more than idle for any upload;
issue 16: large uploads are parsed and stored by a job)."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from labelapp.db import session_scope
from labelapp.models import Item
from tests.app.factories import make_project, make_user

pytestmark = pytest.mark.one_backend  # its subject is not storage (tests/conftest.py)

ROWS = 400_000
SERVER = textwrap.dedent(
    """
    import sys
    from werkzeug.serving import make_server
    from labelapp.app import create_app
    app = create_app({"DATABASE_URL": sys.argv[1], "SECRET_KEY": "k"})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    print(server.server_port, flush=True)
    server.serve_forever()
    """
)


def _peak_mb(pid: int) -> float:
    """The process's peak resident memory so far (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def _upload(port: int, token: str, project_id: int, csv_path: Path, tmp: Path) -> tuple[int, str]:
    """POST the file as multipart, streamed from disk (no copy of it in this process)."""
    boundary = uuid.uuid4().hex
    body = tmp / f"body-{boundary}"
    with body.open("wb") as out:
        out.write(
            f'--{boundary}\r\nContent-Disposition: form-data; name="text_col"\r\n\r\n'
            f'text\r\n--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{csv_path.name}"\r\nContent-Type: text/csv\r\n\r\n'.encode()
        )
        with csv_path.open("rb") as src:
            while chunk := src.read(1 << 20):
                out.write(chunk)
        out.write(f"\r\n--{boundary}--\r\n".encode())
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    with body.open("rb") as stream:
        conn.request(
            "POST",
            f"/api/projects/{project_id}/imports",
            body=stream,
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Length": str(body.stat().st_size),
                "Content-Type": f"multipart/form-data; boundary={boundary}",
            },
        )
        res = conn.getresponse()
        return res.status, res.read().decode()


def _finished(port: int, token: str, answer: str) -> dict:
    """Poll the import's job until it has ended; its JSON."""
    url = json.loads(answer)["url"]
    while True:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request("GET", url, headers={"Authorization": f"Bearer {token}"})
        job = json.loads(conn.getresponse().read())
        if job["status"] not in ("queued", "running"):
            return job
        time.sleep(0.3)


@pytest.mark.slow
def test_a_large_upload_leaves_the_web_process_small(db_url, sessions, tmp_path) -> None:
    pid = make_project(sessions, "big", ("ham", "spam"))
    sme = make_user(sessions, "sam", "sme", (pid,))
    small = tmp_path / "small.csv"
    small.write_text("id,text\nw0,warm up\n")
    big = tmp_path / "big.csv"
    with big.open("w") as f:
        f.write("id,text,source\n")
        for i in range(ROWS):
            f.write(f"r{i},comment number {i} about a song and a channel,site-{i % 97}\n")
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, db_url], stdout=subprocess.PIPE, text=True
    )
    try:
        port = int(server.stdout.readline())
        status, text = _upload(port, sme.token, pid, small, tmp_path)  # warm: every module loaded
        assert status == 202, text
        assert _finished(port, sme.token, text)["status"] == "done"
        time.sleep(0.5)
        idle = _peak_mb(server.pid)
        status, text = _upload(port, sme.token, pid, big, tmp_path)
        assert status == 202, text
        job = _finished(port, sme.token, text)
        assert job["status"] == "done" and job["result"]["items_created"] == ROWS, job
        grown = _peak_mb(server.pid) - idle
    finally:
        server.terminate()
        server.wait(10)
    with session_scope(sessions) as session:
        assert session.scalar(select(func.count()).select_from(Item)) == ROWS + 1
    size_mb = big.stat().st_size / 2**20
    assert grown < 100, f"the web process grew by {grown:.0f} MB for a {size_mb:.0f} MB file"
