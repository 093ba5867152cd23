"""Kernel lifecycle over real processes: interrupt, control while busy, shutdown, security."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import zmq
from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.session import Session as ReferenceSession
from kernel_harness import TIMEOUT, collect_until_idle, execute, running_kernel, stdout_of
from protocol_check import check

RUNNING = "print('running', flush=True)\n"  # its stream says the cell has reached its wait
INTERRUPTIBLE = {
    "sleep": RUNNING + "import time\ntime.sleep(60)",
    "busy loop": RUNNING + "while True:\n    pass",
    "input": "input('stuck? ')",
}


@pytest.mark.parametrize("how", ["signal", "message"])
@pytest.mark.parametrize("what", sorted(INTERRUPTIBLE))
def test_interrupt(how: str, what: str) -> None:
    with running_kernel() as (km, kc):
        msg_id = kc.execute(INTERRUPTIBLE[what], allow_stdin=True)
        if what == "input":
            check(kc.get_stdin_msg(timeout=TIMEOUT), "input_request")
        else:
            while True:
                msg = check(kc.get_iopub_msg(timeout=TIMEOUT))
                if msg["msg_type"] == "stream" and msg["parent_header"]["msg_id"] == msg_id:
                    break
        if how == "signal":
            km.interrupt_kernel()
        else:
            interrupt = kc.session.msg("interrupt_request", {})
            kc.control_channel.send(interrupt)
            reply = check(kc.get_control_msg(timeout=TIMEOUT), "interrupt_reply")
            assert reply["content"]["status"] == "ok"
        reply = check(kc.get_shell_msg(timeout=TIMEOUT), "execute_reply", msg_id)
        assert reply["content"]["status"] == "error"
        assert reply["content"]["ename"] == "KeyboardInterrupt"
        after, outputs = execute(kc, "print('still here')")
        assert stdout_of(outputs) == "still here\n"


def test_control_answers_during_long_cell_and_shutdown_works() -> None:
    with running_kernel() as (km, kc):
        msg_id = kc.execute("import time\ntime.sleep(60)")
        while True:
            msg = check(kc.get_iopub_msg(timeout=TIMEOUT))
            if msg["msg_type"] == "execute_input":
                break
        info = kc.session.msg("kernel_info_request", {})
        kc.control_channel.send(info)
        reply = check(kc.get_control_msg(timeout=5), "kernel_info_reply")
        assert reply["content"]["implementation"] == "mycon"
        shutdown = kc.session.msg("shutdown_request", {"restart": False})
        kc.control_channel.send(shutdown)
        reply = check(kc.get_control_msg(timeout=5), "shutdown_reply")
        assert reply["content"] == {"status": "ok", "restart": False}
        assert km.provisioner is not None
        deadline = time.monotonic() + 10
        while km.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not km.is_alive()
        assert msg_id


def test_atexit_functions_run_when_the_kernel_shuts_down(tmp_path: Path) -> None:
    """What a cell registers with atexit runs at shutdown, as in ipykernel (ipyparallel stops
    the clusters it started there), although the kernel process ends with os._exit."""
    marker = tmp_path / "ran"
    with running_kernel() as (km, kc):
        reply, _ = execute(kc, f"import atexit, pathlib\natexit.register(pathlib.Path({str(marker)!r}).touch)")
        assert reply["content"]["status"] == "ok"
        kc.control_channel.send(kc.session.msg("shutdown_request", {"restart": False}))
        check(kc.get_control_msg(timeout=5), "shutdown_reply")
        deadline = time.monotonic() + 10
        while km.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not km.is_alive()
    assert marker.exists()


def test_restart_keeps_the_kernel_usable() -> None:
    with running_kernel() as (km, kc):
        execute(kc, "gone = 1")
        km.restart_kernel(now=False)
        kc.wait_for_ready(timeout=TIMEOUT)
        reply, outputs = execute(kc, "'gone' in dir()")
        assert outputs[-1]["content"]["data"]["text/plain"] == "False"


def test_curve_transport_encryption_required() -> None:
    with running_kernel(transport_encryption="required") as (km, kc):
        assert km.get_connection_info().get("curve_publickey")
        reply, outputs = execute(kc, "print('secret')")
        assert stdout_of(outputs) == "secret\n"


def test_hostile_messages_are_dropped_and_nothing_runs(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    with running_kernel() as (km, kc):
        info = km.get_connection_info()
        context = zmq.Context()
        sock = context.socket(zmq.DEALER)
        sock.connect(f"tcp://{info['ip']}:{info['shell_port']}")
        code = f"open({str(marker)!r}, 'w').write('x')"
        good_key = ReferenceSession(key=km.session.key)
        bad_key = ReferenceSession(key=b"not the key")
        no_key = ReferenceSession(key=b"")
        replayed = good_key.serialize(good_key.msg("execute_request", {"code": "pass", "silent": True}))
        attempts = [
            bad_key.serialize(bad_key.msg("execute_request", {"code": code})),
            no_key.serialize(no_key.msg("execute_request", {"code": code})),
            [b"garbage"],
            [b"<IDS|MSG>", b"", b"{", b"}", b"{}", b"{}"],
            [b"<IDS|MSG>", b"\xff" * 64, b"\x00" * 10, b"{}", b"{}", b"{}"],
        ]
        tampered = good_key.serialize(good_key.msg("execute_request", {"code": "pass"}))
        tampered[-1] = json.dumps({"code": code}).encode()
        attempts.append(tampered)
        sock.send_multipart(replayed)
        for frames in attempts:
            sock.send_multipart(frames)
        sock.send_multipart(replayed)  # the same signature again: a replay
        # the one valid message gets exactly one reply; nothing else is answered
        assert sock.poll(TIMEOUT * 1000)
        sock.recv_multipart()
        reply, outputs = execute(kc, "print('served')")
        assert stdout_of(outputs) == "served\n"
        assert sock.poll(200) == 0, "a rejected message was answered"
        assert not marker.exists(), "a rejected message ran code"
        sock.close(linger=0)
        context.term()


def _start_standalone(tmp_path: Path, *args: str, env_extra: dict[str, str] | None = None) -> subprocess.Popen[str]:
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"))
    env.update(env_extra or {})
    return subprocess.Popen(
        [sys.executable, "-m", "kernel", *args],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_standalone_kernel_writes_private_connection_file_and_removes_it(tmp_path: Path) -> None:
    proc = _start_standalone(tmp_path)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        second = proc.stdout.readline() + proc.stdout.readline()
        assert "connection file" in first
        path = Path(first.rsplit(" ", 1)[-1].strip())
        assert path.parent == tmp_path / "runtime"
        assert f"mycon --existing {path.name}" in second
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        kc = BlockingKernelClient(connection_file=str(path))
        kc.load_connection_file()
        kc.start_channels()
        try:
            kc.wait_for_ready(timeout=TIMEOUT)
            reply, outputs = execute(kc, "6 * 7")
            assert outputs[-1]["content"]["data"]["text/plain"] == "42"
        finally:
            kc.stop_channels()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        assert not path.exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize(
    "args, encrypted",
    [((), False), (("--encryption",), True), (("--ip", "0.0.0.0"), True), (("--ip", "0.0.0.0", "--no-encryption"), False)],
    ids=["loopback", "asked", "beyond-loopback", "beyond-loopback-refused"],
)
def test_standalone_kernel_encrypts_beyond_loopback_or_when_asked(tmp_path: Path, args: tuple[str, ...], encrypted: bool) -> None:
    """Plain TCP on loopback (every Jupyter client speaks it); CurveZMQ keys in the file when
    asked or when listening beyond loopback; the start-up lines say which, and who can attach."""
    proc = _start_standalone(tmp_path, *args)
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(4)]
        path = Path(lines[0].rsplit(" ", 1)[-1].strip())
        info = json.loads(path.read_text())
        assert bool(info.get("curve_publickey")) is encrypted
        assert bool(info.get("curve_secretkey")) is encrypted
        if encrypted:
            assert lines[3].startswith("Encrypted (CurveZMQ)") and "jupyter console and qtconsole cannot" in lines[3]
        else:
            assert lines[3].startswith("Not encrypted") and f"jupyter console --existing {path}" in lines[3]
        kc = BlockingKernelClient()
        kc.load_connection_info(dict(info, ip="127.0.0.1"))  # jupyter_client takes the keys from the file
        kc.start_channels()
        try:
            reply, outputs = execute(kc, "6 * 7")
            assert outputs[-1]["content"]["data"]["text/plain"] == "42"
        finally:
            kc.stop_channels()
    finally:
        proc.kill()
        proc.wait()


def test_empty_key_is_refused_unless_allowed(tmp_path: Path) -> None:
    conn = tmp_path / "kernel-nokey.json"
    conn.write_text(json.dumps({"ip": "127.0.0.1", "transport": "tcp", "key": "", "signature_scheme": "hmac-sha256",
                                "shell_port": 0, "iopub_port": 0, "stdin_port": 0, "control_port": 0, "hb_port": 0}))
    proc = _start_standalone(tmp_path, "-f", str(conn))
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 2
    assert "empty key" in err and "--allow-no-key" in err
    assert "Traceback" not in err


def test_missing_and_broken_connection_files_give_one_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    proc = _start_standalone(tmp_path, "-f", str(broken))
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 2
    assert "cannot read connection file" in err and "Traceback" not in err


def test_kernel_exits_when_its_parent_dies(tmp_path: Path) -> None:
    # a parent process that starts the kernel with JPY_PARENT_PID and then dies
    launcher = (
        "import os, subprocess, sys\n"
        "env = dict(os.environ, JPY_PARENT_PID=str(os.getpid()))\n"
        "p = subprocess.Popen([sys.executable, '-m', 'kernel'], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)\n"
        "print(p.pid, flush=True)\n"
        "p.stdout.readline()\n"
        "os._exit(0)\n"
    )
    proc = subprocess.run([sys.executable, "-c", launcher], cwd=tmp_path, capture_output=True, text=True, timeout=30,
                          env=dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path / "rt")))
    kernel_pid = int(proc.stdout.split()[0])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(kernel_pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        os.kill(kernel_pid, signal.SIGKILL)
        raise AssertionError("the kernel outlived its parent by 10 s")
    assert list((tmp_path / "rt").glob("kernel-*.json")) == []


def _sharing(kc: BlockingKernelClient) -> dict[str, object]:
    """Our kernel's own part of kernel_info_reply: who is attached, whether it was left running."""
    msg_id = kc.kernel_info()
    reply = check(kc.get_shell_msg(timeout=TIMEOUT), "kernel_info_reply", msg_id)
    return dict(reply["content"]["mycon_sharing"])


def _until(condition: object, what: str) -> None:
    deadline = time.monotonic() + 10
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"not within 10 s: {what}")
        time.sleep(0.1)


def test_kernel_counts_its_clients_and_outlives_its_parent_while_others_are_attached(tmp_path: Path) -> None:
    """A console that leaves its kernel running for others: the kernel must not follow its
    launcher out while a client is attached; it says so in kernel_info, and a client can still
    shut it down."""
    launcher = (
        "import os, subprocess, sys\n"
        "env = dict(os.environ, JPY_PARENT_PID=str(os.getpid()))\n"
        "p = subprocess.Popen([sys.executable, '-m', 'kernel'], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)\n"
        "print(p.pid, p.stdout.readline().split()[-1], flush=True)\n"
        "sys.stdin.readline()\n"
        "os._exit(0)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", launcher], cwd=tmp_path, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, env=dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path / "rt")))
    assert proc.stdout is not None and proc.stdin is not None
    pid_text, path = proc.stdout.readline().split()
    kernel_pid = int(pid_text)
    clients = []
    try:
        for _ in range(2):
            kc = BlockingKernelClient()
            kc.load_connection_file(path)
            kc.start_channels()
            kc.wait_for_ready(timeout=TIMEOUT)
            clients.append(kc)
        first, second = clients
        _until(lambda: _sharing(first) == {"subscribers": 2, "left_running": False}, "two subscribers")
        second.stop_channels()
        clients.pop()
        _until(lambda: _sharing(first)["subscribers"] == 1, "the second one's leaving counted")
        proc.stdin.write("\n")
        proc.stdin.flush()
        assert proc.wait(timeout=10) == 0
        _until(lambda: _sharing(first)["left_running"] is True, "left running")
        os.kill(kernel_pid, 0)  # still there
        assert os.path.exists(path)  # still listed
        first.shutdown()
        _until(lambda: not os.path.exists(f"/proc/{kernel_pid}") or _zombie(kernel_pid), "shut down by the client")
        assert not os.path.exists(path)  # nobody else would remove it now
    finally:
        for kc in clients:
            kc.stop_channels()
        try:
            os.kill(kernel_pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] == "Z"
    except OSError:
        return True


def test_collect_helper_sees_output_of_other_clients(kernel_client: BlockingKernelClient) -> None:
    other = BlockingKernelClient()
    other.load_connection_info(kernel_client.get_connection_info())
    other.start_channels()
    try:
        other.wait_for_ready(timeout=TIMEOUT)
        msg_id = other.execute("print('from other')")
        check(other.get_shell_msg(timeout=TIMEOUT), "execute_reply", msg_id)
        assert stdout_of(collect_until_idle(kernel_client, msg_id)) == "from other\n"
    finally:
        other.stop_channels()


THREADS_TAKING_SIGNALS = r"""
import os, signal, threading
taking = []
for tid in os.listdir("/proc/self/task"):
    if int(tid) != threading.main_thread().native_id:
        with open(f"/proc/self/task/{tid}/status") as status:
            blocked = int(next(l for l in status if l.startswith("SigBlk:")).split()[1], 16)
        if any(not blocked >> (sig - 1) & 1 for sig in (signal.SIGINT, signal.SIGTERM)):
            taking.append(tid)
print(len(os.listdir("/proc/self/task")) > 3, taking)
"""


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="reads thread signal masks from /proc")
def test_helper_threads_leave_sigint_and_sigterm_to_the_main_thread() -> None:
    """A signal landing on a helper thread would not wake a main thread blocked in a receive."""
    with running_kernel() as (km, kc):
        execute(kc, "1")  # history's writer thread starts with the first stored cell
        kc.complete("import o", 8)  # and completion's module lister with the first import
        check(kc.get_shell_msg(timeout=TIMEOUT), "complete_reply")
        reply, outputs = execute(kc, THREADS_TAKING_SIGNALS, store_history=False)
        assert stdout_of(outputs) == "True []\n"
