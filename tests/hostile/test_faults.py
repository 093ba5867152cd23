"""Faults: SIGTERM and SIGKILL to the kernel, a client killed mid-cell, a stopped client.

Kernels here are started by hand (``python -m kernel``) with their own data directory, so
history lands in a database the test can open afterwards.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

from hostile.helpers import kernel_pid_of, raw_client, rss_mb, standalone_kernel, stream_text


def _env(tmp_path: Path) -> dict[str, str]:
    return {"MYCON_DATA_DIR": str(tmp_path / "data")}


def _history_rows(tmp_path: Path) -> list[tuple[int, int, str]]:
    db = sqlite3.connect(tmp_path / "data" / "history.sqlite")
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return [tuple(row) for row in db.execute("SELECT session, line, source_raw FROM history ORDER BY session, line")]
    finally:
        db.close()


def test_sigterm_exits_cleanly_removing_connection_file_and_flushing_history(tmp_path: Path) -> None:
    with standalone_kernel(str(tmp_path), env=_env(tmp_path)) as kernel, raw_client(kernel.info) as client:
        client.wait_for_iopub()
        for i in range(50):
            client.execute(f"cell_{i} = {i}")
        kernel.proc.send_signal(signal.SIGTERM)
        assert kernel.proc.wait(timeout=20) == 0
        assert not os.path.exists(kernel.connection_file)
        assert "Traceback" not in kernel.log()
    rows = _history_rows(tmp_path)
    assert [row[2] for row in rows] == [f"cell_{i} = {i}" for i in range(50)]


def test_sigkill_loses_no_earlier_session(tmp_path: Path) -> None:
    # session 1 ends normally; session 2 is killed while a burst of cells is being stored
    with standalone_kernel(str(tmp_path), env=_env(tmp_path)) as kernel, raw_client(kernel.info) as client:
        client.wait_for_iopub()
        for i in range(20):
            client.execute(f"first = {i}")
        kernel.proc.send_signal(signal.SIGTERM)
        assert kernel.proc.wait(timeout=20) == 0
    with standalone_kernel(str(tmp_path), env=_env(tmp_path)) as kernel, raw_client(kernel.info) as client:
        client.wait_for_iopub()
        for i in range(20):
            client.execute(f"second = {i}")
        msg_id = client.send_msg("shell", "history_request", {"hist_access_type": "tail", "n": 5, "output": False, "raw": True})
        client.reply_to("shell", msg_id)  # a query waits for the writer: these 20 are stored
        ids = [client.send_msg("shell", "execute_request", {"code": f"burst = {i}", "silent": False}) for i in range(200)]
        client.reply_to("shell", ids[100])
        kernel.proc.send_signal(signal.SIGKILL)  # while the writer may be committing
        kernel.proc.wait(timeout=10)
    with standalone_kernel(str(tmp_path), env=_env(tmp_path)) as kernel, raw_client(kernel.info) as client:
        client.wait_for_iopub()
        reply, outputs = client.execute("print('third session')")
        assert stream_text(outputs) == "third session\n"
        msg_id = client.send_msg("shell", "history_request", {"hist_access_type": "range", "session": -1, "start": 1, "stop": 100, "output": False, "raw": True})
        history = client.reply_to("shell", msg_id)["content"]["history"]
        assert [entry[2] for entry in history][:20] == [f"second = {i}" for i in range(20)]
        assert "could not" not in kernel.log() and "corrupt" not in kernel.log()
        kernel.proc.send_signal(signal.SIGTERM)
        kernel.proc.wait(timeout=20)
    sources = [row[2] for row in _history_rows(tmp_path)]
    assert sources[:20] == [f"first = {i}" for i in range(20)]
    assert sources[20:40] == [f"second = {i}" for i in range(20)]
    assert sources[-1] == "print('third session')"


CLIENT = textwrap.dedent(
    """
    import sys
    from jupyter_client.blocking.client import BlockingKernelClient
    kc = BlockingKernelClient(connection_file=sys.argv[1])
    kc.load_connection_file()
    kc.start_channels()
    kc.wait_for_ready(timeout=30)
    msg_id = kc.execute(sys.argv[2])
    while True:
        msg = kc.get_iopub_msg(timeout=30)
        if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "stream":
            print("running", flush=True)
            break
    sys.stdin.readline()  # wait to be killed
    """
)


def _client_process(connection_file: str, code: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", CLIENT, connection_file, code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline() == "running\n"
    return proc


def test_client_killed_mid_cell_new_client_sees_result(tmp_path: Path) -> None:
    with standalone_kernel(str(tmp_path), env=_env(tmp_path)) as kernel:
        code = "import time\nprint('started', flush=True)\ntime.sleep(1)\nresult = 6 * 7\nresult"
        client_proc = _client_process(kernel.connection_file, code)
        client_proc.kill()  # mid-cell: the cell is sleeping
        client_proc.wait()
        with raw_client(kernel.info) as client:
            client.wait_for_iopub()
            reply, outputs = client.execute("print(result, Out[1])")
            assert stream_text(outputs) == "42 42\n"
            msg_id = client.send_msg("shell", "history_request", {"hist_access_type": "tail", "n": 2, "output": True, "raw": True})
            history = client.reply_to("shell", msg_id)["content"]["history"]
            assert history[0][1:] == [1, [code, "42"]]
        assert kernel.alive()


def test_stopped_client_blocks_nobody_and_memory_stays_bounded(tmp_path: Path) -> None:
    with standalone_kernel(str(tmp_path), env=_env(tmp_path)) as kernel, raw_client(kernel.info) as client:
        client.wait_for_iopub()
        pid = kernel_pid_of(kernel)
        client.execute("pass")
        before = rss_mb(pid)
        stopped = _client_process(kernel.connection_file, "print('subscribed', flush=True)")
        os.kill(stopped.pid, signal.SIGSTOP)
        try:
            # 20,000 lines in small messages, then 300 MB in large ones, while that client sleeps
            lines = "import time\nfor i in range(20000):\n    print(i)\n    if i % 500 == 0: time.sleep(0.06)"
            reply, outputs = client.execute(lines, timeout=120)
            assert stream_text(outputs).split() == [str(i) for i in range(20000)]
            for _ in range(3):
                reply, outputs = client.execute("print('y' * 100_000_000)", timeout=120)
                assert len(stream_text(outputs)) == 100_000_001
            # a second client is served as usual
            with raw_client(kernel.info) as other:
                other.wait_for_iopub()
                reply, outputs = other.execute("print('other client')")
                assert stream_text(outputs) == "other client\n"
            client.execute("import gc; gc.collect()")
            grown = rss_mb(pid) - before
            assert grown < 400, f"kernel RSS grew {grown:.0f} MB behind a stopped client"
        finally:
            os.kill(stopped.pid, signal.SIGKILL)
            stopped.wait()
        assert kernel.alive()
        client.execute("pass")
        after = rss_mb(pid) - before
        print(f"kernel RSS: +{grown:.0f} MB with the stopped client, +{after:.0f} MB after it died")


def test_sigterm_at_any_moment_ends_the_kernel(tmp_path: Path) -> None:
    """SIGTERM while idle, right after a reply, mid-cell and mid-flood: always a clean exit."""
    moments = ["idle", "after reply", "mid-cell", "mid-flood"] * 2
    for i, moment in enumerate(moments):
        workdir = tmp_path / f"k{i}"
        workdir.mkdir()
        with standalone_kernel(str(workdir), env=_env(workdir)) as kernel, raw_client(kernel.info) as client:
            client.wait_for_iopub()
            if moment == "after reply":
                client.execute("6 * 7")
            elif moment == "mid-cell":
                client.send_msg("shell", "execute_request", {"code": "import time\nprint('go', flush=True)\ntime.sleep(30)", "silent": False})
                while "go" not in str(client.recv("iopub")):
                    pass
            elif moment == "mid-flood":
                client.send_msg("shell", "execute_request", {"code": "while True:\n    print('flood' * 20)", "silent": False})
                while "flood" not in str(client.recv("iopub")):
                    pass
            kernel.proc.send_signal(signal.SIGTERM)
            assert kernel.proc.wait(timeout=20) == 0, f"SIGTERM {moment}: exit status {kernel.proc.returncode}"
            assert not os.path.exists(kernel.connection_file)
