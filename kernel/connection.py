"""Connection files: where the kernel listens and with which key.

Reads the file a launcher hands us (``-f``), or writes our own in the Jupyter runtime
directory (mode 0600 inside a 0700 directory) when the kernel is started by hand.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PORT_NAMES = ("shell_port", "iopub_port", "stdin_port", "control_port", "hb_port")


class ConnectionFileError(Exception):
    """A connection file that cannot be used; the message says why."""


@dataclass
class ConnectionInfo:
    """The contents of a connection file."""

    transport: str = "tcp"
    ip: str = "127.0.0.1"
    shell_port: int = 0
    iopub_port: int = 0
    stdin_port: int = 0
    control_port: int = 0
    hb_port: int = 0
    key: str = ""
    signature_scheme: str = "hmac-sha256"
    kernel_name: str = "mycon"
    curve_publickey: str = ""
    curve_secretkey: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def endpoint(self, port: int) -> str:
        """The ZeroMQ address for one channel."""
        if self.transport == "ipc":
            return f"ipc://{self.ip}-{port}"
        host = f"[{self.ip}]" if ":" in self.ip else self.ip
        return f"{self.transport}://{host}:{port}"

    def to_dict(self) -> dict[str, Any]:
        """The JSON object written to a connection file."""
        data: dict[str, Any] = dict(self.extra)
        data.update(
            transport=self.transport,
            ip=self.ip,
            key=self.key,
            signature_scheme=self.signature_scheme,
            kernel_name=self.kernel_name,
        )
        for name in PORT_NAMES:
            data[name] = getattr(self, name)
        if self.curve_publickey:
            data["curve_publickey"] = self.curve_publickey
            data["curve_secretkey"] = self.curve_secretkey
        return data


def read_connection_file(path: str) -> ConnectionInfo:
    """Parse a connection file, with a clear error for anything unusable."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except FileNotFoundError:
        raise ConnectionFileError(f"connection file not found: {path}") from None
    except (OSError, ValueError) as exc:
        raise ConnectionFileError(f"cannot read connection file {path}: {exc}") from None
    if not isinstance(data, dict):
        raise ConnectionFileError(f"connection file {path} does not hold a JSON object")
    info = ConnectionInfo()
    known = set(info.__dataclass_fields__) - {"extra"}
    for name, value in data.items():
        if name in known:
            setattr(info, name, value)
        else:
            info.extra[name] = value
    for name in PORT_NAMES:
        value = getattr(info, name)
        if not isinstance(value, int) or not 0 <= value < 65536:
            raise ConnectionFileError(f"connection file {path}: {name} is not a port number")
    if isinstance(info.key, bytes):
        info.key = info.key.decode()
    return info


def runtime_dir() -> Path:
    """The Jupyter runtime directory (same rules as jupyter_core, without importing it)."""
    env = os.environ.get("JUPYTER_RUNTIME_DIR")
    if env:
        return Path(env)
    data = os.environ.get("JUPYTER_DATA_DIR")
    if data:
        return Path(data) / "runtime"
    home = Path.home()
    if sys.platform == "darwin":
        return home / "Library" / "Jupyter" / "runtime"
    xdg = os.environ.get("XDG_DATA_HOME") or str(home / ".local" / "share")
    return Path(xdg) / "jupyter" / "runtime"


def free_ports(ip: str, count: int) -> list[int]:
    """Ports the OS says are free on ``ip`` right now."""
    family = socket.AF_INET6 if ":" in ip else socket.AF_INET
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.bind((ip, 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def write_connection_file(info: ConnectionInfo, path: Path) -> None:
    """Write ``info`` to ``path`` readable by the owner only (0600 in a 0700 directory)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        os.chmod(path.parent, 0o700)
    except OSError:
        pass
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(info.to_dict(), handle, indent=1)
        handle.write("\n")
