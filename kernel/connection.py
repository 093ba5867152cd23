"""Connection files: where the kernel listens and with which key.

Reads the file a launcher hands us (``-f``), or writes our own in the Jupyter runtime
directory (mode 0600 inside a 0700 directory) when the kernel is started by hand.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

PORT_NAMES = ("shell_port", "iopub_port", "stdin_port", "control_port", "hb_port")


class ConnectionFileError(Exception):
    """A connection file that cannot be used; the message says why."""


_DEFAULTS: dict[str, Any] = {
    "transport": "tcp",
    "ip": "127.0.0.1",
    "shell_port": 0,
    "iopub_port": 0,
    "stdin_port": 0,
    "control_port": 0,
    "hb_port": 0,
    "key": "",
    "signature_scheme": "hmac-sha256",
    "kernel_name": "mycon",
    "curve_publickey": "",
    "curve_secretkey": "",
}


class ConnectionInfo:
    """The contents of a connection file (a plain class: dataclasses cost start-up time)."""

    transport: str
    ip: str
    shell_port: int
    iopub_port: int
    stdin_port: int
    control_port: int
    hb_port: int
    key: str
    signature_scheme: str
    kernel_name: str
    curve_publickey: str
    curve_secretkey: str

    def __init__(self, **values: Any) -> None:
        for name, default in _DEFAULTS.items():
            setattr(self, name, values.pop(name, default))
        self.extra: dict[str, Any] = values

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


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def encryption_note(info: ConnectionInfo, connection_file: str = "") -> str:
    """One line saying whether traffic with this kernel is encrypted, and who can attach."""
    if info.curve_publickey:
        return (
            "Encrypted (CurveZMQ): clients need the keys in the connection file, so mycon and "
            "other jupyter_client 8.9+ clients can attach; jupyter console and qtconsole cannot."
        )
    attach = f" (e.g. jupyter console --existing {connection_file})" if connection_file else ""
    if info.transport == "ipc":
        return f"Not encrypted (ipc, this machine only; messages signed): any Jupyter client can attach{attach}."
    if info.ip in LOOPBACK:
        return f"Not encrypted (TCP on loopback; messages signed): any Jupyter client can attach{attach}."
    return (
        f"Not encrypted: plain TCP on {info.ip} can be read on the network (--encryption for "
        f"CurveZMQ); any Jupyter client can attach{attach}."
    )


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
    info = ConnectionInfo(**{str(k): v for k, v in data.items()})
    for name in PORT_NAMES:
        value = getattr(info, name)
        if not isinstance(value, int) or not 0 <= value < 65536:
            raise ConnectionFileError(f"connection file {path}: {name} is not a port number")
    if isinstance(info.key, bytes):
        info.key = info.key.decode()
    return info


def runtime_dir() -> str:
    """The Jupyter runtime directory (same rules as jupyter_core, without importing it)."""
    env = os.environ.get("JUPYTER_RUNTIME_DIR")
    if env:
        return env
    data = os.environ.get("JUPYTER_DATA_DIR")
    if data:
        return os.path.join(data, "runtime")
    home = os.path.expanduser("~")
    if sys.platform == "darwin":
        return os.path.join(home, "Library", "Jupyter", "runtime")
    xdg = os.environ.get("XDG_DATA_HOME") or os.path.join(home, ".local", "share")
    return os.path.join(xdg, "jupyter", "runtime")


def write_connection_file(info: ConnectionInfo, path: str) -> None:
    """Write ``info`` to ``path`` readable by the owner only (0600 in a 0700 directory)."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, mode=0o700, exist_ok=True)
    try:
        os.chmod(directory, 0o700)
    except OSError:
        pass
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(info.to_dict(), handle, indent=1)
        handle.write("\n")
