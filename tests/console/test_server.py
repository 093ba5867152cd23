"""``mycon --server URL``: kernels inside a real Jupyter server (jupyter_server, started here),
reached over its REST API and one websocket per console."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

sys.path.append(os.path.join(os.path.dirname(__file__), "..", "multi"))  # after tests/console: its conftest wins

from multi_support import Lines, run_mycon  # noqa: E402
from ports import free_ports, wait_listening  # noqa: E402
from term import CTRL_C, CTRL_D, Term, need_kernel, plain  # noqa: E402

pytestmark = pytest.mark.timeout(120)
WAIT = 30.0


@dataclass
class JupyterServer:
    """A running jupyter_server on loopback, with a token."""

    port: int
    token: str
    log: Lines

    @property
    def url(self) -> str:
        """The address as the server's log prints it (a page and the token in the query)."""
        return f"http://127.0.0.1:{self.port}/lab?token={self.token}"

    def api(self, method: str, path: str, body: Any = None) -> Any:
        """One REST call with the token; the decoded answer."""
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/api/{path}", method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=WAIT) as response:
            text = response.read()
        return json.loads(text) if text else None

    def kernels(self) -> list[dict[str, Any]]:
        return list(self.api("GET", "kernels"))


@pytest.fixture
def server(tmp_path: Path) -> Iterator[JupyterServer]:
    pytest.importorskip("jupyter_server")
    need_kernel("mycon")
    port = free_ports(1)[0]
    token = secrets.token_hex(16)
    process = subprocess.Popen(
        [sys.executable, "-m", "jupyter_server", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
         "--ServerApp.port_retries=0", "--allow-root", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={tmp_path}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
    )
    log = Lines(process.stderr)
    try:
        log.until(lambda line: f"127.0.0.1:{port}/" in line and "token=" in line, WAIT)
        wait_listening(port, process, WAIT)  # it logs its URL just before it binds
        yield JupyterServer(port, token, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _ready(*terms: Term) -> None:
    """Wait until each console is on its kernel: the banner (the prompt comes up before it)."""
    for term in terms:
        term.expect("To attach another terminal")
        term.prompt()


def _restart_confirmed(term: Term) -> None:
    """Type the restart command, say yes, wait until the console says it is done."""
    term.run("%mycon restart")
    term.expect("Restart the kernel?")
    term.send("y\r")
    term.expect("(kernel restarted)")


def _deleted_then_replaced(server: JupyterServer, term: Term, kernel: dict[str, Any], restart: bool) -> None:
    """Delete ``kernel`` behind the console's back; once it says so (and, with ``restart``, is
    told to restart), a cell runs on a new kernel of the same kernelspec."""
    server.api("DELETE", f"kernels/{kernel['id']}")
    term.expect("the kernel is no longer in the Jupyter server", timeout=10)
    if restart:
        term.expect("`%mycon restart` starts it again")
        _restart_confirmed(term)
    else:
        term.expect("(kernel restarted)")
    term.run("print('on', 'a new one')")
    term.expect("on a new one")
    (new,) = server.kernels()
    assert new["id"] != kernel["id"] and new["name"] == "mycon"


def _leave(term: Term) -> int:
    term.send(CTRL_D)
    term.expect("exit")
    term.send("y\r")
    return term.wait_exit()


def test_console_starts_a_kernel_in_the_server_and_shuts_it_down_on_exit(server: JupyterServer) -> None:
    term = Term("--server", server.url)  # no --kernel: mycon, as the server has it (its default: python3)
    try:
        term.expect("Kernel mycon (--kernel NAME starts another")  # which one, said
        term.expect("To attach another terminal: mycon --server http://127.0.0.1:")
        term.prompt()  # (the kernel is up: the banner came)
        term.run("print(6 * 7)")
        term.expect("42")
        kernels = server.kernels()
        assert [k["name"] for k in kernels] == ["mycon"]
        term.run("import os; os.environ.get('JPY_SESSION_NAME', 'served')")
        term.expect("Out[2]: ")
        assert _leave(term) == 0
        assert server.kernels() == []  # we started it: we shut it down
    finally:
        term.close()


def test_attached_consoles_share_a_server_kernel_live_and_interrupt_it(server: JupyterServer) -> None:
    kernel = server.api("POST", "kernels", {"name": "mycon"})
    first = Term("--server", server.url, "--existing")  # bare: the most recently active kernel
    second = Term("--server", f"http://127.0.0.1:{server.port}/", "--token", server.token, "--existing", kernel["id"][:8])
    try:
        _ready(first, second)
        first.run("shared = 'from the first'; print(shared.upper())")
        first.expect("FROM THE FIRST")
        second.expect(re.compile(r"\[client \d+\] In \[1\]: shared = 'from the first'"))
        second.expect("FROM THE FIRST")
        second.run("import time; time.sleep(60)")
        first.expect("time.sleep(60)")  # the first sees it start
        second.send(CTRL_C)
        second.expect("KeyboardInterrupt")
        second.prompt()
        second.run("print(shared, 'seen by the second')")
        second.expect("from the first seen by the second")
        assert _leave(first) == 0
        assert _leave(second) == 0
        assert [k["id"] for k in server.kernels()] == [kernel["id"]]  # attached: the kernel stays
    finally:
        first.close()
        second.close()


def test_a_kernel_that_dies_in_the_server_is_restarted_and_the_console_goes_on(server: JupyterServer) -> None:
    term = Term("--server", server.url, "--kernel", "mycon")
    try:
        _ready(term)
        term.run("lost = 1")
        term.prompt()
        term.run("import os; os._exit(1)")
        term.expect("the kernel died; the Jupyter server is restarting it", timeout=10)
        term.prompt()
        term.run("print('after', 'lost' in dir())")
        term.expect("after False")
        assert len(server.kernels()) == 1
    finally:
        term.close()


def test_a_kernel_shut_down_behind_the_owners_back_is_started_afresh(server: JupyterServer) -> None:
    term = Term("--server", server.url, "--kernel", "mycon")
    try:
        _ready(term)
        (kernel,) = server.kernels()
        _deleted_then_replaced(server, term, kernel, restart=False)
    finally:
        term.close()


def test_an_attached_console_can_start_a_deleted_server_kernel_again(server: JupyterServer) -> None:
    kernel = server.api("POST", "kernels", {"name": "mycon"})
    term = Term("--server", server.url, "--existing", kernel["id"])
    try:
        _ready(term)
        _deleted_then_replaced(server, term, kernel, restart=True)
    finally:
        term.close()


def test_restart_command_restarts_the_server_kernel_for_every_console(server: JupyterServer) -> None:
    kernel = server.api("POST", "kernels", {"name": "mycon"})
    owner = Term("--server", server.url, "--existing", kernel["id"])
    other = Term("--server", server.url, "--existing", kernel["id"])
    try:
        _ready(owner, other)
        owner.run("kept = 1")
        owner.prompt()
        _restart_confirmed(owner)
        other.expect("restarting")  # the other console is told, on the same kernel id
        owner.prompt()
        owner.run("print('kept' in dir())")
        owner.expect("False")
        assert "another client is restarting" not in plain(owner.raw)  # the server restarted it for us
        owner.run("import os; os._exit(1)")  # a death soon after our restart is one all the same
        owner.expect("the kernel died; the Jupyter server is restarting it", timeout=10)
        owner.prompt()
        owner.run("print('after', 'the death')")
        owner.expect("after the death")
        assert [k["id"] for k in server.kernels()] == [kernel["id"]]
    finally:
        owner.close()
        other.close()


def _failure(*args: str) -> tuple[int, str]:
    """Run the console in a terminal until it gives up (before drawing any prompt); its exit
    status and what it printed."""
    term = Term(*args, env={"JUPYTER_TOKEN": ""})
    try:
        status = term.wait_exit()
    finally:
        term.close()
    said = plain(term.raw).strip()
    assert "In [" not in said, said
    return status, said


def test_server_mistakes_are_one_line_each(server: JupyterServer) -> None:
    status, said = _failure("--server", f"http://127.0.0.1:{server.port}/", "--token", "wrong")
    assert status == 2 and "refused us (403)" in said and "--token" in said, said
    assert "Traceback" not in said and len(said.splitlines()) == 1, said

    status, said = _failure("--server", server.url, "--existing")
    assert status == 2 and "runs no kernel" in said, said

    status, said = _failure("--server", server.url, "--kernel", "no-such-kernel")
    assert status == 2 and "cannot start kernel 'no-such-kernel'" in said, said
    assert "mycon" in said  # the kernels it has are named

    status, said = _failure("--server", f"http://127.0.0.1:{free_ports(1)[0]}/")
    assert status == 1 and "cannot reach a Jupyter server at http://127.0.0.1:" in said, said
    assert "Traceback" not in said and len(said.splitlines()) == 1, said

    for args, words in (
        (("--server", "ftp://x/"), "http:// or https://"),
        (("--server", server.url, "--ssh", "host"), "--ssh and --server do not go together"),
        (("--token", "t"), "--token goes with --server"),
    ):
        done = run_mycon(*args)
        assert done.returncode == 2, done.stderr
        assert words in done.stderr and "Traceback" not in done.stderr


def test_parse_server_reads_what_a_server_log_prints() -> None:
    from console.server import parse_server

    address = parse_server("http://127.0.0.1:8888/lab/tree/x.ipynb?token=abc")
    assert (address.base, address.token) == ("http://127.0.0.1:8888/", "abc")
    hub = parse_server("https://hub.example/user/ann/lab?token=t", token="given")
    assert (hub.base, hub.token) == ("https://hub.example/user/ann/", "given")
    assert hub.websocket("kernels/k/channels") == "wss://hub.example/user/ann/api/kernels/k/channels"
    assert parse_server("localhost:9999").base == "http://localhost:9999/"


def test_frames_from_the_server_decode_or_are_refused() -> None:
    import struct

    from console.server import decode_frame, encode_message

    header = {"msg_id": "1", "msg_type": "stream", "session": "s", "username": "u", "date": "2026-12-03T00:00:00Z", "version": "5.3"}
    text = json.dumps({"header": header, "parent_header": {}, "metadata": {}, "content": {"name": "stdout", "text": "hi"}, "channel": "iopub"})
    channel, msg = decode_frame(text)
    assert channel == "iopub" and msg["content"]["text"] == "hi" and msg["buffers"] == []
    body = text.encode()
    binary = struct.pack("!III", 2, 12, 12 + len(body)) + body + b"BUF"
    channel, msg = decode_frame(binary)
    assert channel == "iopub" and msg["buffers"] == [b"BUF"]
    for bad in ("[]", "{}", json.dumps({"header": header, "channel": "nowhere"}), b"\x00", b"\x00\x00\x00\x09"):
        with pytest.raises(ValueError):
            decode_frame(bad)
    sent = json.loads(encode_message("shell", {"header": header, "content": {"code": "1"}}))
    assert sent["channel"] == "shell" and sent["parent_header"] == {} and sent["content"] == {"code": "1"}



def test_exec_runs_code_in_a_server_kernel_that_a_console_shows_live(server: JupyterServer) -> None:
    kernel = server.api("POST", "kernels", {"name": "mycon"})
    watcher = Term("--server", server.url, "--existing", kernel["id"])
    try:
        _ready(watcher)
        done = run_mycon("exec", "--server", server.url, "value = 6 * 7; print('from exec', value); value")
        assert done.returncode == 0, done.stderr
        assert done.stdout == "from exec 42\n42\n"
        watcher.expect(re.compile(r"\[client \d+\] In \[1\]: value = 6 \* 7"))
        watcher.expect("from exec 42")

        failed = run_mycon("--server", server.url, "--existing", kernel["id"][:8], "exec", "1/0")
        assert failed.returncode == 1 and "ZeroDivisionError" in failed.stderr

        asked = run_mycon("exec", "--server", server.url, "print('hello', input('name? '))", stdin="Ada\n")
        assert asked.returncode == 0 and "hello Ada" in asked.stdout, asked.stderr

        both = run_mycon("exec", "--server", server.url, "--ssh", "host", "1")
        assert both.returncode == 2 and "--ssh and --server do not go together" in both.stderr
        none = run_mycon("exec", "--server", server.url, "--existing", "nosuchid", "1")
        assert none.returncode == 2 and "no kernel 'nosuchid'" in none.stderr and "Traceback" not in none.stderr
    finally:
        watcher.close()


def test_without_kernel_the_server_starts_mycon_if_it_has_it_else_its_default() -> None:
    from console.errors import UserInputError
    from console.server import choose_kernel

    both = {"default": "python3", "kernelspecs": {"python3": {}, "mycon": {}}}
    assert choose_kernel(both, "", "here") == ("mycon", "preferred")
    assert choose_kernel({"default": "ir", "kernelspecs": {"ir": {}, "python3": {}}}, "", "here") == ("ir", "default")
    assert choose_kernel(both, "python3", "here") == ("python3", "")
    with pytest.raises(UserInputError, match=r"cannot start kernel 'julia' \(it has: mycon, python3\)"):
        choose_kernel(both, "julia", "here")
    assert choose_kernel("not json we know", "", "here") == ("", "")  # the server decides


def test_side_cells_and_subshell_cells_through_the_server(server: JupyterServer) -> None:
    """Kernel subshells over the server's websocket: the header's subshell_id and the control
    requests pass through, so a side cell answers while another console's cell runs, and a
    ``--subshell`` console runs its cells meanwhile."""
    kernel = server.api("POST", "kernels", {"name": "python3"})
    busy = Term("--server", server.url, "--existing", kernel["id"])
    side = Term("--server", server.url, "--existing", kernel["id"], "--subshell")
    try:
        _ready(busy, side)
        busy.run("import time; x = 0")
        busy.prompt()
        busy.run("for i in range(300): x = i; time.sleep(0.1); print('count' 'ing') if i == 2 else None")
        side.expect("counting")
        side.run("%mycon side x + 10**3")
        side.expect(re.compile(r"\b1[0-2]\d\d\b"), timeout=8)
        side.run("print('own' ' cell', x < 300)")
        side.expect("own cell True", timeout=8)  # in its subshell, while the other cell runs
        busy.send(CTRL_C)
        busy.expect("KeyboardInterrupt")
    finally:
        busy.close()
        side.close()
