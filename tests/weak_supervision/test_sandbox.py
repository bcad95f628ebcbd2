"""The Python-LF sandbox and the regex guard as the security probe (issue 13) attacked them: each
attack of the probe is refused or stopped, named by LF and limit, and well-behaved LFs give the
same votes as in process."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from weak_supervision import regex_guard, sandbox, sandbox_layers
from weak_supervision.apply import apply_lfs
from weak_supervision.lfs import lf_from_spec

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "weak_supervision" / "examples" / "youtube_spam.py"
DEMO_CSV = ROOT / "labelapp" / "demo_data" / "youtube_spam.csv"
ITEMS = pd.DataFrame({"item_id": [1, 2, 3], "text": ["free stuff", "nice song", "ok"]})
SMALL = sandbox.Limits(
    cpu_seconds=15, wall_seconds=30, memory_mb=256, hints={"wall": "LABELAPP_LF_WALL_SECONDS"}
)


def lf_source(body: str, name: str = "evil") -> str:
    """A module defining one Snorkel LF ``name`` whose body is ``body``; it votes 1 if the body
    finishes (so a refused attack cannot pass unnoticed)."""
    lines = "\n".join("    " + line for line in body.strip().splitlines())
    return (
        "from snorkel.labeling import labeling_function\n\n@labeling_function()\n"
        f"def {name}(x):\n{lines}\n    return 1\n"
    )


def run_attack(body: str, limits: sandbox.Limits = SMALL) -> sandbox.SandboxError:
    with pytest.raises(sandbox.SandboxError) as caught:
        sandbox.apply_python_lfs([{"source": lf_source(body), "names": ["evil"]}], ITEMS, limits)
    assert caught.value.lf == "evil" and "LF 'evil'" in str(caught.value)
    return caught.value


def benign_layers() -> dict[str, bool]:
    source = lf_source("pass", "fine")
    return sandbox.apply_python_lfs([{"source": source, "names": ["fine"]}], ITEMS).layers


@pytest.mark.slow
def test_example_lfs_vote_as_in_process() -> None:
    from snorkel.labeling import PandasLFApplier

    from weak_supervision.python_lfs import load_python_lfs

    df = pd.read_csv(DEMO_CSV).rename(columns={"CONTENT": "text"}).head(400)
    names = ["short_comment", "textblob_polarity", "textblob_subjectivity"]
    trusted = {lf.name: lf for lf in load_python_lfs(EXAMPLE)}  # bundled code: in process is fine
    expected = PandasLFApplier([trusted[n] for n in names]).apply(df, progress_bar=False)
    result = sandbox.apply_python_lfs([{"source": EXAMPLE.read_text(), "names": names}], df)
    assert result.names == names
    np.testing.assert_array_equal(result.votes, expected)
    assert (expected >= 0).any(axis=0).all()  # each LF voted somewhere: a real comparison


@pytest.mark.slow
def test_lf_names_loads_the_source_in_the_sandbox(tmp_path: Path) -> None:
    marker = tmp_path / "module_level_ran"
    source = lf_source("pass", "a") + lf_source("pass", "b").split("\n", 2)[2]
    assert sandbox.lf_names(source) == ["a", "b"]
    attack = f"open({str(marker)!r}, 'w').write('x')\n" + lf_source("pass", "c")
    with pytest.raises(sandbox.SandboxError, match="source \\(while loading\\).*not allowed"):
        sandbox.lf_names(attack)
    assert not marker.exists()
    with pytest.raises(sandbox.SandboxError, match="defines no Snorkel labeling functions"):
        sandbox.lf_names("x = 1\n")
    with pytest.raises(sandbox.SandboxError, match="wall-time limit"):
        sandbox.lf_names("while True:\n    pass\n", sandbox.Limits(wall_seconds=6))


@pytest.mark.slow
def test_reading_etc_passwd_is_refused() -> None:
    error = run_attack("open('/etc/passwd').read()")
    assert "reading '/etc/passwd' is not allowed" in str(error)
    run_attack("import os\nos.read(os.open('/etc/passwd', os.O_RDONLY), 100)")


@pytest.mark.slow
def test_reading_files_from_c_code_is_refused_by_landlock() -> None:
    if not benign_layers().get("filesystem"):
        pytest.skip("Landlock is not available on this kernel: only the audit hook guards files")
    error = run_attack("import pyarrow as pa\npa.OSFile('/etc/passwd').read(100)")
    assert "Permission denied" in str(error)


@pytest.mark.slow
def test_a_private_directory_of_the_server_is_unreadable(tmp_path: Path) -> None:
    private = tmp_path / "data"
    private.mkdir(mode=0o700)
    (private / "secret.txt").write_text("s3cret")
    error = run_attack(f"assert 's3cret' not in open({str(private / 'secret.txt')!r}).read()")
    assert "not allowed" in str(error)


@pytest.mark.slow
@pytest.mark.parametrize(
    "spawn",
    [
        "import subprocess\nsubprocess.run(['touch', MARK])",
        "import os\nos.system('touch ' + MARK)",
        "import os\nos.execv('/usr/bin/touch', ['touch', MARK])",
        "import os\nif os.fork() == 0:\n    open(MARK, 'w')\n    os._exit(0)",
        "import _posixsubprocess, os\nr, w = os.pipe()\n_posixsubprocess.fork_exec("
        "[b'/usr/bin/touch', MARK.encode()], [b'/usr/bin/touch'], True, (w,), None, None, -1, "
        "-1, -1, -1, -1, -1, r, w, False, False, -1, None, None, -1, -1, None, False)\n"
        "import time\ntime.sleep(1)",
    ],
    ids=["subprocess", "os.system", "exec", "fork", "fork_exec"],
)
def test_spawning_a_process_is_refused(spawn: str, tmp_path: Path) -> None:
    os.chmod(tmp_path, 0o777)  # were the sandbox to run `touch`, nobody could write here
    mark = tmp_path / "spawned"
    run_attack(f"MARK = {str(mark)!r}\n{spawn}")
    assert not mark.exists()


@pytest.mark.slow
def test_allocating_a_gibibyte_is_stopped_by_the_default_limit() -> None:
    error = run_attack("b = bytearray(1 << 30)\nb[-1] = 1", sandbox.Limits())
    assert error.limit == "memory" and "768 MB memory limit" in str(error)


@pytest.mark.slow
def test_an_endless_loop_is_stopped_by_the_cpu_limit() -> None:
    started = time.monotonic()
    error = run_attack("while True:\n    pass", sandbox.Limits(cpu_seconds=8, wall_seconds=60))
    assert error.limit == "cpu" and "8 s CPU-time limit" in str(error)
    assert time.monotonic() - started < 45


@pytest.mark.slow
def test_sleeping_is_stopped_by_the_wall_time_limit() -> None:
    started = time.monotonic()
    limits = sandbox.Limits(wall_seconds=10, hints={"wall": "LABELAPP_LF_WALL_SECONDS"})
    error = run_attack("import time\ntime.sleep(600)", limits)
    assert error.limit == "wall"
    assert str(error) == "LF 'evil' exceeded the 10 s wall-time limit (LABELAPP_LF_WALL_SECONDS)"
    assert time.monotonic() - started < 25


@pytest.mark.slow
def test_network_is_refused() -> None:
    error = run_attack("import socket\nsocket.create_connection(('127.0.0.1', 5432), 2)")
    assert "socket" in str(error) and "not allowed" in str(error)


@pytest.mark.slow
def test_network_namespace_has_no_route_even_below_the_audit_hook() -> None:
    if not benign_layers().get("network"):
        pytest.skip("no network namespace here (unshare refused)")
    body = (
        "import _socket\n"
        "s = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)\n"
        "s.settimeout(2)\ns.connect(('127.0.0.1', 5432))"
    )
    error = run_attack(body)
    assert "not allowed" in str(error) or "unreachable" in str(error) or "refused" in str(error)


@pytest.mark.slow
def test_an_exception_names_the_lf() -> None:
    error = run_attack("raise KeyError('no such field')")
    assert error.limit is None and "KeyError" in str(error) and "no such field" in str(error)


@pytest.mark.slow
def test_layers_enforced_here() -> None:
    layers = benign_layers()
    assert layers["audit_hook"] and layers["limit_cpu"] and layers["limit_memory"]
    if os.geteuid() == 0:
        assert layers["user"] and layers["network"] and layers["limit_processes"]
    else:
        assert not layers["user"]
    assert layers["filesystem"] == (sandbox_layers.landlock_abi() > 0)


# --- the regex guard ----------------------------------------------------------------------------


def test_backtracking_pattern_times_out_quickly_with_a_clear_message() -> None:
    lf = lf_from_spec({"kind": "regex", "name": "bad", "label": 0, "pattern": "(a+)+(?=b)"})
    df = pd.DataFrame({"text": ["a" * 28, "ab"]})
    started = time.monotonic()
    with regex_guard.time_limit(1.0), pytest.raises(regex_guard.RegexTimeout) as caught:
        apply_lfs([lf], df)
    assert time.monotonic() - started < 5  # Python's re alone takes ~35 s on 28 "a"s
    assert "'(a+)+(?=b)' took longer than 1 s on 2 texts" in str(caught.value)
    assert "avoid nested quantifiers" in str(caught.value)


def test_guarded_fallback_gives_pythons_votes() -> None:
    texts = ["price: 10 USD", "USD 10", "10USD", None, "ſ İ", "aXb"]
    specs = [
        ("(?<=\\d )USD", False),
        ("(\\d+)\\s*\\1?USD", False),
        ("(?i)s", False),
        ("x(?=b)", True),
    ]
    df = pd.DataFrame({"text": texts})
    for pattern, ignore_case in specs:
        lf = lf_from_spec(
            {
                "kind": "regex",
                "name": "r",
                "label": 1,
                "pattern": pattern,
                "ignore_case": ignore_case,
            }
        )
        flags = re.IGNORECASE if ignore_case else 0
        expected = [1 if isinstance(t, str) and re.search(pattern, t, flags) else -1 for t in texts]
        with regex_guard.time_limit(10):
            assert apply_lfs([lf], df)[:, 0].tolist() == expected, pattern
