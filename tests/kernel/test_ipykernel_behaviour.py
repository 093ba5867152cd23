"""Behaviour the IPython world expects of a kernel, as ipykernel has it, over the wire: asyncio
tasks that outlive their cell, pdb ended by an interrupt, IPython options in a kernelspec's argv, ``started`` in execute_reply metadata."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import Any

import pytest
from kernel_harness import TIMEOUT, check, execute, running_kernel, stdout_of


def reply_to(kc: Any, msg_id: str) -> dict[str, Any]:
    """The execute_reply to ``msg_id`` (replies to other requests are skipped)."""
    while True:
        reply = kc.get_shell_msg(timeout=TIMEOUT)
        if reply["parent_header"].get("msg_id") == msg_id:
            return check(reply, "execute_reply", msg_id)


TASK_CELL = """\
import asyncio

async def ticker():
    for i in range(4):
        await asyncio.sleep(0.1)
        print(i, end="", flush=True)

task = asyncio.get_event_loop().create_task(ticker())
"""


@pytest.mark.parametrize("kernel_name", ["mycon", "python3"])
def test_task_started_in_a_cell_runs_between_cells_printing_to_its_cell(kernel_name: str) -> None:
    with running_kernel(kernel_name) as (_km, kc):
        task_cell = kc.execute(TASK_CELL)
        reply_to(kc, task_cell)
        later_cell = kc.execute("pass")
        printed = ""
        deadline = time.monotonic() + 10
        while len(printed) < 4 and time.monotonic() < deadline:
            msg = check(kc.get_iopub_msg(timeout=5))
            if msg["msg_type"] == "stream":
                # the task's output belongs to the cell that started it, not to the later one
                assert msg["parent_header"]["msg_id"] == task_cell, (msg, later_cell)
                printed += msg["content"]["text"]
        assert printed == "0123"
        reply_to(kc, later_cell)
        # nobody awaited it: it ran while the kernel waited for requests
        reply, outputs = execute(kc, "print(task.done())")
        assert stdout_of(outputs) == "True\n"


def test_interrupted_pdb_prompt_ends_the_debugger_and_the_next_cell_runs() -> None:
    with running_kernel() as (km, kc):
        debugged = kc.execute("import pdb; pdb.set_trace()\nafter = 1")
        queued = kc.execute("print(after + 1)")
        # wait until pdb asks for its command
        request = kc.get_stdin_msg(timeout=TIMEOUT)
        assert request["msg_type"] == "input_request"
        km.interrupt_kernel()
        reply = reply_to(kc, debugged)
        assert reply["content"]["status"] == "ok"  # as ipykernel: the cell runs on, untraced
        reply = reply_to(kc, queued)
        assert reply["content"]["status"] == "ok"


def test_execute_reply_metadata_carries_started() -> None:
    with running_kernel() as (_km, kc):
        reply, _ = execute(kc, "1")
        started = reply["metadata"]["started"]
        assert isinstance(started, str) and started.endswith("Z")
        date = reply["header"]["date"]  # a string once ipyparallel (imported by another test in
        # this process) has turned off jupyter_client's date parsing, else a datetime
        sent = date if isinstance(date, str) else date.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        assert started <= sent


def test_ipython_options_in_argv_are_ignored_with_a_warning(tmp_path: Any) -> None:
    connection_file = tmp_path / "kernel.json"
    env = dict(os.environ)
    process = subprocess.Popen(
        [sys.executable, "-m", "kernel", "-f", str(connection_file), "--profile-dir", str(tmp_path),
         "--IPKernelApp.trio_loop=False", "--matplotlib=inline"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        deadline = time.monotonic() + 20
        while not connection_file.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert process.poll() is None, process.communicate()
        assert connection_file.exists()
    finally:
        process.terminate()
        _out, err = process.communicate(timeout=10)
    assert "ignoring option '--profile-dir " in err
    assert "ignoring option '--IPKernelApp.trio_loop=False'" in err
    assert "Traceback" not in err


AWAIT_COMM_CELL = """\
import asyncio, comm
reply = asyncio.get_running_loop().create_future()
widget = comm.create_comm(target_name="await-test")
widget.on_msg(lambda msg: reply.set_result(msg["content"]["data"]["value"]))
print(await asyncio.wait_for(reply, 10))
"""


@pytest.mark.parametrize("kernel_name", ["mycon", "python3"])
def test_cell_awaiting_a_comm_message_gets_it_ahead_of_the_queued_cell(kernel_name: str) -> None:
    with running_kernel(kernel_name) as (_km, kc):
        waiting = kc.execute(AWAIT_COMM_CELL)
        while True:  # the comm the cell opened (through the comm package, as ipywidgets does)
            msg = check(kc.get_iopub_msg(timeout=TIMEOUT))
            if msg["msg_type"] == "comm_open" and msg["parent_header"].get("msg_id") == waiting:
                comm_id = msg["content"]["comm_id"]
                break
        queued = kc.execute("after = 1")
        kc.shell_channel.send(kc.session.msg("comm_msg", {"comm_id": comm_id, "data": {"value": 42}}))
        assert reply_to(kc, waiting)["content"]["status"] == "ok"
        assert reply_to(kc, queued)["content"]["status"] == "ok"
        _reply, outputs = execute(kc, "print(comm.get_comm_manager().get_comm(widget.comm_id) is widget)")
        assert stdout_of(outputs) == "True\n"


@pytest.mark.parametrize("magic", ["%debug", "%pdb on"])
@pytest.mark.parametrize("kernel_name", ["mycon", "python3"])
def test_debugger_without_stdin_shows_the_source_context(kernel_name: str, magic: str) -> None:
    import re

    with running_kernel(kernel_name) as (_km, kc):
        execute(kc, "def f(x):\n    return 1/x\n", allow_stdin=False)
        if magic == "%debug":
            execute(kc, "f(0)", allow_stdin=False)
            _reply, outputs = execute(kc, "%debug", allow_stdin=False)
        else:
            execute(kc, "%pdb on", allow_stdin=False)
            _reply, outputs = execute(kc, "f(0)", allow_stdin=False)
        shown = re.sub(r"\x1b\[[0-9;]*m", "", stdout_of(outputs)).splitlines()
        assert shown[0].startswith("> ") and shown[0].endswith("(2)f()"), shown
        assert shown[1:3] == ["      1 def f(x):", "----> 2     return 1/x"], shown


BUFFER_COMM_CELL = """\
import comm
received = []
echo = comm.create_comm(target_name="buffers-test", data={"hello": 1}, buffers=[b"\\x00\\x01open"])
echo.on_msg(lambda msg: received.append([bytes(b) for b in msg["buffers"]]))
"""


@pytest.mark.parametrize("kernel_name", ["mycon", "python3"])
def test_comm_package_messages_carry_binary_buffers_both_ways(kernel_name: str) -> None:
    with running_kernel(kernel_name) as (_km, kc):
        _reply, outputs = execute(kc, BUFFER_COMM_CELL)
        opened = [out for out in outputs if out["msg_type"] == "comm_open"]
        assert len(opened) == 1 and opened[0]["content"]["data"] == {"hello": 1}
        assert [bytes(b) for b in opened[0]["buffers"]] == [b"\x00\x01open"]
        comm_id = opened[0]["content"]["comm_id"]
        message = kc.session.msg("comm_msg", {"comm_id": comm_id, "data": {}})
        kc.shell_channel.send(message)  # (the client's buffers follow)
        kc.session.send(kc.shell_channel.socket, "comm_msg", {"comm_id": comm_id, "data": {}},
                        buffers=[b"\x02\x03back"])
        _reply, outputs = execute(kc, "print(received)")
        assert stdout_of(outputs) == "[[], [b'\\x02\\x03back']]\n"
