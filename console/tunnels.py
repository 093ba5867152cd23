"""ssh tunnels: reach a kernel on another machine through one ssh connection (``--ssh``).

Used by the link (``mycon --existing FILE --ssh HOST``) and by ``mycon exec --ssh``. Failures
are worded for the user: ``UserInputError`` for a mistake in what was asked (exit status 2),
``LinkError`` when ssh could not log in.
"""

from __future__ import annotations

from typing import Any

from console.errors import LinkError, UserInputError

Msg = dict[str, Any]


def split_server(server: str) -> tuple[str, int | None]:
    """``[user@]host[:port]`` into (``[user@]host``, port or None), with a clear error."""
    target, sep, port_text = server.rpartition(":")
    if not sep:
        return server, None
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise UserInputError(f"--ssh {server}: the port after ':' must be a number from 1 to 65535")
    if not target or target.endswith("@"):
        raise UserInputError(f"--ssh {server}: no host name")
    return target, int(port_text)


def open_tunnels(info: Msg, server: str, keyfile: str | None = None, timeout: float = 15.0) -> Msg:
    """Forward the kernel's five ports through ssh to ``server``; the info to connect to.

    ``info`` is the kernel's connection info as seen on ``server`` (its ``ip`` is reached from
    there). Returns a copy pointing at local ports on 127.0.0.1, with the same key.

    One ``ssh -f`` carries all five forwards: it returns once logged in and listening (or
    fails in ssh's own words), never prompts (BatchMode: key login only), and then lives while
    the forwarded connections are in use (at least ``timeout`` seconds). jupyter_client's
    ``openssh_tunnel`` runs ``ssh -f`` in a pseudo-terminal, where the backgrounded ssh can
    die of the terminal's hang-up as its parent exits (it did on every try here).
    """
    import subprocess
    import tempfile

    from jupyter_client.ssh.tunnel import select_random_ports

    if info.get("transport", "tcp") != "tcp":
        raise UserInputError("--ssh works with tcp kernels only (this connection file uses ipc)")
    target, port = split_server(server)
    remote_ip = str(info.get("ip") or "127.0.0.1")
    if remote_ip in ("0.0.0.0", "*", ""):
        remote_ip = "127.0.0.1"
    names = ("shell_port", "iopub_port", "stdin_port", "control_port", "hb_port")
    local_ports = select_random_ports(len(names))
    cmd = ["ssh", "-f", "-S", "none", "-o", "BatchMode=yes", "-o", "ExitOnForwardFailure=yes",
           "-o", f"ConnectTimeout={max(1, int(timeout))}"]
    if port is not None:
        cmd += ["-p", str(port)]
    if keyfile:
        cmd += ["-i", keyfile]
    for local, name in zip(local_ports, names, strict=True):
        cmd += ["-L", f"127.0.0.1:{local}:{remote_ip}:{int(info[name])}"]
    cmd += [target, "sleep", str(max(1, int(timeout)))]
    with tempfile.TemporaryFile("w+") as errors:
        try:
            done = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=errors, timeout=timeout + 5)
        except FileNotFoundError:
            raise UserInputError("--ssh needs the `ssh` command (OpenSSH client)") from None
        except subprocess.TimeoutExpired:
            raise LinkError(f"ssh to {server} did not log in within {timeout:g} s") from None
        if done.returncode != 0:
            errors.seek(0)
            lines = [line for line in errors.read().splitlines() if line.strip()]
            why = lines[-1].strip() if lines else f"ssh exited with status {done.returncode}"
            raise LinkError(f"cannot log in to {server} with ssh without a password: {why}")
    tunnelled = dict(info)
    tunnelled["ip"] = "127.0.0.1"
    tunnelled.update(zip(names, local_ports, strict=True))
    return tunnelled
