"""The visual debugger over the wire: Debug Adapter Protocol requests in ``debug_request`` on
control, answered in ``debug_reply``, events in ``debug_event`` on iopub (JupyterLab's and VS
Code's debuggers send these same messages), served by debugpy.

ipykernel's own ``test_debugger.py`` also runs against this kernel
(``test_ipykernel_suites.py``); these tests check what it does not: that debugpy is loaded by the
first ``debug_request`` and not at start-up, the path of a cell's file, the stopped frame's
source and line, ``continue``, the variables' and rich views' contents, cells' names after a
session ends, and the reply when debugpy is missing.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jupyter_client.blocking.client import BlockingKernelClient
from kernel_harness import TIMEOUT, execute, running_kernel
from protocol_check import check

pytest.importorskip("debugpy", reason="the debugger needs debugpy (the debugger and test extras)")

ROOT = Path(__file__).resolve().parents[2]
CELL = "def f(a, b):\n    c = a + b\n    return c\n\nf(2, 3)"
_seq = [0]


def debug(kc: BlockingKernelClient, command: str, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
    """Send one DAP request in a debug_request on control; its (validated) debug_reply content."""
    _seq[0] += 1
    msg = kc.session.msg("debug_request", {"type": "request", "seq": _seq[0], "command": command,
                                           "arguments": arguments or {}})
    kc.control_channel.send(msg)
    deadline = time.monotonic() + TIMEOUT
    while True:
        reply = kc.get_control_msg(timeout=max(0.1, deadline - time.monotonic()))
        if reply["parent_header"].get("msg_id") == msg["header"]["msg_id"]:
            content: dict[str, Any] = check(reply, "debug_reply", msg["header"]["msg_id"])["content"]
            assert content["request_seq"] == _seq[0] and content["command"] == command
            return content


def start_session(kc: BlockingKernelClient) -> None:
    """What a front end sends when its user turns the debugger on."""
    reply = debug(kc, "initialize", {"clientID": "mycon-tests", "adapterID": "python", "pathFormat": "path",
                                     "linesStartAt1": True, "columnsStartAt1": True})
    assert reply["success"], reply
    assert debug(kc, "attach")["success"]


def wait_for_event(kc: BlockingKernelClient, event: str) -> dict[str, Any]:
    """The next ``debug_event`` of kind ``event`` on iopub (other messages validated, skipped)."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        try:
            msg = check(kc.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic())))
        except queue.Empty:
            pytest.fail(f"no {event!r} debug_event within {TIMEOUT} s")
        if msg["msg_type"] == "debug_event" and msg["content"]["event"] == event:
            return msg


def value_of(kc: BlockingKernelClient, expression: str) -> str:
    """``expression`` evaluated in the kernel, as text/plain."""
    msg_id = kc.execute("", silent=True, user_expressions={"v": expression})
    reply = check(kc.get_shell_msg(timeout=TIMEOUT), "execute_reply", msg_id)
    result = reply["content"]["user_expressions"]["v"]
    assert result["status"] == "ok", result
    text: str = result["data"]["text/plain"]
    return text


def result_of(kc: BlockingKernelClient, cell: str) -> str:
    """The text/plain of a cell's execute_result (debug_events it caused skipped)."""
    _, outputs = execute(kc, cell)
    results = [msg for msg in outputs if msg["msg_type"] == "execute_result"]
    assert len(results) == 1, outputs
    text: str = results[0]["content"]["data"]["text/plain"]
    return text


@pytest.fixture(scope="module")
def session_kernel() -> Iterator[BlockingKernelClient]:
    """One kernel for the session tests (each starts and ends its own session on it)."""
    with running_kernel("mycon") as (_, kc):
        yield kc


@pytest.fixture()
def debugging(session_kernel: BlockingKernelClient) -> Iterator[BlockingKernelClient]:
    """A kernel with a debug session on (initialize, attach); disconnected afterwards."""
    start_session(session_kernel)
    try:
        yield session_kernel
    finally:
        assert debug(session_kernel, "disconnect", {"restart": False, "terminateDebuggee": False})["success"]


def test_debugpy_is_loaded_by_the_first_debug_request_not_at_start_up() -> None:
    with running_kernel("mycon") as (_, kc):
        kc.kernel_info()
        info = check(kc.get_shell_msg(timeout=TIMEOUT), "kernel_info_reply")["content"]
        assert "debugger" in info["supported_features"]
        # (kernel_info asked the package whether debugpy is installed, without importing it)
        loaded = "sorted(m for m in __import__('sys').modules if m.startswith(('debugpy', 'kernel.debugger.')))"
        assert value_of(kc, loaded) == "[]"
        start_session(kc)
        assert value_of(kc, "'debugpy' in __import__('sys').modules") == "True"
        assert value_of(kc, "'kernel.debugger.session' in __import__('sys').modules") == "True"


def test_the_kernelspec_says_the_kernel_has_a_debugger() -> None:
    spec = json.loads((ROOT / "share/jupyter/kernels/mycon/kernel.json").read_text(encoding="utf-8"))
    assert spec["metadata"]["debugger"] is True


def test_debug_info_tells_how_cells_are_named_and_dump_cell_writes_there(debugging: BlockingKernelClient) -> None:
    from ipykernel.compiler import murmur2_x86  # the reference for the hash JupyterLab computes

    info = debug(debugging, "debugInfo")["body"]
    assert info["isStarted"] is True and info["hashMethod"] == "Murmur2" and info["tmpFileSuffix"] == ".py"
    path = debug(debugging, "dumpCell", {"code": CELL})["body"]["sourcePath"]
    assert path == f"{info['tmpFilePrefix']}{murmur2_x86(CELL, info['hashSeed'])}.py"
    assert Path(path).read_text(encoding="utf-8") == CELL
    assert debug(debugging, "source", {"source": {"path": path}})["body"]["content"] == CELL


# the cell, and the line of ``c = a + b`` in it (leading blank lines stay: IPython drops them,
# but the front end set its breakpoints on the lines as typed)
@pytest.mark.parametrize(("cell", "line"), [(CELL, 2), ("\n\n" + CELL, 4)], ids=["plain", "leading-blank-lines"])
def test_a_breakpoint_stops_the_cell_shows_its_frame_and_continue_ends_it(
    debugging: BlockingKernelClient, cell: str, line: int
) -> None:
    kc = debugging
    path = debug(kc, "dumpCell", {"code": cell})["body"]["sourcePath"]
    placed = debug(kc, "setBreakpoints", {"source": {"path": path}, "breakpoints": [{"line": line}]})
    assert placed["success"] and placed["body"]["breakpoints"][0]["verified"]
    assert debug(kc, "debugInfo")["body"]["breakpoints"] == [{"source": path, "breakpoints": [{"line": line}]}]
    assert debug(kc, "configurationDone")["success"]
    msg_id = kc.execute(cell)
    stopped = wait_for_event(kc, "stopped")
    assert stopped["content"]["body"]["reason"] == "breakpoint"
    assert stopped["parent_header"]["msg_id"] == msg_id  # the cell that stopped
    thread = stopped["content"]["body"]["threadId"]
    assert debug(kc, "debugInfo")["body"]["stoppedThreads"] == [thread]

    frames = debug(kc, "stackTrace", {"threadId": thread})["body"]["stackFrames"]
    assert (frames[0]["name"], frames[0]["line"], frames[0]["source"]["path"]) == ("f", line, path)
    assert [frame["source"]["path"] for frame in frames[:2]] == [path, path]
    # none of the kernel's own frames between the cell and the process's start (the kernelspec's
    # ``python -c`` line, "<string>", is the bottom frame)
    kernel_dir = str(ROOT / "kernel")
    assert not [frame for frame in frames if frame["source"]["path"].startswith(kernel_dir)], frames
    scopes = debug(kc, "scopes", {"frameId": frames[0]["id"]})["body"]["scopes"]
    local_ref = next(scope for scope in scopes if scope["name"] == "Locals")["variablesReference"]
    local_vars = {var["name"]: var for var in debug(kc, "variables", {"variablesReference": local_ref})["body"]["variables"]}
    assert (local_vars["a"]["value"], local_vars["a"]["type"], local_vars["b"]["value"]) == ("2", "int", "3")

    rich = debug(kc, "richInspectVariables", {"variableName": "b", "frameId": frames[0]["id"]})
    assert rich["success"] and rich["body"]["data"] == {"text/plain": "3"}
    copied = debug(kc, "copyToGlobals", {"srcVariableName": "a", "dstVariableName": "a_copy",
                                         "srcFrameId": frames[0]["id"]})
    assert copied["success"], copied

    assert debug(kc, "next", {"threadId": thread})["success"]  # a step: to ``return c``
    assert wait_for_event(kc, "stopped")["content"]["body"]["reason"] == "step"
    frames = debug(kc, "stackTrace", {"threadId": thread})["body"]["stackFrames"]
    assert (frames[0]["name"], frames[0]["line"]) == ("f", line + 1)

    assert debug(kc, "continue", {"threadId": thread})["success"]
    reply = check(kc.get_shell_msg(timeout=TIMEOUT), "execute_reply", msg_id)
    assert reply["content"]["status"] == "ok"
    assert value_of(kc, "a_copy") == "2"  # copyToGlobals put it in the user namespace


def test_variables_and_rich_views_between_cells(debugging: BlockingKernelClient) -> None:
    kc = debugging
    execute(kc, "class Page:\n    def _repr_html_(self):\n        return '<b>page</b>'\npage = Page()\nword = 'hello'")
    found = {var["name"]: var for var in debug(kc, "inspectVariables")["body"]["variables"]}
    assert found["word"]["value"] == "'hello'" and found["word"]["type"] == "str"
    assert not {"In", "Out", "_ih", "_i1", "__builtins__"} & set(found)  # history bookkeeping is hidden
    rich = debug(kc, "richInspectVariables", {"variableName": "page"})["body"]["data"]
    assert rich["text/html"] == "<b>page</b>"
    refused = debug(kc, "copyToGlobals", {"srcVariableName": "word", "dstVariableName": "x'] or 1 or globals()['y",
                                          "srcFrameId": 0})
    assert refused["success"] is False and "identifier" in refused["message"]


def test_cells_get_their_usual_names_again_when_the_session_ends(session_kernel: BlockingKernelClient) -> None:
    kc = session_kernel
    own_file = "__import__('sys')._getframe().f_code.co_filename"
    start_session(kc)
    prefix = debug(kc, "debugInfo")["body"]["tmpFilePrefix"]
    assert result_of(kc, own_file).strip("'").startswith(prefix)
    assert debug(kc, "disconnect", {"restart": False})["success"]
    assert debug(kc, "debugInfo")["body"]["isStarted"] is False
    assert not result_of(kc, own_file).strip("'").startswith(prefix)


def test_without_debugpy_the_kernel_says_what_to_install(tmp_path: Path) -> None:
    """debugpy missing: kernel_info offers no debugger and a debug_request is refused in words."""
    connection_file = tmp_path / "kernel.json"
    start = ("import sys; sys.modules['debugpy'] = None; sys.path[:1] = [p for p in sys.path[:1] if p]; "
             "from kernel.app import main; main()")
    process = subprocess.Popen([sys.executable, "-c", start, "-f", str(connection_file)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tempfile.gettempdir(),
                               env={**os.environ, "PYTHONPATH": str(ROOT)})
    kc = BlockingKernelClient(connection_file=str(connection_file))
    try:
        deadline = time.monotonic() + TIMEOUT
        while not connection_file.exists() or not connection_file.read_text():
            assert time.monotonic() < deadline, "the kernel wrote no connection file"
            time.sleep(0.05)
        kc.load_connection_file()
        kc.start_channels()
        kc.wait_for_ready(timeout=TIMEOUT)
        kc.kernel_info()
        info = check(kc.get_shell_msg(timeout=TIMEOUT), "kernel_info_reply")["content"]
        assert "debugger" not in info["supported_features"]
        reply = debug(kc, "initialize", {"clientID": "mycon-tests", "adapterID": "python"})
        assert reply["success"] is False
        assert "pip install 'mycon[debugger]'" in reply["message"]
    finally:
        kc.stop_channels()
        process.kill()
        process.wait(timeout=TIMEOUT)


def test_cell_file_names_hash_as_ipykernel_and_jupyterlab_do() -> None:
    from ipykernel.compiler import murmur2_x86  # the reference

    from kernel.debugger.cells import HASH_SEED, murmur2

    for code in ("", "a", "ab", "abc", "abcd", CELL, "print('é, 日本, 🐍')\n" * 3):
        assert murmur2(code.encode("utf-8"), HASH_SEED) == murmur2_x86(code, HASH_SEED), code


def test_cell_directories_of_killed_kernels_are_removed_at_the_next_start() -> None:
    from kernel.debugger import cells

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    dead = Path(tempfile.gettempdir()) / f"{cells.DIRECTORY_PREFIX}{gone.stdout.strip()}"
    alive = Path(tempfile.gettempdir()) / f"{cells.DIRECTORY_PREFIX}{os.getppid()}"  # our parent runs on
    made = [path for path in (dead, alive) if not path.exists()]
    for path in made:
        path.mkdir()
        (path / "1.py").write_text("x = 1\n", encoding="utf-8")
    try:
        cells.remove_stale()
        assert not dead.exists()
        assert alive.exists()
    finally:
        for path in made:
            if path.exists():
                (path / "1.py").unlink()
                path.rmdir()


def test_the_debugger_starts_on_an_encrypted_kernel() -> None:
    """The kernel asks itself (over its own shell socket, a client like any other) to start
    debugpy: with CurveZMQ on, that request must be encrypted too."""
    with running_kernel("mycon", transport_encryption="required") as (km, kc):
        assert km.get_connection_info().get("curve_publickey")
        start_session(kc)
        assert debug(kc, "debugInfo")["body"]["isStarted"] is True
        assert debug(kc, "disconnect", {"restart": False})["success"]


def test_turning_the_debugger_on_during_a_cell_is_refused_at_once_and_works_after() -> None:
    """debugpy must start in the main thread, between cells: the control thread says so rather
    than wait (it must stay free for interrupts)."""
    with running_kernel("mycon") as (km, kc):
        msg_id = kc.execute("import time\nprint('started', flush=True)\ntime.sleep(60)")
        while True:
            msg = check(kc.get_iopub_msg(timeout=TIMEOUT))
            if msg["msg_type"] == "stream" and msg["parent_header"].get("msg_id") == msg_id:
                break
        asked = time.monotonic()
        reply = debug(kc, "initialize", {"clientID": "mycon-tests", "adapterID": "python"})
        assert time.monotonic() - asked < 5
        assert reply["success"] is False and "running a cell" in reply["message"]
        km.interrupt_kernel()
        assert check(kc.get_shell_msg(timeout=TIMEOUT), "execute_reply", msg_id)["content"]["status"] == "error"
        start_session(kc)


def test_turning_the_debugger_off_at_a_breakpoint_lets_the_cell_finish(session_kernel: BlockingKernelClient) -> None:
    kc = session_kernel
    start_session(kc)
    path = debug(kc, "dumpCell", {"code": CELL})["body"]["sourcePath"]
    assert debug(kc, "setBreakpoints", {"source": {"path": path}, "breakpoints": [{"line": 2}]})["success"]
    msg_id = kc.execute(CELL)
    wait_for_event(kc, "stopped")
    assert debug(kc, "disconnect", {"restart": False, "terminateDebuggee": False})["success"]
    reply = check(kc.get_shell_msg(timeout=TIMEOUT), "execute_reply", msg_id)
    assert reply["content"]["status"] == "ok"
    assert debug(kc, "debugInfo")["body"]["stoppedThreads"] == []
    assert result_of(kc, "f(4, 5)") == "9"  # and cells run untroubled after
