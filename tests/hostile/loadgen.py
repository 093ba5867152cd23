"""Many clients on one kernel at once, each checking that every reply and output arrives in
order. Used by ``test_load.py`` (CI scale) and ``bench/fuzz_kernel.py`` (100,000 messages).

Each client is a thread with its own DEALER and SUB sockets. It pipelines its cells (a window
of requests in flight) and reads replies and iopub concurrently; iopub carries every client's
messages, so each client parses only the parent header to find its own.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import zmq
from jupyter_client.session import Session as ReferenceSession

DELIMITER = b"<IDS|MSG>"


class LoadClient(threading.Thread):
    """One client: ``cells`` executes, each printing two numbered lines; ``window`` in flight."""

    def __init__(self, context: zmq.Context, info: dict[str, Any], index: int, cells: int, window: int = 8) -> None:
        super().__init__(daemon=True, name=f"load-client-{index}")
        self.info = info
        self.index = index
        self.cells = cells
        self.window = window
        self.session = ReferenceSession(key=str(info["key"]).encode())
        self.shell: zmq.Socket = context.socket(zmq.DEALER)
        self.shell.linger = 0
        self.shell.connect(f"tcp://{info['ip']}:{info['shell_port']}")
        self.iopub: zmq.Socket = context.socket(zmq.SUB)
        self.iopub.linger = 0
        self.iopub.setsockopt(zmq.SUBSCRIBE, b"")
        self.iopub.connect(f"tcp://{info['ip']}:{info['iopub_port']}")
        self.problems: list[str] = []
        self.replies = 0
        self.iopub_mine = 0
        self.iopub_seen = 0
        self.done = False

    def wait_subscribed(self, timeout: float = 30.0) -> None:
        """Until the SUB socket receives something (kernel_info makes the kernel publish)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._send("kernel_info_request", {})
            if self.iopub.poll(200):
                return
        raise AssertionError(f"client {self.index}: iopub never answered")

    def _send(self, msg_type: str, content: dict[str, Any]) -> str:
        msg = self.session.msg(msg_type, content)
        self.shell.send_multipart(self.session.serialize(msg))
        return str(msg["header"]["msg_id"])

    def expected_text(self, cell: int) -> str:
        return f"c{self.index}-{cell}-a\nc{self.index}-{cell}-b\n"

    def run(self) -> None:
        try:
            self._run()
        except Exception as exc:  # noqa: BLE001 - reported by the test
            self.problems.append(f"client {self.index}: {type(exc).__name__}: {exc}")
        self.done = True

    def _run(self) -> None:
        # drop what arrived while subscribing (kernel_info answers and their status)
        while self.shell.poll(0):
            self.shell.recv_multipart()
        order: list[str] = []  # msg_ids in the order sent
        cell_of: dict[str, int] = {}
        text: dict[str, list[str]] = {}
        state: dict[str, str] = {}  # msg_id -> "sent" | "busy" | "input" | "idle"
        next_reply = 0
        sent = 0
        poller = zmq.Poller()
        poller.register(self.shell, zmq.POLLIN)
        poller.register(self.iopub, zmq.POLLIN)
        deadline = time.monotonic() + 600
        idle = 0
        while next_reply < self.cells or idle < self.cells:
            while sent < self.cells and sent - next_reply < self.window:
                code = f"print('c{self.index}-{sent}-a')\nprint('c{self.index}-{sent}-b')"
                msg_id = self._send("execute_request", {"code": code, "silent": False, "store_history": True,
                                                        "user_expressions": {}, "allow_stdin": False, "stop_on_error": False})
                order.append(msg_id)
                cell_of[msg_id] = sent
                text[msg_id] = []
                state[msg_id] = "sent"
                sent += 1
            if time.monotonic() > deadline:
                raise TimeoutError(f"{next_reply} replies and {idle} idles of {self.cells} after 600 s")
            events = dict(poller.poll(1000))
            if self.shell in events:
                while self.shell.poll(0):
                    frames = self.shell.recv_multipart()
                    msg = self.session.deserialize(self.session.feed_identities(frames)[1])
                    parent = msg["parent_header"].get("msg_id")
                    if parent not in cell_of:
                        continue
                    if next_reply >= len(order) or parent != order[next_reply]:
                        self.problems.append(f"client {self.index}: reply to cell {cell_of[parent]} out of order")
                    if msg["content"]["status"] != "ok":
                        self.problems.append(f"client {self.index}: cell {cell_of[parent]}: {msg['content']}")
                    next_reply += 1
                    self.replies += 1
            if self.iopub in events:
                while self.iopub.poll(0):
                    frames = self.iopub.recv_multipart()
                    self.iopub_seen += 1
                    split = frames.index(DELIMITER)
                    parent_id = json.loads(frames[split + 3]).get("msg_id")
                    if parent_id not in cell_of:
                        continue
                    self.iopub_mine += 1
                    header = json.loads(frames[split + 2])
                    content = json.loads(frames[split + 5])
                    kind = header["msg_type"]
                    now = state[parent_id]
                    if kind == "status" and content["execution_state"] == "busy" and now == "sent":
                        state[parent_id] = "busy"
                    elif kind == "execute_input" and now == "busy":
                        state[parent_id] = "input"
                    elif kind == "stream" and now == "input":
                        text[parent_id].append(content["text"])
                    elif kind == "status" and content["execution_state"] == "idle" and now == "input":
                        state[parent_id] = "idle"
                        idle += 1
                        cell = cell_of[parent_id]
                        if "".join(text[parent_id]) != self.expected_text(cell):
                            self.problems.append(f"client {self.index}: cell {cell} output {''.join(text[parent_id])!r}")
                        if idle != cell + 1:
                            self.problems.append(f"client {self.index}: cell {cell} finished out of order")
                    else:
                        self.problems.append(f"client {self.index}: {kind} {content} after {now}")

    def close(self) -> None:
        self.shell.close(linger=0)
        self.iopub.close(linger=0)


def run_load(info: dict[str, Any], clients: int, cells: int, window: int = 8) -> dict[str, Any]:
    """Run ``clients`` clients with ``cells`` cells each; return counts and problems."""
    context = zmq.Context()
    workers = [LoadClient(context, info, index, cells, window) for index in range(clients)]
    try:
        for worker in workers:
            worker.wait_subscribed()
        started = time.monotonic()
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=900)
        elapsed = time.monotonic() - started
        problems = [p for w in workers for p in w.problems]
        problems += [f"client {w.index}: did not finish" for w in workers if not w.done]
        # messages the kernel sent for these cells: each reply, plus each client's own iopub
        kernel_messages = sum(w.replies + w.iopub_mine for w in workers)
        return {
            "clients": clients,
            "cells": clients * cells,
            "kernel_messages": kernel_messages,
            "iopub_deliveries": sum(w.iopub_seen for w in workers),
            "seconds": elapsed,
            "problems": problems,
        }
    finally:
        for worker in workers:
            worker.close()
        context.term()
