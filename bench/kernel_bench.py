"""Kernel benchmarks at the protocol level: one function per benchmark, one kernel per call.

Each function launches a fresh kernel for the target it is given, measures, shuts the kernel
down, and returns ``{row key: samples}``; it raises ``BenchError`` (with the reason in words)
when the kernel cannot produce a correct figure. Every wait is bounded.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import zmq

from bench.protocol import DELIM, BenchError, KernelConnection, KernelTarget, running_kernel

Samples = dict[str, list[float]]

STARTUP_TIMEOUT = 30.0
REQUEST_TIMEOUT = 10.0


@dataclass(frozen=True)
class KernelSettings:
    """How much work each kernel benchmark does (the full suite or ``--quick``)."""

    rtt_count: int = 1000
    flood_count: int = 1000
    stream_lines: int = 200_000
    complete_count: int = 200
    inspect_count: int = 200
    stream_timeout: float = 120.0
    flood_timeout: float = 60.0

    @classmethod
    def quick(cls) -> KernelSettings:
        return cls(rtt_count=100, flood_count=100, stream_lines=20_000, complete_count=20,
                   inspect_count=20, stream_timeout=30.0, flood_timeout=20.0)


def bench_startup(target: KernelTarget, settings: KernelSettings) -> Samples:
    """Launch to first kernel_info_reply (fresh kernel), then RSS after one ``pass``."""
    kernel = KernelConnection(target)
    try:
        launched = kernel.launch()
        replied = kernel.wait_ready(STARTUP_TIMEOUT)
        kernel.execute("pass", REQUEST_TIMEOUT)
        rss = kernel.rss()
    except BenchError as exc:
        raise kernel.explain(exc) from None
    finally:
        kernel.close()
    return {"startup": [replied - launched], "memory": [float(rss)]}


def bench_rtt(target: KernelTarget, settings: KernelSettings) -> Samples:
    """Round trip of ``execute('pass')`` until both its reply and its idle status arrived."""
    content = {"code": "pass", "silent": False, "store_history": True,
               "user_expressions": {}, "allow_stdin": False, "stop_on_error": True}
    samples: list[float] = []
    with running_kernel(target, STARTUP_TIMEOUT, "rtt") as kernel:
        for n in range(20 + settings.rtt_count):
            msg_id, frames = kernel.build("execute_request", content)
            sent = time.perf_counter()
            kernel.send_frames(frames)
            exchange = kernel.follow(msg_id, REQUEST_TIMEOUT, "execute 'pass'")
            if n >= 20:  # the first 20 warm the kernel and the sockets up
                samples.append(exchange.done_at - sent)
            exchange.check_ok("execute 'pass'")
    return {"rtt": samples, "rtt_p99": samples}


def bench_flood(target: KernelTarget, settings: KernelSettings) -> Samples:
    """Send ``flood_count`` execute requests at once; time until the last reply arrives."""
    count = settings.flood_count
    with running_kernel(target, STARTUP_TIMEOUT, "flood") as kernel:
        kernel.execute("pass", REQUEST_TIMEOUT)
        content = {"code": "pass", "silent": False, "store_history": True,
                   "user_expressions": {}, "allow_stdin": False, "stop_on_error": True}
        built = [kernel.build("execute_request", content) for _ in range(count)]
        waiting = {msg_id for msg_id, _ in built}
        replies: list[list[bytes]] = []
        shell = kernel.shell
        assert shell is not None
        sent = time.perf_counter()
        for _, frames in built:
            kernel.send_frames(frames)
        deadline = sent + settings.flood_timeout
        while waiting:
            left = deadline - time.perf_counter()
            if left <= 0 or not shell.poll(int(left * 1000) + 1):
                raise BenchError(f"flood: {len(waiting)} of {count} replies missing after "
                                 f"{settings.flood_timeout:g} s")
            frames_in = shell.recv_multipart(zmq.NOBLOCK)
            replies.append(frames_in)
            waiting.discard(_parent_id(frames_in))
        elapsed = time.perf_counter() - sent
    not_ok = sum(1 for frames in replies if b'"ok"' not in frames[frames.index(DELIM) + 5])
    if not_ok:
        raise BenchError(f"flood: {not_ok} of {count} replies were not status 'ok'")
    return {"flood": [elapsed]}


def _parent_id(frames: list[bytes]) -> str:
    parent: dict[str, Any] = json.loads(frames[frames.index(DELIM) + 3])
    return str(parent.get("msg_id", ""))


def stream_code(lines: int) -> str:
    return f"for i in range({lines}): print(i)"


def check_stream(text: str, lines: int) -> None:
    """Raise BenchError, loudly, unless ``text`` is exactly the lines 0..lines-1 in order."""
    expected = "".join(f"{i}\n" for i in range(lines))
    if text == expected:
        return
    got = text.split("\n")
    if got and got[-1] == "":
        got.pop()
    first_bad = next((i for i, line in enumerate(got) if line != str(i)), None)
    if first_bad is None:
        where = f"the first {len(got)} lines are right, then it stops"
    else:
        where = f"line {first_bad} is {got[first_bad][:20]!r} instead of '{first_bad}'"
    raise BenchError(f"OUTPUT WRONG: {len(got)} of {lines} lines received; {where}")


def bench_stream(target: KernelTarget, settings: KernelSettings) -> Samples:
    """``for i in range(N): print(i)``: time until reply and idle; every line checked."""
    lines = settings.stream_lines
    with running_kernel(target, STARTUP_TIMEOUT, "stream") as kernel:
        kernel.execute("pass", REQUEST_TIMEOUT)
        msg_id, frames = kernel.build("execute_request", {
            "code": stream_code(lines), "silent": False, "store_history": True,
            "user_expressions": {}, "allow_stdin": False, "stop_on_error": True})
        sent = time.perf_counter()
        kernel.send_frames(frames)
        exchange = kernel.follow(msg_id, settings.stream_timeout, f"{lines} printed lines",
                                 keep=True)
        elapsed = exchange.done_at - sent
        exchange.check_ok("the print loop")
    parts = [m.content.get("text", "") for m in exchange.iopub
             if m.msg_type == "stream" and m.content.get("name") == "stdout"]
    check_stream("".join(parts), lines)
    return {"stream": [elapsed]}


def _timed_requests(kernel: KernelConnection, msg_type: str, content: dict[str, Any],
                    count: int, check: Callable[[dict[str, Any]], None]) -> list[float]:
    samples = []
    for _ in range(count):
        msg_id, frames = kernel.build(msg_type, content)
        sent = time.perf_counter()
        kernel.send_frames(frames)
        exchange = kernel.follow(msg_id, REQUEST_TIMEOUT, msg_type)
        samples.append(exchange.reply_at - sent)
        check(exchange.check_ok(msg_type))
    return samples


COMPLETE_CODE = "os.path.jo"


def _check_completion(content: dict[str, Any]) -> None:
    matches = content.get("matches", [])
    if not any(str(m).endswith("join") for m in matches):
        raise BenchError(f"completion of {COMPLETE_CODE!r} did not offer 'join' "
                         f"(got {matches[:5]!r})")


def bench_complete(target: KernelTarget, settings: KernelSettings) -> Samples:
    """complete_request for ``os.path.jo`` (after ``import os``): first call, then the rest."""
    content = {"code": COMPLETE_CODE, "cursor_pos": len(COMPLETE_CODE)}
    with running_kernel(target, STARTUP_TIMEOUT, "complete") as kernel:
        kernel.execute("import os", REQUEST_TIMEOUT)
        samples = _timed_requests(kernel, "complete_request", content,
                                  1 + settings.complete_count, _check_completion)
    return {"complete_first": samples[:1], "complete": samples[1:]}


def _check_inspection(content: dict[str, Any]) -> None:
    if not content.get("found") or not content.get("data", {}).get("text/plain"):
        raise BenchError("inspection of 'print' found nothing")


def bench_inspect(target: KernelTarget, settings: KernelSettings) -> Samples:
    """inspect_request for ``print`` (detail 0): first call, then the rest."""
    content = {"code": "print", "cursor_pos": 5, "detail_level": 0}
    with running_kernel(target, STARTUP_TIMEOUT, "inspect") as kernel:
        samples = _timed_requests(kernel, "inspect_request", content,
                                  1 + settings.inspect_count, _check_inspection)
    return {"inspect_first": samples[:1], "inspect": samples[1:]}
