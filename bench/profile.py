"""Sampling profiles of a kernel while a benchmark runs (``run.py --profile DIR``), via py-spy.

py-spy attaches to the running kernel once it is ready, samples until the kernel is shut down,
and writes collapsed stacks (``--format raw``). ``summarize`` turns them into the two lists a
person reads first: where the time is spent (self) and under which calls (total).
py-spy is optional: without it, asking for a profile is a clear error, nothing else changes.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from bench.protocol import BenchError

ATTACH_TIMEOUT = 10.0


def py_spy() -> str:
    """The py-spy executable (next to this Python first), or BenchError saying how to get it."""
    local = Path(sys.executable).parent / "py-spy"
    found = str(local) if local.exists() else shutil.which("py-spy")
    if not found:
        raise BenchError("--profile needs py-spy: pip install py-spy")
    return found


class Profiler:
    """One py-spy process recording one kernel into ``<out>.txt``."""

    def __init__(self, pid: int, out: Path, rate: int = 500) -> None:
        self.out = out
        self.raw = out.with_suffix(".collapsed")
        self.proc = subprocess.Popen(
            [py_spy(), "record", "--pid", str(pid), "--format", "raw", "--rate", str(rate),
             "--nonblocking", "--output", str(self.raw)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self._wait_attached()

    def _wait_attached(self) -> None:
        assert self.proc.stdout is not None
        deadline = time.monotonic() + ATTACH_TIMEOUT
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise BenchError("py-spy could not attach to the kernel (is ptrace allowed?)")
            if "Sampling process" in line:
                return
        raise BenchError(f"py-spy did not attach within {ATTACH_TIMEOUT:g} s")

    def finish(self) -> Path | None:
        """Wait for py-spy to write its file (the kernel has exited); write the summary."""
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return None
        if not self.raw.exists():
            return None
        self.out.write_text(summarize(self.raw.read_text(encoding="utf-8")), encoding="utf-8")
        return self.out


def summarize(collapsed: str, top: int = 25) -> str:
    """Self and total sample counts per function from py-spy's collapsed stacks."""
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    samples = 0
    for line in collapsed.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        samples += count
        own[frames[-1]] += count
        for frame in set(frames):
            total[frame] += count
    if not samples:
        return "no samples (the kernel was idle or exited at once)\n"
    lines = [f"{samples} samples", "", "self time (where the time is spent):"]
    lines += [f"{100 * n / samples:6.1f}%  {frame}" for frame, n in own.most_common(top)]
    lines += ["", "total time (under which calls):"]
    lines += [f"{100 * n / samples:6.1f}%  {frame}" for frame, n in total.most_common(top)]
    return "\n".join(lines) + "\n"
