"""Drive a real kernel process over real sockets, validating every message it sends."""

from __future__ import annotations

import queue
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.manager import KernelManager, start_new_kernel
from protocol_check import check

TIMEOUT = 20.0  # seconds any single reply may take in tests


@contextmanager
def running_kernel(kernel_name: str = "mycon", **kwargs: Any) -> Iterator[tuple[KernelManager, BlockingKernelClient]]:
    """A started kernel and a connected client; shut down afterwards."""
    km, kc = start_new_kernel(kernel_name=kernel_name, startup_timeout=30, **kwargs)
    try:
        yield km, kc
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def drain_iopub(kc: BlockingKernelClient) -> list[dict[str, Any]]:
    """Read (and validate) whatever iopub holds right now."""
    messages = []
    while True:
        try:
            msg = kc.get_iopub_msg(timeout=0.05)
        except queue.Empty:
            return messages
        messages.append(check(msg))


def collect_until_idle(
    kc: BlockingKernelClient, msg_id: str, timeout: float = TIMEOUT, seen_busy: bool = False
) -> list[dict[str, Any]]:
    """The iopub messages caused by request ``msg_id``, from busy to idle (both excluded)."""
    outputs: list[dict[str, Any]] = []
    while True:
        msg = check(kc.get_iopub_msg(timeout=timeout))
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "status":
            state = msg["content"]["execution_state"]
            if state == "busy":
                seen_busy = True
            elif state == "idle":
                assert seen_busy, "idle without busy"
                return outputs
            continue
        outputs.append(msg)


def execute(
    kc: BlockingKernelClient, code: str, timeout: float = TIMEOUT, **kwargs: Any
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Run ``code``; return (execute_reply, iopub outputs between busy and idle)."""
    msg_id = kc.execute(code, **kwargs)
    reply = check(kc.get_shell_msg(timeout=timeout), "execute_reply", msg_id)
    outputs = collect_until_idle(kc, msg_id, timeout)
    return reply, outputs


def request(kc: BlockingKernelClient, msg_type: str, content: dict[str, Any], timeout: float = TIMEOUT) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Send any shell request; return (validated reply, its iopub messages)."""
    msg = kc.session.msg(msg_type, content)
    kc.shell_channel.send(msg)
    msg_id = msg["header"]["msg_id"]
    reply = check(kc.get_shell_msg(timeout=timeout), msg_type.replace("_request", "_reply"), msg_id)
    outputs = collect_until_idle(kc, msg_id, timeout)
    return reply, outputs


def stdout_of(outputs: list[dict[str, Any]], name: str = "stdout") -> str:
    """All text of one stream in ``outputs``."""
    return "".join(
        m["content"]["text"] for m in outputs if m["msg_type"] == "stream" and m["content"]["name"] == name
    )
