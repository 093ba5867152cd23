"""``mycon --existing FILE --ssh [user@]host[:port]``: the console reaches a kernel through ssh
tunnels, against the real test sshd on loopback from tests/multi/test_ssh.py."""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.append(os.path.join(os.path.dirname(__file__), "..", "multi"))  # after tests/console: its conftest wins

from term import Term, need_kernel  # noqa: E402
from test_ssh import SshServer, assert_tunnelled, sshd  # noqa: E402, F401

pytestmark = pytest.mark.timeout(120)



@pytest.fixture
def kernel(tmp_path: Path) -> Iterator[tuple[str, int]]:
    """A headless mycon kernel: (connection file, pid)."""
    need_kernel("mycon")
    from jupyter_client.manager import KernelManager

    km = KernelManager(kernel_name="mycon")
    km.connection_file = str(tmp_path / "kernel-remote.json")
    km.start_kernel()
    try:
        yield km.connection_file, int(km.provisioner.pid)  # type: ignore[union-attr]
    finally:
        km.shutdown_kernel(now=True)


def test_console_through_ssh_tunnels(sshd: SshServer, kernel: tuple[str, int]) -> None:  # noqa: F811
    cf, pid = kernel
    t = Term("--existing", cf, "--ssh", sshd.address, env=sshd.env)
    try:
        t.expect("To attach another terminal")
        t.prompt()
        t.run("import os; os.getpid()")
        m = t.expect(re.compile(r"Out\[\d+\]: (\d+)"))
        assert isinstance(m, re.Match) and int(m.group(1)) == pid
        t.prompt()
    finally:
        t.close()
    info = json.loads(Path(cf).read_text())
    names = ("shell_port", "iopub_port", "control_port", "hb_port")  # hb: the watcher pings
    assert_tunnelled(sshd, {info[n] for n in names})


def test_ssh_without_existing_is_a_usage_error() -> None:
    t = Term("--ssh", "example.invalid")
    assert t.wait_exit() == 2
    assert "--ssh goes with --existing" in t.raw
