"""Starting debugpy in the kernel: ``debugpy.listen`` must run in the main thread (where user code
runs and where debugpy installs its tracing), which serves the shell channel.

The control thread sends the kernel a silent ``execute_request`` on its own shell socket, as any
client would (signed, encrypted when the kernel is), so it runs between cells, and waits for the
reply, bounded in time.
"""

from __future__ import annotations

import socket
from typing import Any

import zmq

from .dap import DebuggerError

LISTEN_TIMEOUT = 30.0  # seconds for the main thread to start debugpy (a running cell delays it)


def free_port(host: str) -> int:
    """A TCP port free on ``host`` right now (for debugpy's adapter to listen on)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def listen_in_main_thread(channels: Any, host: str, port: int) -> None:
    """Have the main thread call ``debugpy.listen((host, port))``; raise DebuggerError if not."""
    info = channels.info
    client = channels.context.socket(zmq.DEALER)
    client.linger = 0
    try:
        if info.curve_secretkey:
            public, secret = zmq.curve_keypair()
            client.curve_publickey, client.curve_secretkey = public, secret
            client.curve_serverkey = info.curve_publickey.encode("ascii")
        client.connect(info.endpoint(info.shell_port))
        code = f"__import__('debugpy').listen(({host!r}, {port}))"
        content = {"code": code, "silent": True, "store_history": False, "user_expressions": {},
                   "allow_stdin": False, "stop_on_error": False}
        client.send_multipart(channels.session.serialize("execute_request", content))
        if not client.poll(LISTEN_TIMEOUT * 1000):
            raise DebuggerError(
                f"the kernel did not start debugpy within {LISTEN_TIMEOUT:g} s (a cell is running?); "
                "it will when the cell ends: try again then"
            )
        _, reply = channels.session.deserialize(client.recv_multipart())
    finally:
        client.close(linger=0)
    outcome = reply["content"]
    if outcome.get("status") != "ok":
        raise DebuggerError(f"debugpy.listen() failed: {outcome.get('ename')}: {outcome.get('evalue')}")
