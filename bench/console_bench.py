"""Console benchmarks in a real pseudo-terminal: ``mycon`` against ``jupyter console``.

Each function spawns the console (with its default kernel, or attached to a kernel we started),
types as a person would, reads the text it shows, and returns ``{row key: samples}``. It raises
``BenchError`` when the console cannot be measured. Every wait is bounded, and the console and
its kernel are ended whatever happens.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.protocol import BenchError, KernelConnection, KernelTarget, tree_rss
from bench.terminal import Seen, Terminal

Samples = dict[str, list[float]]

PROMPT = re.compile(r"In \[(\d+)\]: ")
PROMPT_TIMEOUT = 30.0
RESULT_TIMEOUT = 8.0


@dataclass(frozen=True)
class ConsoleTarget:
    """A console command, how to attach it to a running kernel, and its default kernel."""

    role: str
    command: tuple[str, ...]
    kernel_name: str  # the kernel it starts by default (used when we start one for it)

    def argv(self, existing: str | None = None) -> list[str]:
        exe = _find(self.command[0])
        rest = list(self.command[1:])
        return [exe, *rest, *(["--existing", existing] if existing else [])]


def _find(name: str) -> str:
    """A script from this interpreter's environment first, then from PATH."""
    local = Path(sys.executable).parent / name
    if local.exists():
        return str(local)
    found = shutil.which(name)
    if not found:
        raise BenchError(f"command {name!r} not found")
    return found


CONSOLES = {
    "ours": ConsoleTarget("ours", ("mycon",), "mycon"),
    "reference": ConsoleTarget("reference", ("jupyter", "console"), "python3"),
}


@dataclass(frozen=True)
class ConsoleSettings:
    """How much work each console benchmark does (the full suite or ``--quick``)."""

    first_runs: int = 100
    warm_cells: int = 50
    render_lines: int = 200_000
    typing_keys: int = 40
    flood_seconds: float = 8.0
    render_timeout: float = 120.0

    @classmethod
    def make(cls, quick: bool, first_runs: int) -> ConsoleSettings:
        if quick:
            return cls(first_runs=first_runs, warm_cells=10, render_lines=20_000, typing_keys=10,
                       flood_seconds=4.0, render_timeout=40.0)
        return cls(first_runs=first_runs)


_runtime_dir = tempfile.mkdtemp(prefix="mycon-bench-runtime-")
atexit.register(shutil.rmtree, _runtime_dir, True)


def console_env() -> dict[str, str]:
    """The environment of a console under test: a plain xterm, and a private runtime dir."""
    env = dict(os.environ)
    env.update({
        "TERM": "xterm-256color",
        "PROMPT_TOOLKIT_NO_CPR": "1",  # our pty does not answer cursor-position requests
        "JUPYTER_RUNTIME_DIR": _runtime_dir,  # connection files of killed kernels land here
    })
    env.pop("NO_COLOR", None)
    return env


@contextmanager
def spawned(target: ConsoleTarget, existing: str | None = None,
            cpr: str = "off") -> Iterator[Terminal]:
    """The console on a pty. ``cpr``: "off" (the console is told not to ask for the cursor
    position), "silent" (it asks; nobody answers, as with a program driving it through a pty)
    or "answered" (the harness answers each request when it reads it, as a terminal does)."""
    env = console_env()
    if cpr != "off":
        env.pop("PROMPT_TOOLKIT_NO_CPR", None)
    term = Terminal(target.argv(existing), env, answers_cpr=cpr == "answered")
    try:
        yield term
    finally:
        term.close()


_misses: dict[str, int] = {}  # role -> spawns in a row that showed no result
_memory_runs: dict[str, int] = {}  # role -> spawns whose memory was measured
MEMORY_RUNS = 5  # spawns per role whose console + kernel RSS is measured (each waits to settle)
MEMORY_SETTLE = 1.5  # seconds after the result before the RSS is read
MAX_MISSES_IN_A_ROW = 5


def bench_first_result(target: ConsoleTarget, settings: ConsoleSettings) -> Samples:
    """Spawn; type ``print(1+1)`` + Enter the instant the prompt shows; wait for ``2``.

    Gives: spawn to prompt accepting input (the typed cell is echoed), spawn to result, whether
    the result came at all (the start-up race: a lost cell or a hang counts 0), and console +
    kernel RSS once settled (``MEMORY_SETTLE`` after the result, in the first ``MEMORY_RUNS``
    spawns of each console). After 5 misses in a row the console is reported as failed.
    """
    with spawned(target) as term:
        term.wait_for(PROMPT, PROMPT_TIMEOUT, "the first prompt")
        typed_at = term.length
        term.send("print(1+1)\r")
        try:
            echo = term.wait_for(re.compile(r"print\(1\+1\)"), RESULT_TIMEOUT,
                                 "the typed cell's echo", start=typed_at)
        except BenchError:
            return _missed(target.role, {})
        try:
            result = term.wait_for(re.compile(r"\n2\r?\n"), RESULT_TIMEOUT, "the result 2",
                                   start=echo.end)
        except BenchError:
            return _missed(target.role, {"c_prompt": [echo.at - term.spawned]})
        term.wait_for(PROMPT, PROMPT_TIMEOUT, "the prompt after the result", start=result.end)
        memory: list[float] = []
        if _memory_runs.get(target.role, 0) < MEMORY_RUNS:
            # settled, not at the result: a console may still be loading what it put off
            term.drain(MEMORY_SETTLE)
            memory.append(float(tree_rss(term.pid)))
            _memory_runs[target.role] = _memory_runs.get(target.role, 0) + 1
    _misses[target.role] = 0
    samples: Samples = {"c_prompt": [echo.at - term.spawned], "c_first": [result.at - term.spawned],
                        "c_race": [1.0]}
    if memory:
        samples["c_memory"] = memory
    return samples


def _missed(role: str, samples: Samples) -> Samples:
    _misses[role] = _misses.get(role, 0) + 1
    if _misses[role] >= MAX_MISSES_IN_A_ROW:
        raise BenchError(f"{MAX_MISSES_IN_A_ROW} spawns in a row showed no result for a cell "
                         "typed at the first prompt; stopped")
    return {**samples, "c_race": [0.0]}


def _ready_prompt(term: Terminal) -> Seen:
    """Wait for a prompt and run a first cell (so the kernel is warm); return the next prompt."""
    term.wait_for(PROMPT, PROMPT_TIMEOUT, "the first prompt")
    start = term.length
    term.send("print(1+1)\r")
    result = term.wait_for(re.compile(r"\n2\r?\n"), PROMPT_TIMEOUT, "the result of print(1+1)",
                           start=start)
    return term.wait_for(PROMPT, PROMPT_TIMEOUT, "the next prompt", start=result.end)


def bench_warm(target: ConsoleTarget, settings: ConsoleSettings) -> Samples:
    """Warm ``print(1)`` cells: Enter to ``1`` on screen, once per cell."""
    samples = []
    with spawned(target) as term:
        pos = _ready_prompt(term).end
        for _ in range(settings.warm_cells):
            term.send("print(1)")
            echo = term.wait_for(re.compile(r"print\(1\)"), RESULT_TIMEOUT, "the typed cell",
                                 start=pos)
            term.drain(0.02)  # let the line settle, as between a person's last key and Enter
            entered = term.send("\r")
            result = term.wait_for(re.compile(r"\n1\r?\n"), RESULT_TIMEOUT, "the result 1",
                                   start=echo.end)
            samples.append(result.at - entered)
            pos = term.wait_for(PROMPT, RESULT_TIMEOUT, "the next prompt", start=result.end).end
    return {"c_warm": samples, "c_warm_p90": samples}


def bench_one_write(target: ConsoleTarget, settings: ConsoleSettings) -> Samples:
    """Keys arriving in one read, as from a program driving the console through a pty or a
    paste without bracketed paste.

    "One write": ``print(n)`` and Enter in one ``os.write``, on a pty where nobody answers the
    console's cursor-position requests; the write to ``n`` on screen. "Paste": two cells
    ``print(n)`` Enter ``print(m)`` Enter in one write, on a pty that answers them; the write
    to ``m`` on screen (the second cell is type-ahead for the next prompt), and per cell: the
    write to ``n`` (``c_paste_first``), and ``n`` to ``m`` (``c_paste_next``: the second cell
    can only run once the first is done, so its Enter counts from there).
    """
    one: list[float] = []
    with spawned(target, cpr="silent") as term:
        pos = _ready_prompt(term).end
        for n in range(settings.warm_cells):
            value = 700_000 + n
            term.drain(0.02)  # a pause, as between two cells
            written = term.send(f"print({value})\r")
            result = term.wait_for(re.compile(rf"\n{value}\r?\n"), RESULT_TIMEOUT,
                                   f"the result {value}", start=pos)
            one.append(result.at - written)
            pos = term.wait_for(PROMPT, RESULT_TIMEOUT, "the next prompt", start=result.end).end
    paste: list[float] = []
    paste_first: list[float] = []
    paste_next: list[float] = []
    with spawned(target, cpr="answered") as term:
        pos = _ready_prompt(term).end
        for n in range(max(settings.warm_cells // 5, 3)):
            first, second = 800_000 + 2 * n, 800_001 + 2 * n
            term.drain(0.02)
            written = term.send(f"print({first})\rprint({second})\r")
            shown = term.wait_for(re.compile(rf"\n{first}\r?\n"), RESULT_TIMEOUT,
                                  f"the result {first}", start=pos)
            result = term.wait_for(re.compile(rf"\n{second}\r?\n"), RESULT_TIMEOUT,
                                   f"the result {second}", start=shown.end)
            paste.append(result.at - written)
            paste_first.append(shown.at - written)
            paste_next.append(result.at - shown.at)
            pos = term.wait_for(PROMPT, RESULT_TIMEOUT, "the next prompt", start=result.end).end
    return {"c_one_write": one, "c_paste": paste, "c_paste_first": paste_first, "c_paste_next": paste_next}


def bench_render(target: ConsoleTarget, settings: ConsoleSettings) -> Samples:
    """A cell printing ``render_lines`` lines: Enter until the next prompt is shown.

    Also gives the share of the lines the console really showed: a console that cuts long
    output is timed, but the "lines shown" row says it did not draw them all. Lines shown out
    of order or twice fail the benchmark.
    """
    lines = settings.render_lines
    with spawned(target) as term:
        prompt = _ready_prompt(term)
        next_prompt = re.compile(rf"In \[{int(prompt.match.group(1)) + 1}\]: ")
        term.send(f"for i in range({lines}): print(i)")
        echo = term.wait_for(re.compile(r"print\(i\)"), RESULT_TIMEOUT, "the typed cell",
                             start=prompt.end)
        term.start_capture()
        entered = term.send("\r")
        done = term.wait_for(next_prompt, settings.render_timeout,
                             "the prompt after the output", start=echo.end)
        shown = term.stop_capture()
    count = count_lines_shown(shown, lines)
    return {"c_render": [done.at - entered], "c_render_shown": [count / lines]}


def count_lines_shown(text: str, lines: int) -> int:
    """How many of the lines 0..lines-1 were shown; BenchError if any came out of order.

    Lines of digits only are taken as output (prompt redraws and the echoed cell are skipped).
    A console may leave lines out (cut long output), but never show one twice or misplaced.
    """
    shown = [int(line) for line in text.replace("\r", "").split("\n") if line.isdigit()]
    for n, (before, after) in enumerate(zip(shown, shown[1:], strict=False)):
        if after <= before or after >= lines:
            raise BenchError(f"OUTPUT WRONG: line {after} shown after line {before} "
                             f"(the {n + 2}th line shown)")
    return len(shown)


FLOOD_CODE = """import time
_t = time.time()
while time.time() - _t < {seconds}:
    print('0123456789' * 7)
"""


def bench_typing(target: ConsoleTarget, settings: ConsoleSettings) -> Samples:
    """Keystroke echo while another client makes the same kernel print as fast as it can.

    We start the kernel, attach the console with ``--existing``, run a printing loop from our
    own client, and type one key at a time (alternating ``Q`` and ``Z``, each after a
    backspace), timing each until the console shows it. A key typed while the terminal is in
    cooked mode is echoed first by the tty driver, not by the console: then we wait for its
    second appearance (the console's own), and count how often that happened.
    """
    kernel = KernelConnection(KernelTarget(target.role, target.kernel_name))
    samples: list[float] = []
    cooked: list[float] = []
    try:
        kernel.launch()
        kernel.wait_ready(PROMPT_TIMEOUT)
        with spawned(target, existing=kernel.manager.connection_file) as term:
            _ready_prompt(term)
            msg_id = kernel.send("execute_request", {
                "code": FLOOD_CODE.format(seconds=settings.flood_seconds), "silent": False,
                "store_history": True, "user_expressions": {}, "allow_stdin": False})
            flood_until = time.perf_counter() + settings.flood_seconds
            deadline = time.perf_counter() + PROMPT_TIMEOUT
            for msg in kernel.messages(deadline, "the flood's first output"):
                if msg.parent_id == msg_id and msg.msg_type == "stream":
                    break
            term.drain(0.2)
            for n in range(settings.typing_keys):
                if time.perf_counter() > flood_until - 0.5:
                    break
                key = "QZ"[n % 2]
                pos = term.length
                was_cooked = term.echoing()
                sent = term.send(key if n == 0 else "\x7f" + key)
                was_cooked = was_cooked or term.echoing()
                seen = term.wait_for(re.compile(key), 5.0, f"the echo of key {key!r} under load",
                                     start=pos)
                if was_cooked:
                    try:
                        seen = term.wait_for(re.compile(key), 5.0, "the console's echo",
                                             start=seen.end)
                    except BenchError:
                        pass  # the driver did not echo it after all: the first one was the echo
                cooked.append(1.0 if was_cooked else 0.0)
                samples.append(seen.at - sent)
                term.drain(0.03)
    finally:
        kernel.close()
    if len(samples) < 3:
        raise BenchError(f"only {len(samples)} keystrokes measured before the flood ended")
    return {"c_typing": samples, "c_typing_p90": samples, "c_typing_cooked": cooked}
