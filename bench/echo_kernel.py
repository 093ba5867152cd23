"""The transport floor: a do-nothing Jupyter kernel on the same kind of ZeroMQ sockets.

It is launched like any kernel (``python bench/echo_kernel.py -f CONNECTION_FILE``) and answers
the requests the benchmarks send with the least the protocol asks for: ``status: busy``, a
canned reply, ``status: idle``. It runs no code. For the stream benchmark it recognises
``for i in range(N): print(i)`` and publishes the same text in one ``stream`` message, so the
figure is the cost of moving those bytes, nothing else. Only the standard library and pyzmq are
imported, to keep its own start-up out of the way.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import hmac
import json
import os
import re
import sys
import threading
import uuid
from typing import Any

import zmq

DELIM = b"<IDS|MSG>"
STREAM_CODE = re.compile(r"^\s*for (\w+) in range\((\d+)\):\s*print\(\1\)\s*$")
PROTOCOL_VERSION = "5.4"


class Signer:
    """Signs and packs messages (HMAC over the four JSON frames), as the spec says.

    Kept cheap on purpose, since this kernel is the floor: the parent header is passed through
    as the bytes that came in, message ids come from a counter, the HMAC is copied from a keyed
    template, and constant frames are encoded once.
    """

    def __init__(self, key: bytes, scheme: str) -> None:
        self.template = hmac.new(key, digestmod=getattr(hashlib, scheme.split("-", 1)[1])) \
            if key else None
        self.session = uuid.uuid4().hex
        self.count = 0
        self.header_head = '{"msg_id": "' + self.session + "_"
        self.header_tail = (f', "session": "{self.session}", "username": "bench", '
                            f'"version": "{PROTOCOL_VERSION}", ')

    def sign(self, frames: list[bytes]) -> bytes:
        if self.template is None:
            return b""
        mac = self.template.copy()
        for frame in frames:
            mac.update(frame)
        return mac.hexdigest().encode()

    def pack(self, msg_type: str, content: bytes, parent: bytes) -> list[bytes]:
        """Frames from the delimiter on: ``content`` and ``parent`` are JSON bytes already."""
        self.count += 1
        now = datetime.datetime.now(datetime.timezone.utc).isoformat()
        header = (f'{self.header_head}{self.count}"{self.header_tail}'
                  f'"date": "{now}", "msg_type": "{msg_type}"}}').encode()
        frames = [header, parent, b"{}", content]
        return [DELIM, self.sign(frames), *frames]


def dumps(obj: Any) -> bytes:
    return json.dumps(obj).encode()


BUSY = dumps({"execution_state": "busy"})
IDLE = dumps({"execution_state": "idle"})


KERNEL_INFO = {
    "status": "ok",
    "protocol_version": PROTOCOL_VERSION,
    "implementation": "bench-echo",
    "implementation_version": "0",
    "banner": "echo kernel (transport floor; runs nothing)",
    "help_links": [],
    "language_info": {
        "name": "python",
        "version": ".".join(map(str, sys.version_info[:3])),
        "mimetype": "text/x-python",
        "file_extension": ".py",
        "pygments_lexer": "ipython3",
        "codemirror_mode": {"name": "ipython", "version": 3},
        "nbconvert_exporter": "python",
    },
}


class EchoKernel:
    """Binds the five channels and answers each request with a canned reply."""

    def __init__(self, info: dict[str, Any]) -> None:
        self.info = info
        self.signer = Signer(info.get("key", "").encode(), info.get("signature_scheme", "hmac-sha256"))
        self.ctx = zmq.Context()
        self.count = 0
        self.running = True
        self.shell = self._bind(zmq.ROUTER, "shell_port")
        self.control = self._bind(zmq.ROUTER, "control_port")
        self.stdin = self._bind(zmq.ROUTER, "stdin_port")
        self.iopub = self._bind(zmq.PUB, "iopub_port")
        self.heartbeat = threading.Thread(target=self._echo_heartbeats, daemon=True)
        self.heartbeat.start()

    def _bind(self, kind: int, port_key: str) -> zmq.Socket[Any]:
        sock: zmq.Socket[Any] = self.ctx.socket(kind)
        sock.linger = 1000
        secret = self.info.get("curve_secretkey")
        if secret:
            sock.curve_secretkey = secret.encode()
            sock.curve_publickey = self.info["curve_publickey"].encode()
            sock.curve_server = True
        if self.info.get("transport", "tcp") == "ipc":
            sock.bind(f"ipc://{self.info['ip']}-{self.info[port_key]}")
        else:
            sock.bind(f"tcp://{self.info['ip']}:{self.info[port_key]}")
        return sock

    def _echo_heartbeats(self) -> None:
        """Send every heartbeat ping straight back (its own socket, its own thread)."""
        sock = self._bind(zmq.ROUTER, "hb_port")
        parent = os.getppid()
        while self.running:
            if sock.poll(100):
                sock.send_multipart(sock.recv_multipart())
            elif os.getppid() != parent:  # whoever launched us is gone: do not linger
                self.running = False
        sock.close(linger=0)

    def close(self) -> None:
        """Flush what is queued (bounded by linger) and release the sockets."""
        self.running = False
        self.heartbeat.join(timeout=1)
        for sock in (self.shell, self.control, self.stdin, self.iopub):
            sock.close(linger=1000)
        self.ctx.term()

    def publish(self, msg_type: str, content: bytes, parent: bytes) -> None:
        topic = f"kernel.{self.signer.session}.{msg_type}".encode()
        self.iopub.send_multipart([topic, *self.signer.pack(msg_type, content, parent)])

    def serve(self) -> None:
        """Answer shell and control requests until a shutdown request arrives."""
        self.publish("status", dumps({"execution_state": "starting"}), b"{}")
        poller = zmq.Poller()
        poller.register(self.shell, zmq.POLLIN)
        poller.register(self.control, zmq.POLLIN)
        while self.running:
            for sock, _ in poller.poll(500):
                while self.running:  # everything that is queued, then poll again
                    try:
                        frames = sock.recv_multipart(zmq.NOBLOCK)  # type: ignore[union-attr]
                    except zmq.Again:
                        break
                    self.handle(sock, frames)  # type: ignore[arg-type]

    def handle(self, sock: zmq.Socket[Any], frames: list[bytes]) -> None:
        split = frames.index(DELIM)
        idents, parent, content_frame = frames[:split], frames[split + 2], frames[split + 5]
        msg_type: str = json.loads(parent)["msg_type"]
        self.publish("status", BUSY, parent)
        reply = self.answer(msg_type, json.loads(content_frame), parent)
        if reply is not None:
            reply_type = msg_type[: -len("_request")] + "_reply"
            sock.send_multipart([*idents, *self.signer.pack(reply_type, dumps(reply), parent)])
        self.publish("status", IDLE, parent)

    def answer(self, msg_type: str, content: dict[str, Any],
               parent: bytes) -> dict[str, Any] | None:
        if msg_type == "kernel_info_request":
            return KERNEL_INFO
        if msg_type == "execute_request":
            return self.execute(content, parent)
        if msg_type == "complete_request":
            pos = int(content.get("cursor_pos", 0))
            word = re.search(r"\w*$", content.get("code", "")[:pos])
            start = word.start() if word else pos
            return {"status": "ok", "matches": ["join"], "cursor_start": start,
                    "cursor_end": pos, "metadata": {}}
        if msg_type == "inspect_request":
            return {"status": "ok", "found": True, "metadata": {},
                    "data": {"text/plain": "print(*args, sep=' ', end='\\n', file=None, flush=False)"}}
        if msg_type == "is_complete_request":
            return {"status": "complete"}
        if msg_type == "history_request":
            return {"status": "ok", "history": []}
        if msg_type == "comm_info_request":
            return {"status": "ok", "comms": {}}
        if msg_type == "shutdown_request":
            self.running = False
            return {"status": "ok", "restart": bool(content.get("restart", False))}
        if msg_type == "interrupt_request":
            return {"status": "ok"}
        return None

    def execute(self, content: dict[str, Any], parent: bytes) -> dict[str, Any]:
        """Count, and for the print loop publish its text; no ``execute_input`` (the minimum)."""
        code = content.get("code", "")
        if not content.get("silent", False):
            self.count += 1
        match = STREAM_CODE.match(code)
        if match:
            text = "\n".join(map(str, range(int(match.group(2))))) + "\n"
            self.publish("stream", dumps({"name": "stdout", "text": text}), parent)
        return {"status": "ok", "execution_count": self.count, "user_expressions": {}, "payload": []}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-f", dest="connection_file", required=True, help="connection file")
    args = parser.parse_args(argv)
    with open(args.connection_file, encoding="utf-8") as handle:
        info = json.load(handle)
    kernel = EchoKernel(info)
    try:
        kernel.serve()
    except KeyboardInterrupt:
        pass
    finally:
        kernel.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
