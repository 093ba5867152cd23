"""``mycon --server URL`` on a Jupyter Kernel Gateway (one, started here with a token, for the
module): the REST and websocket API of a Jupyter server, but no pages, no listing of its
kernels (``api/kernels`` and ``api/sessions`` answer 403) and 401 for a wrong token."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.append(os.path.join(os.path.dirname(__file__), "..", "multi"))  # after tests/console: its conftest wins

from multi_support import Lines, run_mycon  # noqa: E402
from ports import free_ports, wait_listening  # noqa: E402
from term import CTRL_C, CTRL_D, Term, need_kernel, plain  # noqa: E402

pytestmark = pytest.mark.timeout(120)
WAIT = 30.0


@dataclass
class Gateway:
    """A running Kernel Gateway on loopback; its token is KG_AUTH_TOKEN."""

    port: int
    token: str

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def status(self, path: str) -> int:
        """The HTTP status of GET ``api/<path>`` with the token."""
        request = urllib.request.Request(f"{self.base}api/{path}", headers={"Authorization": f"token {self.token}"})
        try:
            with urllib.request.urlopen(request, timeout=WAIT) as response:
                json.loads(response.read() or b"null")
                return int(response.status)
        except urllib.error.HTTPError as e:
            return int(e.code)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    pytest.importorskip("kernel_gateway")
    need_kernel("mycon")
    port = free_ports(1)[0]
    token = secrets.token_hex(16)
    folder: Path = tmp_path_factory.mktemp("gateway")
    process = subprocess.Popen(
        [sys.executable, "-m", "kernel_gateway", "--KernelGatewayApp.ip=127.0.0.1",
         f"--KernelGatewayApp.port={port}", "--KernelGatewayApp.port_retries=0"],
        env={**os.environ, "KG_AUTH_TOKEN": token}, cwd=folder,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    log = Lines(process.stderr)  # read all along: a full pipe would stop the gateway
    try:
        log.until(lambda line: f"127.0.0.1:{port}" in line, WAIT)
        wait_listening(port, process, WAIT)
        yield Gateway(port, token)
    finally:
        process.terminate()
        try:
            process.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _leave(term: Term) -> int:
    term.send(CTRL_D)
    term.expect("exit")
    term.send("y\r")
    return term.wait_exit()


def test_consoles_and_exec_share_a_gateway_kernel(gateway: Gateway) -> None:
    assert gateway.status("kernels") == 403  # the difference handled here: it keeps its list
    owner = Term("--server", f"{gateway.base}?token={gateway.token}")
    other: Term | None = None
    try:
        owner.expect("Kernel mycon (")  # no --kernel: mycon, which the gateway has (default: python3)
        hint = owner.expect(re.compile(r"--existing ([0-9a-f-]{36}) \(and the same token\)"))
        assert isinstance(hint, re.Match)
        kernel_id = hint.group(1)
        owner.prompt()
        owner.run("shared = 6 * 7; print('owner has', shared)")
        owner.expect("owner has 42")

        other = Term("--server", gateway.base, "--token", gateway.token, "--existing", kernel_id)
        other.expect("To attach another terminal")
        other.prompt()
        other.run("print('other sees', shared)")
        other.expect("other sees 42")
        owner.expect(re.compile(r"\[client \d+\] In \[2\]: print\('other sees', shared\)"))
        other.run("import time; time.sleep(60)")
        owner.expect("time.sleep(60)")
        other.send(CTRL_C)  # interrupted through the gateway's REST API
        other.expect("KeyboardInterrupt")
        other.prompt()

        done = run_mycon("exec", "--server", gateway.base, "--token", gateway.token, "--existing", kernel_id, "print('exec sees', shared)")
        assert (done.returncode, done.stdout) == (0, "exec sees 42\n"), done.stderr
        owner.expect("exec sees 42")  # live in the consoles too

        for args in (("exec", "--server", gateway.base, "--token", gateway.token, "1"),
                     ("--server", gateway.base, "--token", gateway.token, "--existing", kernel_id[:8])):
            refused = run_mycon(*args)
            assert refused.returncode == 2 and "does not list its kernels" in refused.stderr, refused.stderr
            assert len(refused.stderr.splitlines()) == 1 and "Traceback" not in refused.stderr

        assert _leave(other) == 0
        assert gateway.status(f"kernels/{kernel_id}") == 200  # attached: the kernel stays
        # it saw another client and cannot count who is left behind a gateway: it asks
        owner.send(CTRL_D)
        owner.expect("Leave it running [Enter], shut it down for everyone")
        owner.send("s\r")
        assert owner.wait_exit() == 0
        assert gateway.status(f"kernels/{kernel_id}") == 404  # started by the owner: shut down
    finally:
        owner.close()
        if other is not None:
            other.close()


def test_a_token_the_gateway_refuses_fails_before_any_prompt(gateway: Gateway) -> None:
    term = Term("--server", f"{gateway.base}?token=wrong", env={"JUPYTER_TOKEN": ""})
    try:
        status = term.wait_exit()
    finally:
        term.close()
    screen = plain(term.raw).strip()
    assert status == 2 and "In [" not in screen and len(screen.splitlines()) == 1, screen
    assert screen.startswith("mycon: ") and "refused us (401): the token was not accepted" in screen, screen
