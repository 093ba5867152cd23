"""Time from the shell to a usable ``%px``: ``mycon --cluster N`` against ``jupyter console``.

Each run starts the console in a pseudo-terminal and ends when every engine's result of the
first ``%px`` cell is on screen (``Out[0:...]`` to ``Out[N-1:...]``):

- ours: ``mycon --cluster N``, with ``%px 'ready'`` typed as soon as the prompt shows (it is
  held until the kernel is up and runs right after the cluster's set-up cell);
- reference: ``jupyter console`` (ipykernel), where the user types the documented set-up line
  (``import ipyparallel as ipp; cluster = ipp.Cluster(n=N); rc = cluster.start_and_connect_sync();
  rc.activate()``) at the first prompt, then the same ``%px`` at the next.

Prints each run, the medians and their ratio (ours/reference; below 1: we are faster)::

    python bench/parallel_startup.py [--engines 4] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from pathlib import Path

import pexpect

ANSI = re.compile(r"\x1b\[[0-9;?<=>]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][A-Z0-9]|\x1b[=>78]")
BIN = Path(sys.executable).parent
TIMEOUT = 180.0


class Screen:
    """A console in a pseudo-terminal, read until some text shows (ANSI stripped)."""

    def __init__(self, program: str, args: list[str]) -> None:
        env = dict(os.environ, TERM="xterm-256color", PROMPT_TOOLKIT_NO_CPR="1", PAGER="cat")
        self.child = pexpect.spawn(program, args, env=env, dimensions=(40, 120), encoding="utf-8",
                                   codec_errors="replace")
        self.text = ""
        self.pos = 0

    def wait(self, pattern: str, timeout: float = TIMEOUT) -> None:
        """Read until ``pattern`` (a regex) shows after what was matched before."""
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        while True:
            m = regex.search(self.text, self.pos)
            if m:
                self.pos = m.end()
                return
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{pattern!r} did not show within {timeout:g} s: {self.text[-800:]!r}")
            try:
                chunk = self.child.read_nonblocking(65536, timeout=left)
            except pexpect.TIMEOUT:
                continue
            self.text += ANSI.sub("", chunk).replace("\r", "")

    def wait_all(self, patterns: list[str], timeout: float = TIMEOUT) -> None:
        """Read until every one of ``patterns`` showed after what was matched before (any order)."""
        start, end = self.pos, self.pos
        for pattern in patterns:
            self.pos = start
            self.wait(pattern, timeout)
            end = max(end, self.pos)
        self.pos = end

    def type(self, line: str) -> None:
        self.child.send(line + "\r")

    def close(self) -> None:
        if self.child.isalive():
            self.child.terminate(force=True)
        self.child.close()


def ours(engines: int) -> float:
    """Seconds from ``mycon --cluster N`` to every engine's first ``%px`` result."""
    start = time.monotonic()
    s = Screen(str(BIN / "mycon"), ["--cluster", str(engines), "--no-confirm-exit"])
    try:
        s.wait(r"In \[1\]: ")
        s.type("%px 'ready'")
        s.wait_all([rf"Out\[{e}:\d+\]: 'ready'" for e in range(engines)])
        elapsed = time.monotonic() - start
        s.wait(r"In \[2\]: ")
        s.child.sendcontrol("d")  # leaving stops the cluster
        s.wait(r"stopping the cluster")
        s.child.expect(pexpect.EOF, timeout=60)
        return elapsed
    finally:
        s.close()


def reference(engines: int) -> float:
    """Seconds from ``jupyter console`` to every engine's first ``%px`` result, the set-up line
    typed at the first prompt."""
    start = time.monotonic()
    s = Screen(str(BIN / "jupyter"), ["console", "--kernel", "python3"])
    try:
        s.wait(r"In \[1\]: ")
        s.type(f"import ipyparallel as ipp; cluster = ipp.Cluster(n={engines}); "
               "rc = cluster.start_and_connect_sync(); rc.activate()")
        s.wait(r"In \[2\]: ")
        s.type("%px 'ready'")
        s.wait_all([rf"Out\[{e}:\d+\]: 'ready'" for e in range(engines)])
        elapsed = time.monotonic() - start
        s.wait(r"In \[3\]: ")
        s.type("cluster.stop_cluster_sync()")
        s.wait(r"In \[4\]: ", timeout=60)
        s.type("exit")
        s.child.expect(pexpect.EOF, timeout=60)
        return elapsed
    finally:
        s.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", type=int, default=4, help="engines in the cluster (default 4)")
    parser.add_argument("--runs", type=int, default=3, help="runs per side, alternating (default 3)")
    args = parser.parse_args()
    times: dict[str, list[float]] = {"mycon --cluster": [], "jupyter console": []}
    for run in range(args.runs):
        for name, measure in (("mycon --cluster", ours), ("jupyter console", reference)):
            seconds = measure(args.engines)
            times[name].append(seconds)
            print(f"run {run + 1}: {name:16} {seconds:6.2f} s", file=sys.stderr)
    med_ours = statistics.median(times["mycon --cluster"])
    med_ref = statistics.median(times["jupyter console"])
    print(f"shell to a usable %px on {args.engines} engines, median of {args.runs} runs:")
    print(f"  mycon --cluster {args.engines}:          {med_ours:6.2f} s")
    print(f"  jupyter console + set-up line: {med_ref:6.2f} s")
    print(f"  ours/reference:                {med_ours / med_ref:6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
