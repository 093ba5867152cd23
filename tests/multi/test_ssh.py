"""``--ssh``: the five channels through ssh tunnels, against a real sshd on loopback.

The test starts its own sshd (Debian: ``apt-get install -y openssh-server``) on a free port,
with throwaway host and user keys in a tmp dir, allowing the current user only, by key only.
The client side uses the real ``ssh`` through a wrapper that adds ``-F <test config>``, so the
user's own ssh configuration and known_hosts are never touched.
"""

from __future__ import annotations

import getpass
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from multi_support import WAIT, Lines
from ports import free_ports

SSHD = "/usr/sbin/sshd"
PRIVSEP_DIR = "/run/sshd"

pytestmark = pytest.mark.timeout(120)


def _skip_reason() -> str | None:
    if not os.path.exists(SSHD):
        return f"{SSHD} is not installed (Debian: apt-get install -y openssh-server)"
    if shutil.which("ssh") is None or shutil.which("ssh-keygen") is None:
        return "the OpenSSH client (ssh, ssh-keygen) is not installed"
    if not os.path.isdir(PRIVSEP_DIR) and os.geteuid() != 0:
        return f"sshd needs {PRIVSEP_DIR}, which is missing, and only root may create it"
    return None


@dataclass
class SshServer:
    """A running test sshd and the environment whose ``ssh`` reaches it."""

    port: int
    user: str
    env: dict[str, str]
    log: Lines

    @property
    def address(self) -> str:
        return f"{self.user}@127.0.0.1:{self.port}"


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[SshServer]:
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    os.makedirs(PRIVSEP_DIR, mode=0o755, exist_ok=True)
    keys = tmp_path / "ssh"
    keys.mkdir(mode=0o700)
    for name in ("host_key", "user_key"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(keys / name)],
                       check=True, timeout=WAIT)
    (keys / "authorized_keys").write_text((keys / "user_key.pub").read_text())
    os.chmod(keys / "authorized_keys", 0o600)
    user = getpass.getuser()
    port = free_ports(1)[0]
    (keys / "sshd_config").write_text(
        f"ListenAddress 127.0.0.1:{port}\n"
        f"HostKey {keys / 'host_key'}\n"
        f"AuthorizedKeysFile {keys / 'authorized_keys'}\n"
        f"AllowUsers {user}\n"
        "PermitRootLogin prohibit-password\n"
        "PubkeyAuthentication yes\n"
        "PasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\n"
        "UsePAM no\n"
        # the keys live under the test's tmp directory; sshd refuses them when a directory on
        # that path (e.g. a world-writable /tmp) is not private, which says nothing about us
        "StrictModes no\n"
        "AllowTcpForwarding local\n"
        "PidFile none\n"
        "LogLevel DEBUG1\n"
    )
    host_key = (keys / "host_key.pub").read_text().split()
    (keys / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_key[0]} {host_key[1]}\n")
    (keys / "ssh_config").write_text(
        "Host *\n"
        f"  IdentityFile {keys / 'user_key'}\n"
        "  IdentitiesOnly yes\n"
        f"  UserKnownHostsFile {keys / 'known_hosts'}\n"
        "  GlobalKnownHostsFile /dev/null\n"
        "  StrictHostKeyChecking yes\n"
        "  ControlMaster no\n"
        "  ControlPath none\n"
    )
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "ssh"
    wrapper.write_text(f'#!/bin/sh\nexec {shutil.which("ssh")} -F {keys / "ssh_config"} "$@"\n')
    wrapper.chmod(0o755)
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    process = subprocess.Popen([SSHD, "-D", "-e", "-f", str(keys / "sshd_config")],
                               stderr=subprocess.PIPE, text=True)
    log = Lines(process.stderr)
    try:
        log.until(lambda line: "Server listening on 127.0.0.1 port" in line)
        yield SshServer(port, user, env, log)
    finally:
        process.terminate()
        process.wait(timeout=WAIT)


TUNNELLED = re.compile(r"server_request_direct_tcpip: originator .*, target 127\.0\.0\.1 port (\d+)")


def assert_tunnelled(server: SshServer, ports: set[int]) -> None:
    """sshd's log shows a forwarded connection to each of ``ports`` (waited for, bounded)."""
    seen = {int(m.group(1)) for line in server.log.seen if (m := TUNNELLED.search(line))}
    while not ports <= seen:
        line = server.log.until(lambda text: TUNNELLED.search(text) is not None)
        match = TUNNELLED.search(line)
        assert match is not None
        seen.add(int(match.group(1)))


def test_exec_through_ssh_tunnels(sshd, headless):
    kernel = headless("mycon")
    done = subprocess.run(
        [str(Path(sys.executable).with_name("mycon")), "exec", "--existing", kernel.connection_file,
         "--ssh", sshd.address, "import os; print('pid', os.getpid())"],
        capture_output=True, text=True, timeout=WAIT * 2, env=sshd.env,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"pid {kernel.pid}\n"
    import json

    info = json.loads(Path(kernel.connection_file).read_text())
    assert_tunnelled(sshd, {info["shell_port"], info["iopub_port"], info["hb_port"]})


def test_open_tunnels_carries_all_five_channels(sshd, headless, monkeypatch):
    import json

    from jupyter_client.blocking.client import BlockingKernelClient

    from console.tunnels import open_tunnels

    monkeypatch.setenv("PATH", sshd.env["PATH"])
    kernel = headless("mycon")
    info = json.loads(Path(kernel.connection_file).read_text())
    tunnelled = open_tunnels(info, sshd.address)
    names = ("shell_port", "iopub_port", "stdin_port", "control_port", "hb_port")
    assert tunnelled["ip"] == "127.0.0.1"
    assert tunnelled["key"] == info["key"]
    assert not {tunnelled[n] for n in names} & {info[n] for n in names}
    client = BlockingKernelClient()
    client.load_connection_info(tunnelled)
    client.start_channels()
    try:
        client.wait_for_ready(timeout=WAIT)
        client.execute("x = input('name? ')", allow_stdin=True)
        request = client.get_stdin_msg(timeout=WAIT)
        assert request["content"]["prompt"] == "name? "
        client.input("over ssh")
        assert client.get_shell_msg(timeout=WAIT)["content"]["status"] == "ok"
        msg = client.session.msg("kernel_info_request", {})
        client.control_channel.send(msg)
        assert client.control_channel.get_msg(timeout=WAIT)["parent_header"]["msg_id"] == msg["header"]["msg_id"]
        assert client.hb_channel.is_beating()
    finally:
        client.stop_channels()
    assert_tunnelled(sshd, {info[n] for n in names})


def test_login_refused_is_one_clear_line(sshd, headless):
    kernel = headless("mycon")
    done = subprocess.run(
        [str(Path(sys.executable).with_name("mycon")), "exec", "--existing", kernel.connection_file,
         "--ssh", f"nobody@127.0.0.1:{sshd.port}", "1"],
        capture_output=True, text=True, timeout=WAIT * 2, env=sshd.env,
    )
    assert done.returncode == 1
    assert done.stderr.startswith(f"mycon: cannot log in to nobody@127.0.0.1:{sshd.port} with ssh")
    assert "Permission denied" in done.stderr and done.stderr.count("\n") == 1
