"""Long fuzz, fault and load run against mycon's kernel (issue 8), beyond what CI can afford.

Run from the repository root (a few minutes on 2 cores with the defaults)::

    python bench/fuzz_kernel.py              # everything, full scale
    python bench/fuzz_kernel.py --quick      # a tenth of everything: about half a minute
    python bench/fuzz_kernel.py --only load,memory --seed 7

What it does, each part against a fresh ``python -m kernel`` over real sockets:

* ``fuzz``: well-signed requests with wrong types in every field, unknown message types and
  out-of-range cursor positions (``tests/hostile/fuzzgen.py``), on shell, control and stdin.
  Every request must be answered and, every 50 messages, a kernel_info on shell and control.
* ``malformed``: unsigned, badly signed, tampered, stale, bad-JSON, invalid-UTF-8 and deeply
  nested frames. Each carries code that would append to a marker file; the file must stay
  absent and the kernel's log must name every dropped shell/control message.
* ``replay``: more signed messages than the replay memory holds (``kernel.wire.REPLAY_MEMORY``),
  then replays of the first ones: they must be refused ("older than replay protection").
* ``big``: 50 MB messages, signed and not.
* ``load``: 20 clients at once, 100,000 kernel messages in all; every reply and every output
  must arrive, in order per client (``tests/hostile/loadgen.py``).
* ``memory``: resident memory of the kernel after 10,000 cells, against the start.

It prints one line per part with its counts and exits 1 if anything was lost, answered that
should not have been, or ran that should not have. The CI-sized versions of the same checks
are in ``tests/hostile/``.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))

from hostile.fuzzgen import hostile_request, malformed_frames  # noqa: E402
from hostile.helpers import (  # noqa: E402
    RawClient,
    StandaloneKernel,
    kernel_pid_of,
    raw_client,
    rss_mb,
    stream_text,
)
from hostile.loadgen import run_load  # noqa: E402

from kernel.wire import REPLAY_MEMORY  # noqa: E402

Result = dict[str, Any]


def _kernel(workdir: str, exposed: bool = False) -> StandaloneKernel:
    """A fresh kernel; ``exposed`` listens on every interface in plain tcp, where copied
    traffic is possible and so old-dated messages are refused as replays."""
    args = ("--ip", "0.0.0.0") if exposed else ()
    kernel = StandaloneKernel(workdir, *args, env={"MYCON_DATA_DIR": os.path.join(workdir, "data")})
    if exposed:
        kernel.info = dict(kernel.info, ip="127.0.0.1")  # reached over loopback all the same
    return kernel


def _served(client: RawClient) -> None:
    for channel in ("shell", "control"):
        msg_id = client.send_msg(channel, "kernel_info_request", {})
        assert client.reply_to(channel, msg_id, timeout=60)["content"]["status"] == "ok"


def part_fuzz(workdir: str, scale: float, rng: random.Random) -> Result:
    count = int(20_000 * scale)
    problems: list[str] = []
    kernel = _kernel(workdir)
    try:
        with raw_client(kernel.info) as client:
            client.wait_for_iopub()
            pending: list[tuple[str, str, str]] = []
            for i in range(count):
                channel, msg_type, content = hostile_request(rng)
                msg_id = client.send_msg(channel, msg_type, content)
                if channel != "stdin" and msg_type.endswith("_request") and msg_type != "interrupt_request":
                    pending.append((channel, msg_id, msg_type))
                if len(pending) >= 50 or i == count - 1:
                    for channel_, msg_id_, msg_type_ in pending:
                        try:
                            client.reply_to(channel_, msg_id_, timeout=60)
                        except AssertionError:
                            problems.append(f"no reply to {msg_type_}")
                    pending = []
                    _served(client)
                    client.drain(0)
            alive = kernel.alive()
    finally:
        kernel.stop()
    if not alive:
        problems.append("the kernel died")
    return {"part": "fuzz", "summary": f"{count} well-signed hostile requests, kernel alive: {alive}", "problems": problems}


def part_malformed(workdir: str, scale: float, rng: random.Random) -> Result:
    count = int(20_000 * scale)
    marker = os.path.join(workdir, "ran")
    problems: list[str] = []
    kinds: dict[str, int] = {}
    sent = {"shell": 0, "control": 0, "stdin": 0}
    kernel = _kernel(workdir, exposed=True)
    try:
        with raw_client(kernel.info) as client:
            client.wait_for_iopub()
            for i in range(count):
                channel = rng.choice(["shell", "control", "stdin"])
                why, frames = malformed_frames(rng, client.session, f"open({marker!r}, 'a').write('x')")
                kinds[why] = kinds.get(why, 0) + 1
                client.send_frames(channel, frames)
                sent[channel] += 1
                if i % 200 == 199 or i == count - 1:
                    _served(client)
                    for channel_ in ("shell", "control"):
                        if client.recv(channel_, timeout=0) is not None:
                            problems.append("a dropped message was answered")
                    _answer_one_input(client)
            log = kernel.log()
    finally:
        kernel.stop()
    logged = log.count("dropped a message") + log.count("dropped a malformed message")
    if logged != sent["shell"] + sent["control"]:
        problems.append(f"{logged} shell/control drops logged, {sent['shell'] + sent['control']} sent")
    stale = sum(int(n) for n in re.findall(r"stdin: dropped (\d+) message", log))
    if stale != sent["stdin"]:
        problems.append(f"{stale} stdin drops logged, {sent['stdin']} sent")
    if os.path.exists(marker):
        problems.append("a dropped message ran code")
    detail = ", ".join(f"{k} {v}" for k, v in sorted(kinds.items()))
    summary = f"{count} malformed messages (shell {sent['shell']}, control {sent['control']}, stdin {sent['stdin']}: {detail})"
    return {"part": "malformed", "summary": summary, "problems": problems}


def _answer_one_input(client: RawClient) -> None:
    """Run ``input()`` once: the kernel reads (and logs) what piled up on stdin meanwhile.

    The kernel reads stdin only while an input() waits, so without this the messages queue
    up to the high-water mark and the sender blocks.
    """
    msg_id = client.send_msg("shell", "execute_request", {"code": "input('? ')", "allow_stdin": True, "silent": True})
    while True:
        msg = client.recv("stdin", timeout=60)
        assert msg is not None, "no input_request"
        if msg["msg_type"] == "input_request":
            break
    client.send_msg("stdin", "input_reply", {"value": "fine", "status": "ok"})
    client.reply_to("shell", msg_id, timeout=60)


def part_replay(workdir: str, scale: float, rng: random.Random) -> Result:
    total = REPLAY_MEMORY + int(2_000 * max(scale, 0.1))
    marker = os.path.join(workdir, "replayed")
    problems: list[str] = []
    kernel = _kernel(workdir, exposed=True)
    try:
        with raw_client(kernel.info) as client:
            client.wait_for_iopub()
            first = client.frames(client.msg("execute_request", {"code": f"open({marker!r}, 'a').write('x')", "silent": True}))
            client.send_frames("shell", first)
            kept = [first]
            window: list[str] = []
            for i in range(total):
                msg = client.msg("kernel_info_request", {})
                frames = client.frames(msg)
                if i % 1000 == 0:
                    kept.append(frames)
                client.send_frames("shell", frames)
                window.append(str(msg["header"]["msg_id"]))
                if len(window) >= 500:
                    client.reply_to("shell", window[-1], timeout=60)
                    window = []
                    client.drain(0)
            if window:
                client.reply_to("shell", window[-1], timeout=60)
            while client.recv("shell", timeout=0.2) is not None:
                pass
            for frames in kept:
                client.send_frames("shell", frames)
            probe = client.send_msg("shell", "kernel_info_request", {})
            while True:  # everything before the probe's reply would be an answered replay
                msg = client.recv("shell", timeout=60)
                if msg is None:
                    problems.append("no reply to a valid request after the replays")
                    break
                if msg["parent_header"].get("msg_id") == probe:
                    break
                problems.append(f"a replayed message was answered ({msg['msg_type']})")
            log = kernel.log()
    finally:
        kernel.stop()
    with open(marker, encoding="utf-8") as handle:
        runs = len(handle.read())
    if runs != 1:
        problems.append(f"the first message ran {runs} times")
    refused = log.count("older than replay protection") + log.count("duplicate signature")
    if refused < len(kept):
        problems.append(f"only {refused} of {len(kept)} replays were refused in the log")
    return {"part": "replay", "summary": f"{total + 1} signed messages (memory {REPLAY_MEMORY}), {len(kept)} replays refused", "problems": problems}


def part_big(workdir: str, scale: float, rng: random.Random) -> Result:
    problems: list[str] = []
    marker = os.path.join(workdir, "big-ran")
    kernel = _kernel(workdir)
    try:
        with raw_client(kernel.info) as client:
            client.wait_for_iopub()
            pid = kernel_pid_of(kernel)
            before = rss_mb(pid)
            big = "a" * (50 << 20)
            reply, outputs = client.execute("#" + big + "\nprint('ok')", timeout=300)
            if stream_text(outputs) != "ok\n":
                problems.append("the 50 MB cell did not run")
            for msg_type, content in (("complete_request", {"code": big, "cursor_pos": -1}),
                                      ("inspect_request", {"code": big, "cursor_pos": 10**15}),
                                      ("is_complete_request", {"code": big}),
                                      ("kernel_info_request", {"junk": big})):
                msg_id = client.send_msg("shell", msg_type, content)
                client.reply_to("shell", msg_id, timeout=300)
            for key in (b"", b"wrong"):
                bad = RawClient(kernel.info, key=key)
                bad.send_msg("shell", "execute_request", {"code": f"open({marker!r}, 'w')#{big}"})
                bad.close()
            _served(client)
            client.execute("import gc; gc.collect()")
            grown = rss_mb(pid) - before
    finally:
        kernel.stop()
    if os.path.exists(marker):
        problems.append("an unsigned 50 MB message ran")
    return {"part": "big", "summary": f"7 messages of 50 MB; kernel RSS {grown:+.0f} MB afterwards", "problems": problems}


def part_load(workdir: str, scale: float, rng: random.Random) -> Result:
    clients = 20
    target = int(100_000 * scale)
    cells = max(1, target // (clients * 5))
    kernel = _kernel(workdir)
    try:
        result = run_load(kernel.info, clients, cells)
    finally:
        kernel.stop()
    summary = (f"{clients} clients, {result['cells']} cells, {result['kernel_messages']} kernel messages "
               f"({result['iopub_deliveries']} iopub deliveries) in {result['seconds']:.1f} s")
    return {"part": "load", "summary": summary, "problems": result["problems"][:20]}


def part_memory(workdir: str, scale: float, rng: random.Random) -> Result:
    total = int(10_000 * scale)
    kernel = _kernel(workdir)
    samples: list[str] = []
    try:
        with raw_client(kernel.info) as client:
            client.wait_for_iopub()
            pid = kernel_pid_of(kernel)

            def cells(count: int) -> None:
                for start in range(0, count, 500):
                    ids = [client.send_msg("shell", "execute_request", {"code": f"x = {i}\nprint(x)\nx", "silent": False})
                           for i in range(start, min(count, start + 500))]
                    for msg_id in ids:
                        client.reply_to("shell", msg_id, timeout=60)
                    client.drain(0)

            cells(300)
            before = rss_mb(pid)
            done = 0
            while done < total:
                step = min(2_000, total - done)
                cells(step)
                done += step
                samples.append(f"{done}: {rss_mb(pid) - before:+.1f}")
            grown = rss_mb(pid) - before
    finally:
        kernel.stop()
    problems = [] if grown < 8 else [f"kernel RSS grew {grown:.1f} MB over {total} cells"]
    return {"part": "memory", "summary": f"{total} cells: kernel RSS {before:.0f} MB -> {grown:+.1f} MB ({'; '.join(samples)})", "problems": problems}


PARTS: dict[str, Callable[[str, float, random.Random], Result]] = {
    "fuzz": part_fuzz,
    "malformed": part_malformed,
    "replay": part_replay,
    "big": part_big,
    "load": part_load,
    "memory": part_memory,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of every count")
    parser.add_argument("--only", default=",".join(PARTS), help=f"comma-separated parts: {', '.join(PARTS)}")
    parser.add_argument("--seed", type=int, default=None, help="random seed (printed when not given)")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    scale = 0.1 if args.quick else 1.0
    chosen = [part.strip() for part in args.only.split(",") if part.strip()]
    unknown = [part for part in chosen if part not in PARTS]
    if unknown:
        parser.error(f"unknown part(s) {', '.join(unknown)}; choose from {', '.join(PARTS)}")
    os.environ.setdefault("JUPYTER_PLATFORM_DIRS", "1")
    print(f"fuzz_kernel: seed {seed}, scale {scale}", flush=True)
    failed = False
    for name in chosen:
        rng = random.Random(f"{seed}-{name}")
        with tempfile.TemporaryDirectory(prefix=f"mycon-fuzz-{name}-") as workdir:
            started = time.monotonic()
            try:
                result = PARTS[name](workdir, scale, rng)
            except Exception as exc:  # noqa: BLE001 - report and go on with the next part
                result = {"part": name, "summary": "crashed", "problems": [f"{type(exc).__name__}: {exc}"]}
        verdict = "ok" if not result["problems"] else "FAILED"
        print(f"{name:10} {verdict:6} {time.monotonic() - started:6.1f} s  {result['summary']}", flush=True)
        for problem in result["problems"]:
            print(f"           - {problem}", flush=True)
        failed = failed or bool(result["problems"])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
