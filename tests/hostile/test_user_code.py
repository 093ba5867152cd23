"""User code that does terrible things: the kernel reports the error, survives, serves on.

Each test runs cells over real sockets against a real kernel process and then checks that the
next request is served normally.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hostile.helpers import kernel_pid, rss_mb
from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.manager import KernelManager
from kernel_harness import TIMEOUT, collect_until_idle, execute, running_kernel, stdout_of
from protocol_check import check


@pytest.fixture(scope="module")
def kernel() -> Iterator[tuple[KernelManager, BlockingKernelClient]]:
    with running_kernel() as pair:
        yield pair


def still_serves(kc: BlockingKernelClient) -> None:
    reply, outputs = execute(kc, "print('alive', 6 * 7)")
    assert reply["content"]["status"] == "ok"
    assert stdout_of(outputs) == "alive 42\n"


def test_closing_sys_stdout_and_stderr(kernel: tuple[KernelManager, BlockingKernelClient]) -> None:
    _, kc = kernel
    reply, _ = execute(kc, "import sys\nsys.stdout.close()\nsys.stderr.close()")
    assert reply["content"]["status"] == "ok"
    reply, outputs = execute(kc, "print('out'); print('err', file=sys.stderr)")
    assert stdout_of(outputs) == "out\n" and stdout_of(outputs, "stderr") == "err\n"
    execute(kc, "sys.stdout = None")
    still_serves(kc)


def test_replacing_sys_stdout(kernel: tuple[KernelManager, BlockingKernelClient]) -> None:
    _, kc = kernel
    reply, outputs = execute(kc, "import io, sys\nsys.stdout = io.StringIO()\nprint('kept by the user')")
    assert reply["content"]["status"] == "ok" and stdout_of(outputs) == ""
    reply, outputs = execute(kc, "text = sys.stdout.getvalue()\nsys.stdout = sys.__stdout__\nprint(text, end='', flush=True)")
    assert stdout_of(outputs) == "kept by the user\n"  # fd 1 is captured too
    execute(kc, "sys.stdout = sys.__stdout__ = sys.__stderr__")
    reply, outputs = execute(kc, "print('via stderr object', flush=True)")
    assert reply["content"]["status"] == "ok"
    assert "via stderr object" in stdout_of(outputs, "stderr")
    execute(kc, "sys.stdout = None")  # reopened by the kernel before the next cell
    still_serves(kc)


def test_raw_and_invalid_utf8_bytes_on_fd_1(kernel: tuple[KernelManager, BlockingKernelClient]) -> None:
    _, kc = kernel
    reply, outputs = execute(kc, "import os\nos.write(1, b'raw \\xff\\xfe\\x00 end\\n'); os.write(2, b'\\xc3')\nos.write(1, b'\\xa9\\n');")
    assert reply["content"]["status"] == "ok"
    text = stdout_of(outputs)
    assert text.startswith("raw \ufffd\ufffd\x00 end\n")
    still_serves(kc)


def test_infinite_recursion(kernel: tuple[KernelManager, BlockingKernelClient]) -> None:
    _, kc = kernel
    reply, outputs = execute(kc, "def f(n):\n    return f(n + 1)\nf(0)")
    assert reply["content"]["status"] == "error"
    assert reply["content"]["ename"] == "RecursionError"
    # tracebacks.py does not fold repeated frames yet (~100 KB here); bounded all the same
    assert sum(len(line) for line in reply["content"]["traceback"]) < 1_000_000
    assert [m["msg_type"] for m in outputs].count("error") == 1
    still_serves(kc)


def test_allocating_until_memory_error() -> None:
    """Under an address-space limit the allocation fails; the kernel reports it and recovers."""
    with running_kernel() as (_, kc):
        setup = (
            "import resource\n"
            "soft, hard = resource.getrlimit(resource.RLIMIT_AS)\n"
            "vm = int([l for l in open('/proc/self/status') if l.startswith('VmSize')][0].split()[1]) * 1024\n"
            "resource.setrlimit(resource.RLIMIT_AS, (vm + (384 << 20), hard))"
        )
        reply, _ = execute(kc, setup)
        assert reply["content"]["status"] == "ok"
        reply, outputs = execute(kc, "hoard = []\nwhile True:\n    hoard.append(bytearray(4 << 20))")
        assert reply["content"]["status"] == "error"
        assert reply["content"]["ename"] == "MemoryError"
        reply, outputs = execute(kc, "del hoard\nimport gc, sys\nsys.last_traceback = sys.last_value = None\ngc.collect()\nresource.setrlimit(resource.RLIMIT_AS, (soft, hard))\nprint('limit lifted')")
        assert stdout_of(outputs) == "limit lifted\n"
        reply, outputs = execute(kc, "len(bytearray(1 << 40))")  # a single impossible allocation
        assert reply["content"]["ename"] == "MemoryError"
        still_serves(kc)


def test_child_process_keeps_writing_after_the_cell(kernel: tuple[KernelManager, BlockingKernelClient]) -> None:
    _, kc = kernel
    code = (
        "import subprocess\n"
        "child = subprocess.Popen(['sh', '-c', 'i=0; while [ $i -lt 30 ]; do echo line$i; i=$((i+1)); sleep 0.02; done'])"
    )
    reply, outputs = execute(kc, code)
    assert reply["content"]["status"] == "ok"
    # the kernel serves while the child writes (its lines may land in this request's output)
    reply, outputs = execute(kc, "print('alive', 6 * 7)")
    during = stdout_of(outputs)
    assert [line for line in during.splitlines() if not line.startswith("line")] == ["alive 42"]
    reply, outputs = execute(kc, "child.wait()")
    seen = during + stdout_of(outputs)
    # every line the child wrote arrives once, in order, whichever request it is attributed to
    seen_all = seen
    while "line29" not in seen_all:
        msg = check(kc.get_iopub_msg(timeout=TIMEOUT))
        if msg["msg_type"] == "stream":
            seen_all += msg["content"]["text"]
    assert [line for line in seen_all.splitlines() if line.startswith("line")][-1] == "line29"
    still_serves(kc)


def test_child_process_output_is_complete_and_in_order(kernel: tuple[KernelManager, BlockingKernelClient]) -> None:
    _, kc = kernel
    code = (
        "import subprocess\n"
        "child = subprocess.Popen(['sh', '-c', 'i=0; while [ $i -lt 2000 ]; do echo n$i; i=$((i+1)); done'])\n"
        "child.wait()"
    )
    reply, outputs = execute(kc, code)
    lines = stdout_of(outputs).splitlines()
    assert lines == [f"n{i}" for i in range(2000)]


def test_fork_child_exits_and_never_answers(kernel: tuple[KernelManager, BlockingKernelClient]) -> None:
    _, kc = kernel
    # the child falls off the end of the cell without exiting: the kernel must end it there
    code = (
        "import os\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    print('in child', flush=True)\n"
        "else:\n"
        "    _, status = os.waitpid(pid, 0)\n"
        "    print('child status', os.waitstatus_to_exitcode(status))"
    )
    msg_id = kc.execute(code)
    reply = check(kc.get_shell_msg(timeout=TIMEOUT), "execute_reply", msg_id)
    outputs = collect_until_idle(kc, msg_id)
    assert reply["content"]["status"] == "ok"
    text = stdout_of(outputs)
    assert "in child\n" in text and "child status 0\n" in text
    # exactly one reply: the child answered nothing
    info_id = kc.kernel_info()
    nxt = check(kc.get_shell_msg(timeout=TIMEOUT))
    assert nxt["parent_header"]["msg_id"] == info_id
    # a child that raises exits with status 1 and its error does not reach the client as a reply
    reply, outputs = execute(kc, "pid = os.fork()\nif pid == 0:\n    raise ValueError('child fails')\nelse:\n    print('status', os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))")
    assert reply["content"]["status"] == "ok"
    assert "status 1\n" in stdout_of(outputs)
    # multiprocessing with the fork start method works and its children's prints arrive
    reply, outputs = execute(
        kc,
        "import multiprocessing as mp\n"
        "def work(x):\n    print(f'worker {x}', flush=True)\n    return x * x\n"
        "with mp.get_context('fork').Pool(2) as pool:\n    print(sorted(pool.map(work, range(4))))",
    )
    assert reply["content"]["status"] == "ok", reply["content"]
    text = stdout_of(outputs)
    assert "[0, 1, 4, 9]" in text and all(f"worker {i}" in text for i in range(4))
    still_serves(kc)


def test_raising_in_repr_html_and_del(kernel: tuple[KernelManager, BlockingKernelClient]) -> None:
    _, kc = kernel
    code = (
        "class Nasty:\n"
        "    def __repr__(self): raise ValueError('repr')\n"
        "    def _repr_html_(self): raise RuntimeError('html')\n"
        "    def __del__(self): raise KeyError('del')\n"
        "Nasty()"
    )
    reply, outputs = execute(kc, code)
    # as ipykernel: each failing repr method is an error with its traceback; nothing to show
    assert reply["content"]["status"] == "error"
    errors = [m["content"]["ename"] for m in outputs if m["msg_type"] == "error"]
    assert errors == ["ValueError", "RuntimeError"]  # text/plain first, as IPython
    assert [m for m in outputs if m["msg_type"] == "execute_result"] == []
    reply, outputs = execute(kc, "n = Nasty(); del n; Out.clear(); _ = __ = ___ = None\nimport gc; gc.collect()")
    assert reply["content"]["status"] == "ok"
    assert "KeyError" in stdout_of(outputs, "stderr") or "del" in stdout_of(outputs, "stderr")
    reply, _ = execute(kc, "print(Nasty())")
    assert reply["content"]["ename"] == "ValueError"
    still_serves(kc)


def test_printing_200_mb_and_memory_returns() -> None:
    with running_kernel() as (km, kc):
        pid = kernel_pid(km)
        execute(kc, "import gc")
        before = rss_mb(pid)
        msg_id = kc.execute("print('x' * 200_000_000)")
        check(kc.get_shell_msg(timeout=120), "execute_reply", msg_id)
        size = 0
        messages = 0
        while True:
            msg = kc.get_iopub_msg(timeout=60)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "stream":
                size += len(msg["content"]["text"])
                messages += 1
            elif msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                break
        assert size == 200_000_001
        assert messages >= 100  # split into pieces a client can handle
        execute(kc, "gc.collect()")
        after = rss_mb(pid)
        assert after - before < 60, f"kernel RSS {before:.0f} MB before, {after:.0f} MB after"
        still_serves(kc)


def test_sigint_handler_replaced_by_user_code() -> None:
    with running_kernel() as (km, kc):
        # a handler that swallows SIGINT: the interrupt reaches it and the user is told
        code = (
            "import signal, time\n"
            "signal.signal(signal.SIGINT, lambda s, f: print('swallowed', flush=True))\n"
            "print('ready', flush=True)\n"
            "time.sleep(1)"
        )
        msg_id = kc.execute(code)
        seen = _wait_for_text(kc, msg_id, "ready")
        kc.control_channel.send(kc.session.msg("interrupt_request", {}))
        answer = check(kc.get_control_msg(timeout=TIMEOUT), "interrupt_reply")
        assert answer["content"]["status"] == "ok"
        reply = check(kc.get_shell_msg(timeout=TIMEOUT), "execute_reply", msg_id)
        assert reply["content"]["status"] == "ok"
        outputs = seen + collect_until_idle(kc, msg_id, seen_busy=True)
        assert "swallowed" in stdout_of(outputs)
        assert "installed" in stdout_of(outputs, "stderr")
        # SIG_IGN inside a busy cell: the interrupt cannot be delivered, and the user is told
        code = (
            "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
            "print('ready', flush=True)\n"
            "t = time.time()\n"
            "while time.time() - t < 1:\n"
            "    pass"
        )
        msg_id = kc.execute(code)
        seen = _wait_for_text(kc, msg_id, "ready")
        kc.control_channel.send(kc.session.msg("interrupt_request", {}))
        answer = check(kc.get_control_msg(timeout=TIMEOUT), "interrupt_reply")
        assert answer["content"]["status"] == "error"
        assert "not delivered" in answer["content"]["evalue"]
        outputs = seen + collect_until_idle(kc, msg_id, seen_busy=True)
        assert "not delivered" in stdout_of(outputs, "stderr")
        assert check(kc.get_shell_msg(timeout=TIMEOUT), "execute_reply", msg_id)["content"]["status"] == "ok"
        # a cell that leaves SIG_DFL or default_int_handler behind: the kernel's handler is
        # back for the next cell, so both kinds of interrupt still work
        for leftover, how in (("signal.SIG_DFL", "signal"), ("signal.default_int_handler", "message")):
            execute(kc, f"signal.signal(signal.SIGINT, {leftover})")
            msg_id = kc.execute("print('ready', flush=True)\ntime.sleep(30)")
            _wait_for_text(kc, msg_id, "ready")
            if how == "signal":
                km.interrupt_kernel()
            else:
                kc.control_channel.send(kc.session.msg("interrupt_request", {}))
                assert check(kc.get_control_msg(timeout=TIMEOUT), "interrupt_reply")["content"]["status"] == "ok"
            reply = check(kc.get_shell_msg(timeout=TIMEOUT), "execute_reply", msg_id)
            assert reply["content"]["ename"] == "KeyboardInterrupt"
        assert km.is_alive()
        still_serves(kc)


def _wait_for_text(kc: BlockingKernelClient, msg_id: str, text: str) -> list[dict]:
    """iopub messages of ``msg_id`` up to the stream that contains ``text``."""
    seen = []
    while True:
        msg = check(kc.get_iopub_msg(timeout=TIMEOUT))
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        seen.append(msg)
        if msg["msg_type"] == "stream" and text in msg["content"]["text"]:
            return seen


def _wait_running(kc: BlockingKernelClient, msg_id: str) -> None:
    while True:
        msg = check(kc.get_iopub_msg(timeout=TIMEOUT))
        if msg["msg_type"] == "execute_input" and msg["parent_header"]["msg_id"] == msg_id:
            return


def test_cell_defined_objects_pickle(kernel: tuple[KernelManager, BlockingKernelClient]) -> None:
    _, kc = kernel
    reply, outputs = execute(kc, "import pickle\nclass Point:\n    pass\ndef twice(x):\n    return 2 * x\np = Point(); p.x = 3\nprint(pickle.loads(pickle.dumps(p)).x, pickle.loads(pickle.dumps(twice))(4))")
    assert reply["content"]["status"] == "ok", reply["content"]
    assert stdout_of(outputs) == "3 8\n"
