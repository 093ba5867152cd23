"""``mycon list``: every connection file checked alive or stale by a real request; pruning."""

from __future__ import annotations

import json
import os
import time

from multi_support import client_for
from ports import free_ports


def _write(path, info: dict, age: float = 3600.0) -> None:
    path.write_text(json.dumps(info))
    then = time.time() - age
    os.utime(path, (then, then))


def _status(stdout: str, name: str) -> str:
    for line in stdout.splitlines():
        if line.endswith(name):
            return line.split()[0]
    raise AssertionError(f"{name} not listed in {stdout!r}")


def test_empty_runtime_directory(mycon, runtime):
    done = mycon("list")
    assert done.returncode == 0
    assert done.stdout == f"No kernel connection files in {runtime}.\n"


def test_alive_stale_broken_and_prune(headless, mycon, runtime):
    ours = headless("mycon")
    theirs = headless("python3")
    alive = {os.path.basename(ours.connection_file), os.path.basename(theirs.connection_file)}
    # a kernel that died without removing its file
    ports = free_ports(5)
    names = ("shell_port", "iopub_port", "stdin_port", "control_port", "hb_port")
    dead = dict(zip(names, ports, strict=True), ip="127.0.0.1", transport="tcp", key="k",
                signature_scheme="hmac-sha256", kernel_name="python3")
    _write(runtime / "kernel-dead.json", dead)
    # a live kernel's ports under another key: the ports answer, but not with a valid reply
    impostor = json.loads(open(ours.connection_file).read())
    impostor["key"] = "not-the-key"
    _write(runtime / "kernel-impostor.json", impostor)
    (runtime / "kernel-broken.json").write_text("{not json")
    _write(runtime / "kernel-young.json", dead, age=0)  # may be a kernel still starting

    done = mycon("list", "--timeout", "1")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.startswith(f"Kernels in {runtime}:\n")
    for name in alive:
        assert _status(out, name) == "alive"
    assert "alive   mycon" in out and "alive   python3" in out
    assert _status(out, "kernel-dead.json") == "stale"
    assert _status(out, "kernel-impostor.json") == "stale"
    assert _status(out, "kernel-broken.json") == "broken"
    assert _status(out, "kernel-young.json") == "new?"
    assert "3 stale; `mycon list --prune` removes their files." in out

    refused = mycon("list", "--prune", "--timeout", "1")  # stdin is not a terminal
    assert refused.returncode == 2
    assert refused.stderr == "mycon: --prune asks before removing files; add --yes to remove them without asking\n"
    assert (runtime / "kernel-dead.json").exists()

    pruned = mycon("list", "--prune", "--yes", "--timeout", "1")
    assert pruned.returncode == 0, pruned.stderr
    for name in ("kernel-dead.json", "kernel-impostor.json", "kernel-broken.json"):
        assert f"Removed {name}" in pruned.stdout
    left = sorted(p.name for p in runtime.iterdir() if p.name.startswith("kernel-"))
    assert left == sorted(alive | {"kernel-young.json"})


def test_busy_kernel_is_alive(headless, mycon):
    """The check uses the control channel, which answers while a cell runs."""
    kernel = headless("mycon")
    with client_for(kernel.connection_file) as client:
        client.execute("import time\nprint('running', flush=True)\ntime.sleep(60)")
        while True:
            msg = client.get_iopub_msg(timeout=30)
            if msg["msg_type"] == "stream" and "running" in msg["content"]["text"]:
                break
        done = mycon("list")
        assert _status(done.stdout, os.path.basename(kernel.connection_file)) == "alive"
        client.control_channel.send(client.session.msg("interrupt_request", {}))


def test_list_usage_mistakes(mycon, runtime):
    assert mycon("list", "--yes").stderr == "mycon: --yes goes with --prune\n"
    done = mycon("list", "--timeout", "0")
    assert (done.returncode, done.stderr) == (2, "mycon: --timeout must be a positive number of seconds\n")


def test_prune_asks_at_a_terminal(mycon, runtime):
    import pexpect
    from multi_support import MYCON

    ports = free_ports(5)
    names = ("shell_port", "iopub_port", "stdin_port", "control_port", "hb_port")
    dead = dict(zip(names, ports, strict=True), ip="127.0.0.1", key="k", kernel_name="mycon")
    _write(runtime / "kernel-a.json", dead)
    _write(runtime / "kernel-b.json", dead)
    child = pexpect.spawn(MYCON, ["list", "--prune", "--timeout", "0.5"], encoding="utf-8", timeout=30)
    child.expect_exact("Remove 2 stale connection file(s)? [y/N]: ")
    child.sendline("n")
    child.expect_exact("Nothing removed.")
    child.expect(pexpect.EOF)
    assert sorted(p.name for p in runtime.iterdir()) == ["kernel-a.json", "kernel-b.json"]
    child = pexpect.spawn(MYCON, ["list", "--prune", "--timeout", "0.5"], encoding="utf-8", timeout=30)
    child.expect_exact("[y/N]: ")
    child.sendline("y")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert list(runtime.iterdir()) == []
