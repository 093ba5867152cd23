"""``embed_kernel()``: a kernel inside a running program, driven by a jupyter_client client."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from jupyter_client.blocking.client import BlockingKernelClient
from multi_support import WAIT, Lines, client_for

IN_FUNCTION = """
from kernel import embed_kernel

secret = 41

def work():
    local_value = "hello"
    items = [1, 2]
    import builtins
    before = (builtins.input, builtins.exit)
    embed_kernel()
    print("after embed:", items, flush=True)
    assert not hasattr(builtins, "display") and (builtins.input, builtins.exit) == before

work()
print("done", secret, flush=True)
"""

AT_MODULE_LEVEL = """
from kernel import embed_kernel

counter = 1
embed_kernel()
print("counter is", counter, flush=True)
"""


@contextmanager
def program(tmp_path, source: str) -> Iterator[tuple[subprocess.Popen[str], Lines, Lines, str]]:
    """Run ``source`` as a program; wait for the attach line; the process, its output, the file."""
    script = tmp_path / "program.py"
    script.write_text(textwrap.dedent(source))
    process = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, cwd=str(tmp_path),
    )
    out, err = Lines(process.stdout), Lines(process.stderr)
    try:
        line = out.until(lambda text: "connection file:" in text)
        path = line.split("connection file: ", 1)[1].strip()
        attach = out.until(lambda text: text.strip().startswith("mycon --existing")).strip()
        assert attach == f"mycon --existing {os.path.basename(path)}"
        yield process, out, err, path
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=WAIT)


def run(client: BlockingKernelClient, code: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Execute ``code``; its reply content and its iopub outputs (busy to idle)."""
    msg_id = client.execute(code)
    outputs = []
    while True:
        msg = client.get_iopub_msg(timeout=WAIT)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
        if msg["msg_type"] in ("stream", "execute_result", "error"):
            outputs.append(msg)
    reply = client.get_shell_msg(timeout=WAIT)
    assert reply["parent_header"]["msg_id"] == msg_id
    return reply["content"], outputs


def result(outputs: list[dict[str, Any]]) -> str:
    return next(m["content"]["data"]["text/plain"] for m in outputs if m["msg_type"] == "execute_result")


def test_embedded_kernel_sees_the_call_site_and_returns_on_shutdown(tmp_path, runtime):
    with program(tmp_path, IN_FUNCTION) as (process, out, err, path):
        assert os.path.dirname(path) == str(runtime)
        with client_for(path) as client:
            reply, outputs = run(client, "secret + 1, local_value")
            assert reply["status"] == "ok"
            assert result(outputs) == "(42, 'hello')"
            reply, outputs = run(client, "items.append(3)\nprint('printed in the kernel')")
            streams = "".join(m["content"]["text"] for m in outputs if m["msg_type"] == "stream")
            assert streams == "printed in the kernel\n"  # to the client, not the program's stdout
            reply, outputs = run(client, "1/0")
            assert reply["status"] == "error" and reply["ename"] == "ZeroDivisionError"
            client.shutdown()
            assert client.control_channel.get_msg(timeout=WAIT)["content"]["status"] == "ok"
        # the program goes on after the call, with what the kernel did to its objects
        assert out.until(lambda text: text.startswith("after embed")) == "after embed: [1, 2, 3]\n"
        assert out.until(lambda text: text.startswith("done")) == "done 41\n"
        assert process.wait(timeout=WAIT) == 0
        assert "printed in the kernel" not in "".join(out.seen)
        assert not os.path.exists(path)
        assert "Traceback" not in err.rest()


def test_interrupt_from_a_client_then_ctrl_c_in_the_program(tmp_path, runtime):
    """A client's interrupt stops the running cell only; Ctrl-C at the program ends serving."""
    with program(tmp_path, AT_MODULE_LEVEL) as (process, out, err, path):
        with client_for(path) as client:
            msg_id = client.execute("import time\nprint('looping', flush=True)\nwhile True:\n    time.sleep(0.01)")
            while True:
                msg = client.get_iopub_msg(timeout=WAIT)
                if msg["msg_type"] == "stream" and "looping" in msg["content"]["text"]:
                    break
            client.control_channel.send(client.session.msg("interrupt_request", {}))
            reply = client.get_shell_msg(timeout=WAIT)
            assert reply["parent_header"]["msg_id"] == msg_id
            assert reply["content"]["ename"] == "KeyboardInterrupt"
            # still serving after the interrupt; module-level names are the program's own
            reply, outputs = run(client, "counter += 41\ncounter")
            assert result(outputs) == "42"
            process.send_signal(signal.SIGINT)  # Ctrl-C at the program's terminal, kernel idle
            assert process.wait(timeout=WAIT) == 0, err.rest()
            assert out.until(lambda text: text.startswith("counter is")) == "counter is 42\n"
        assert not os.path.exists(path)


def test_ctrl_c_taken_by_another_thread_of_the_program_still_ends_serving(tmp_path, runtime):
    """SIGINT may land on any thread of the program; the idle kernel must not wait for a request.

    The signal's Python handler runs in the main thread only when it next executes bytecode,
    which a receive blocked without a bound never reaches (CI saw the program never leave).
    """
    with program(tmp_path, AT_MODULE_LEVEL) as (process, out, err, path):
        with client_for(path) as client:
            reply, outputs = run(client, (
                "import signal, threading\n"
                "threading.Timer(0.3, lambda: signal.pthread_kill(threading.get_ident(), signal.SIGINT)).start()"
            ))
            assert reply["status"] == "ok"
            assert process.wait(timeout=WAIT) == 0, err.rest()
            assert out.until(lambda text: text.startswith("counter is")) == "counter is 1\n"
        assert not os.path.exists(path)


def test_embed_kernel_is_imported_lazily(tmp_path):
    code = textwrap.dedent("""
        import sys, kernel
        assert "kernel.embed" not in sys.modules and "zmq" not in sys.modules
        from kernel import embed_kernel
        assert embed_kernel.__module__ == "kernel.embed"
        try:
            kernel.no_such_name
        except AttributeError as e:
            print(e)
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=WAIT)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "module 'kernel' has no attribute 'no_such_name'\n"


def test_embed_kernel_outside_the_main_thread_says_so(tmp_path):
    code = textwrap.dedent("""
        import threading
        from kernel import embed_kernel
        problems = []
        def serve():
            try:
                embed_kernel()
            except RuntimeError as e:
                problems.append(str(e))
        thread = threading.Thread(target=serve)
        thread.start(); thread.join()
        print(problems)
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=WAIT)
    assert done.stdout == "['embed_kernel() must be called from the main thread']\n"


def test_mycon_exec_reaches_an_embedded_kernel_and_sigterm_ends_serving(tmp_path, runtime, mycon):
    with program(tmp_path, IN_FUNCTION) as (process, out, err, path):
        done = mycon("exec", "--existing", os.path.basename(path), "print(secret, local_value)")
        assert (done.returncode, done.stdout) == (0, "41 hello\n")
        listed = mycon("list")
        assert "alive   mycon" in listed.stdout
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=WAIT) == 0
        assert not os.path.exists(path)
