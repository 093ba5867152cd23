"""The kernel started before the console's UI is imported.

A kernel takes ~40 ms to boot and the console ~0.1 s to import its prompt and jupyter_client:
started first, the kernel boots on the other core meanwhile. Light on purpose (no jupyter_client:
its import is what we overlap): the kernelspec's ``kernel.json`` is read from the folder
jupyter_client would find it in, five free ports and a key go in a connection file, and the
process is launched as jupyter_client's launcher does (its own session, ``JPY_PARENT_PID``,
stdin closed, stdout/stderr into a pipe the console reads). ``console.launch`` then hands the
running process to jupyter_client's manager, which restarts, interrupts and shuts it down as
any kernel it launched; when the manager would pick another kernelspec, or the console never
gets that far, the process is ended and its connection file removed (``discard``).

Only for an ordinary local kernelspec (no custom provisioner, no ``--encryption``); anything
else starts the usual way, after the prompt is up.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from typing import Any

from console.connection_files import runtime_dir

PORT_NAMES = ("shell_port", "iopub_port", "stdin_port", "control_port", "hb_port")
LOCALHOST = "127.0.0.1"


@dataclass
class EarlyKernel:
    """A kernel process launched before the console existed, not yet handed to a manager."""

    kernel_name: str
    resource_dir: str  # the kernelspec's folder
    spec: dict[str, Any]  # its kernel.json
    connection_file: str
    info: dict[str, Any]  # what the connection file holds
    process: Any  # subprocess.Popen
    output_fd: int  # read end of the pipe the kernel's stdout and stderr go to
    cwd: str
    adopted: bool = field(default=False)

    @property
    def language(self) -> str:
        return str(self.spec.get("language") or "")

    def take_output(self) -> int:
        """The pipe's read end, handed to whoever reads it from now on (-1 once taken)."""
        fd, self.output_fd = self.output_fd, -1
        return fd

    def discard(self) -> None:
        """End the process (never handed over) and remove its connection file."""
        if self.adopted:
            return
        self.adopted = True  # once
        import signal

        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # it runs in a session of its own
        except OSError:
            pass
        try:
            self.process.wait(timeout=5)
        except Exception:
            pass
        if self.output_fd >= 0:
            os.close(self.output_fd)
            self.output_fd = -1
        try:
            os.remove(self.connection_file)
        except OSError:
            pass


def kernel_dirs() -> list[str]:
    """The kernelspec folders in jupyter_client's order of preference, as jupyter_core's
    ``jupyter_path`` lists them on Linux (with or without JUPYTER_PLATFORM_DIRS); the kernel
    found is checked against jupyter_client's own pick before it is used (``console.launch``)."""
    home = os.path.expanduser("~")
    user = os.environ.get("JUPYTER_DATA_DIR") or os.path.join(
        os.environ.get("XDG_DATA_HOME") or os.path.join(home, ".local", "share"), "jupyter"
    )
    env = os.path.join(sys.prefix, "share", "jupyter")
    prefer_env = os.environ.get("JUPYTER_PREFER_ENV_PATH")
    env_first = (prefer_env.lower() not in ("", "0", "false", "no", "off")) if prefer_env is not None else (
        sys.prefix != sys.base_prefix
    )
    folders = [p for p in os.environ.get("JUPYTER_PATH", "").split(os.pathsep) if p]
    folders += [env, user] if env_first else [user, env]
    system = os.environ.get("XDG_DATA_DIRS") if os.environ.get("JUPYTER_PLATFORM_DIRS") else None
    folders += [os.path.join(p, "jupyter") for p in (system or "/usr/local/share:/usr/share").split(os.pathsep) if p]
    return [os.path.join(f, "kernels") for f in folders]


def find_spec(kernel_name: str) -> tuple[str, dict[str, Any]] | None:
    """(folder, kernel.json) of ``kernel_name`` when it can be started early, else None."""
    if not kernel_name or not sys.platform.startswith("linux"):
        return None  # elsewhere jupyter_core's folders are not worked out here
    for folder in kernel_dirs():
        resource_dir = os.path.join(folder, kernel_name)
        path = os.path.join(resource_dir, "kernel.json")
        if not os.path.isfile(path):
            continue
        try:
            with open(path, encoding="utf-8") as f:
                spec = json.load(f)
        except (OSError, ValueError):
            return None  # jupyter_client says what is wrong with it
        argv = spec.get("argv") if isinstance(spec, dict) else None
        metadata = spec.get("metadata") or {}
        env = spec.get("env") or {}
        if (
            not isinstance(argv, list)
            or not argv
            or not all(isinstance(a, str) for a in argv)
            or not isinstance(metadata, dict)
            or metadata.get("kernel_provisioner")  # another way of launching: jupyter_client's
            or not isinstance(env, dict)
        ):
            return None
        return resource_dir, spec
    return None


def _free_ports(count: int) -> list[int]:
    """Ports free on localhost now (bound and released, as jupyter_client picks them)."""
    import socket

    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\0" * 8)
            sock.bind((LOCALHOST, 0))
            sockets.append(sock)
        return [int(s.getsockname()[1]) for s in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _write_connection_file(path: str, info: dict[str, Any]) -> None:
    """The connection file, readable by its owner only."""
    os.makedirs(os.path.dirname(path) or ".", mode=0o700, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        os.chmod(path, 0o600)
        json.dump(info, f, indent=2)


def _command(spec: dict[str, Any], resource_dir: str, connection_file: str) -> list[str]:
    """The kernelspec's argv with its fields filled in, as jupyter_client's manager fills them."""
    import re

    cmd = list(spec["argv"])
    if cmd[0] in ("python", f"python{sys.version_info[0]}", "python{}.{}".format(*sys.version_info[:2])):
        cmd[0] = sys.executable
    fields = {"connection_file": os.path.realpath(connection_file), "prefix": sys.prefix, "resource_dir": resource_dir}
    pattern = re.compile(r"\{([A-Za-z0-9_]+)\}")
    cmd = [pattern.sub(lambda m: str(fields.get(m.group(1), m.group())), arg) for arg in cmd]
    return [os.path.expanduser(arg) for arg in cmd]


def _environment(spec: dict[str, Any]) -> dict[str, str]:
    """This process's environment with the kernelspec's ``env`` (``${VAR}`` filled in)."""
    env = dict(os.environ)
    extra = spec.get("env") or {}
    if extra:
        from string import Template

        env.update({str(k): Template(str(v)).safe_substitute(env) for k, v in extra.items()})
    if str(spec.get("language") or "").lower().startswith("python"):
        env.pop("PYTHONEXECUTABLE", None)
    env["JPY_PARENT_PID"] = str(os.getpid())
    return env


def launch(kernel_name: str, connection_file: str = "", cwd: str = "") -> EarlyKernel | None:
    """Start kernelspec ``kernel_name`` now; None when it is not one to start early or its
    launch failed (the usual start then tries, and says what is wrong)."""
    found = find_spec(kernel_name)
    if found is None:
        return None
    resource_dir, spec = found
    import subprocess
    import uuid

    if not connection_file:
        connection_file = os.path.join(runtime_dir(), f"kernel-{uuid.uuid4()}.json")
    connection_file = os.path.abspath(connection_file)
    info: dict[str, Any] = dict(zip(PORT_NAMES, _free_ports(len(PORT_NAMES)), strict=True))
    info.update(ip=LOCALHOST, key=str(uuid.uuid4()), transport="tcp", signature_scheme="hmac-sha256",
                kernel_name=kernel_name)
    cwd = cwd or os.getcwd()
    rfd = wfd = -1
    try:
        _write_connection_file(connection_file, info)
        rfd, wfd = os.pipe()
        process = subprocess.Popen(
            _command(spec, resource_dir, connection_file),
            stdin=subprocess.PIPE, stdout=wfd, stderr=wfd, cwd=cwd, env=_environment(spec),
            start_new_session=True,
        )
    except Exception:
        for fd in (rfd, wfd):
            if fd >= 0:
                os.close(fd)
        try:
            os.remove(connection_file)
        except OSError:
            pass
        return None
    os.close(wfd)
    if process.stdin is not None:
        process.stdin.close()
    return EarlyKernel(kernel_name, resource_dir, spec, connection_file, info, process, rfd, cwd)
