"""Run mycon's benchmark suite: ours against the reference (and the transport floor).

    python bench/run.py                  # everything (about 10-15 minutes on 2 cores)
    python bench/run.py --quick          # a smaller, faster pass over everything
    python bench/run.py --only kernel    # or console, floor, ours, reference, or benchmark names
    python bench/run.py --repeat 5 --json results.json

Prints one table: metric, ours, reference, floor, ours/reference, target, met?; when xeus-python
(the C++ kernel, kernelspec ``xpython-raw``) is installed, its kernel figures too, with ours/xeus
and the targets against it. A benchmark that cannot run for one side shows "failed: <reason>" in
that cell; the run goes on.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench` importable from the repo root
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import console_bench, kernel_bench  # noqa: E402
from bench.profile import py_spy  # noqa: E402
from bench.protocol import BenchError, KernelTarget, echo_kernel_target  # noqa: E402
from bench.results import Results, Row, below, every_time, ratio_at_most, times_faster  # noqa: E402


@dataclass(frozen=True)
class Benchmark:
    """A named measurement, the roles it runs for, and the rows it fills."""

    name: str
    group: str  # "kernel" or "console"
    rows: tuple[str, ...]
    repeat: int  # how many fresh runs per role
    run: Callable[[str], dict[str, list[float]]]  # role -> samples per row key
    roles: tuple[str, ...] = ("ours", "reference", "xeus", "floor")


AHEAD_OF_XEUS = ratio_at_most(1.0)  # issue 18: at or below xeus-python's figure


def build_rows(ks: kernel_bench.KernelSettings, cs: console_bench.ConsoleSettings) -> list[Row]:
    lines = f"{ks.stream_lines:,}"
    return [
        Row("startup", "kernel start-up (launch to kernel_info_reply)", "s", "median",
            ratio_at_most(0.3), AHEAD_OF_XEUS),
        Row("memory", "kernel idle RSS (with children)", "bytes", "median", ratio_at_most(0.5), AHEAD_OF_XEUS),
        Row("rtt", f"execute 'pass' round trip, median of {ks.rtt_count}", "s", "median",
            ratio_at_most(0.3), AHEAD_OF_XEUS),
        Row("rtt_p99", f"execute 'pass' round trip, p99 of {ks.rtt_count}", "s", "p99",
            ratio_at_most(0.3)),
        Row("stream", f"stream {lines} printed lines (checked)", "s", "median",
            times_faster(5), AHEAD_OF_XEUS),
        Row("flood", f"flood: {ks.flood_count} executes at once, to last reply", "s", "median",
            times_faster(5), AHEAD_OF_XEUS),
        Row("complete_first", "completion 'os.path.jo', first call", "s", "median",
            ratio_at_most(0.3), AHEAD_OF_XEUS),
        Row("complete", f"completion, median of {ks.complete_count}", "s", "median",
            ratio_at_most(0.3), AHEAD_OF_XEUS),
        Row("inspect_first", "inspection 'print', first call", "s", "median", ratio_at_most(0.5), AHEAD_OF_XEUS),
        Row("inspect", f"inspection, median of {ks.inspect_count}", "s", "median",
            ratio_at_most(0.5), AHEAD_OF_XEUS),
        Row("c_prompt", "console: spawn to prompt accepting input", "s", "median",
            ratio_at_most(0.5)),
        Row("c_first", "console: spawn to first result (print(1+1))", "s", "median",
            ratio_at_most(0.5)),
        Row("c_race", "console: first cell typed at the prompt, results", "count", "share",
            every_time()),
        Row("c_memory", "console + kernel RSS, settled after the first result", "bytes", "median",
            ratio_at_most(0.6)),
        Row("c_warm", f"console: warm print(1), Enter to result, median of {cs.warm_cells}", "s",
            "median", below(0.010, "< 10 ms")),
        Row("c_warm_p90", f"console: warm print(1), Enter to result, p90 of {cs.warm_cells}",
            "s", "p90", None),
        Row("c_one_write", f"console: print(n)+Enter in one write, pty answering no CPR, "
            f"median of {cs.warm_cells}", "s", "median", below(0.010, "< 10 ms")),
        Row("c_paste", "console: two cells pasted in one write, to the second result, median",
            "s", "median", None),
        Row("c_paste_first", "console: two cells pasted in one write, write to the first result, "
            "median", "s", "median", below(0.010, "< 10 ms")),
        Row("c_paste_next", "console: two cells pasted in one write, first result to the second, "
            "median", "s", "median", below(0.010, "< 10 ms")),
        Row("c_render", f"console: cell printing {cs.render_lines:,} lines, to next prompt",
            "s", "median", ratio_at_most(0.5)),
        Row("c_render_shown", f"console: share of the {cs.render_lines:,} lines really shown",
            "share", "median", every_time()),
        Row("c_typing", "console: keystroke echo under another client's flood, median", "s",
            "median", below(0.050, "< 50 ms")),
        Row("c_typing_p90", "console: keystroke echo under flood, p90", "s", "p90",
            below(0.050, "< 50 ms")),
        Row("c_typing_cooked", "console: keys typed in cooked mode (tty echoed, not the app)",
            "count", "share", None),
    ]


def build_benchmarks(args: argparse.Namespace, ks: kernel_bench.KernelSettings,
                     cs: console_bench.ConsoleSettings,
                     kernels: dict[str, KernelTarget]) -> list[Benchmark]:
    def kernel_run(func: Callable[[KernelTarget, kernel_bench.KernelSettings],
                                  dict[str, list[float]]]) -> Callable[[str], Any]:
        return lambda role: func(kernels[role], ks)

    def console_run(func: Callable[[console_bench.ConsoleTarget, console_bench.ConsoleSettings],
                                   dict[str, list[float]]]) -> Callable[[str], Any]:
        return lambda role: func(console_bench.CONSOLES[role], cs)

    r = args.repeat
    return [
        Benchmark("startup", "kernel", ("startup", "memory"), r * 3,
                  kernel_run(kernel_bench.bench_startup)),
        Benchmark("rtt", "kernel", ("rtt", "rtt_p99"), r, kernel_run(kernel_bench.bench_rtt)),
        Benchmark("stream", "kernel", ("stream",), r, kernel_run(kernel_bench.bench_stream)),
        Benchmark("flood", "kernel", ("flood",), r, kernel_run(kernel_bench.bench_flood)),
        Benchmark("complete", "kernel", ("complete_first", "complete"), r,
                  kernel_run(kernel_bench.bench_complete)),
        Benchmark("inspect", "kernel", ("inspect_first", "inspect"), r,
                  kernel_run(kernel_bench.bench_inspect)),
        Benchmark("first-result", "console", ("c_prompt", "c_first", "c_race", "c_memory"),
                  cs.first_runs, console_run(console_bench.bench_first_result),
                  ("ours", "reference")),
        Benchmark("warm", "console", ("c_warm", "c_warm_p90"), 1,
                  console_run(console_bench.bench_warm), ("ours", "reference")),
        Benchmark("one-write", "console", ("c_one_write", "c_paste", "c_paste_first", "c_paste_next"), 1,
                  console_run(console_bench.bench_one_write), ("ours", "reference")),
        Benchmark("render", "console", ("c_render", "c_render_shown"), r, console_run(console_bench.bench_render),
                  ("ours", "reference")),
        Benchmark("typing", "console", ("c_typing", "c_typing_p90", "c_typing_cooked"), 1,
                  console_run(console_bench.bench_typing), ("ours", "reference")),
    ]


def select(benchmarks: Sequence[Benchmark], only: str | None) -> tuple[list[Benchmark],
                                                                         tuple[str, ...]]:
    """Which benchmarks and roles ``--only`` asks for (names, groups and roles, comma-separated)."""
    roles: tuple[str, ...] = ("ours", "reference", "xeus", "floor")
    if not only:
        return list(benchmarks), roles
    words = {w.strip() for w in only.split(",") if w.strip()}
    known = {b.name for b in benchmarks} | {b.group for b in benchmarks} | set(roles)
    unknown = words - known
    if unknown:
        raise SystemExit(f"bench: unknown --only value(s) {', '.join(sorted(unknown))}; "
                         f"choose from {', '.join(sorted(known))}")
    picked_roles = tuple(r for r in roles if r in words) or roles
    named = [b for b in benchmarks if b.name in words or b.group in words]
    return (named or list(benchmarks)), picked_roles


def run_benchmark(bench: Benchmark, roles: Sequence[str], results: Results,
                  log: Callable[[str], None]) -> None:
    """Run one benchmark for each role, ``repeat`` times, alternating the order of the roles."""
    active = [role for role in bench.roles if role in roles]
    if not active:
        return
    for n in range(bench.repeat):
        order = active if n % 2 == 0 else list(reversed(active))
        for role in order:
            if any(results.cell(key, role).failure for key in bench.rows):
                continue  # failed before: do not wait for its timeouts again
            started = time.perf_counter()
            try:
                samples = bench.run(role)
            except BenchError as exc:
                results.fail(bench.rows, role, str(exc))
                log(f"  {bench.name} [{role}] FAILED: {exc}")
                continue
            except Exception as exc:  # a harness bug must not lose the other figures
                results.fail(bench.rows, role, f"{type(exc).__name__}: {exc}")
                log(f"  {bench.name} [{role}] FAILED with an unexpected error:\n"
                    + traceback.format_exc())
                continue
            for key, values in samples.items():
                results.add(key, role, values)
            log(f"  {bench.name} [{role}] run {n + 1}/{bench.repeat} "
                f"({time.perf_counter() - started:.1f} s)")


def warm_up(roles: Sequence[str], kernels: dict[str, KernelTarget], chosen: Sequence[Benchmark],
            results: Results, log: Callable[[str], None]) -> None:
    """Start each kernel once, untimed, so the first figure is not a cold disk cache.

    A kernel that cannot even start here fails all its kernel rows at once, instead of making
    every benchmark wait for its start-up bound again.
    """
    for role in roles:
        if role not in kernels:
            continue
        try:
            kernel_bench.bench_startup(kernels[role], kernel_bench.KernelSettings())
        except BenchError as exc:
            log(f"  warm-up [{role}] FAILED: {exc}")
            for bench in chosen:
                if bench.group == "kernel":
                    results.fail(bench.rows, role, str(exc))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/run.py", description="mycon benchmarks: ours vs the reference, one table.")
    parser.add_argument("--quick", action="store_true",
                        help="fewer repeats and smaller workloads (a minute or two)")
    parser.add_argument("--only", metavar="WHAT",
                        help="comma-separated benchmark names, groups (kernel, console) "
                             "or roles (ours, reference, floor)")
    parser.add_argument("--repeat", type=int, default=None, metavar="N",
                        help="fresh runs per benchmark and role (default 5, quick 1)")
    parser.add_argument("--race-runs", type=int, default=None, metavar="N",
                        help="console spawns typing the first cell at once (default 100, quick 5)")
    parser.add_argument("--ours-kernel", default="mycon", help="kernelspec of ours (mycon)")
    parser.add_argument("--reference-kernel", default="python3",
                        help="kernelspec of the reference (python3, i.e. ipykernel)")
    parser.add_argument("--xeus-kernel", default=XEUS_KERNEL, metavar="NAME",
                        help="kernelspec of xeus-python, a second reference for the kernel rows "
                             f"({XEUS_KERNEL}; measured when installed; '' leaves it out)")
    parser.add_argument("--json", metavar="PATH", help="also write the raw results as JSON")
    parser.add_argument("--profile", metavar="DIR",
                        help="record each kernel benchmark's kernel with py-spy into DIR "
                             "(figures of a profiled run are not comparable)")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = parser.parse_args(argv)
    if args.repeat is None:
        args.repeat = 1 if args.quick else 5
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.race_runs is None:
        args.race_runs = 5 if args.quick else 100
    return args


XEUS_KERNEL = "xpython-raw"  # xeus-python's plain mode (no IPython), from `pip install xeus-python`


def installed_kernel(name: str) -> bool:
    """True if a kernelspec of that name is installed."""
    if not name:
        return False
    from jupyter_client.kernelspec import KernelSpecManager

    return name in KernelSpecManager().find_kernel_specs()


def _interrupt(signum: int, frame: object) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # one is enough: let the clean-up finish
    raise KeyboardInterrupt


def compile_our_packages() -> None:
    """Write bytecode for kernel/ and console/ before timing anything.

    A regular ``pip install`` compiles a package's bytecode, and ipykernel's was compiled when
    it was installed; an editable checkout (or PYTHONDONTWRITEBYTECODE=1) would otherwise make
    every start of ours compile its modules from source, which is not what users run.
    """
    import compileall

    root = Path(__file__).resolve().parent.parent
    for package in ("kernel", "console"):
        compileall.compile_dir(str(root / package), quiet=2)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    ks = kernel_bench.KernelSettings.quick() if args.quick else kernel_bench.KernelSettings()
    cs = console_bench.ConsoleSettings.make(args.quick, args.race_runs)
    kernels = {"ours": KernelTarget("ours", args.ours_kernel),
               "reference": KernelTarget("reference", args.reference_kernel),
               "floor": echo_kernel_target()}
    if installed_kernel(args.xeus_kernel):
        kernels["xeus"] = KernelTarget("xeus", args.xeus_kernel)
    if args.profile:
        try:
            py_spy()
        except BenchError as exc:
            raise SystemExit(f"bench: {exc}") from None
        Path(args.profile).mkdir(parents=True, exist_ok=True)
        kernels = {role: replace(t, profile_dir=args.profile) for role, t in kernels.items()}
    benchmarks = build_benchmarks(args, ks, cs, kernels)
    if args.list:
        for b in benchmarks:
            print(f"{b.name:14} {b.group:8} roles: {', '.join(b.roles)}")
        return 0
    chosen, roles = select(benchmarks, args.only)
    roles = tuple(role for role in roles if role in kernels)  # xeus-python only when installed
    results = Results(build_rows(ks, cs))
    compile_our_packages()

    def log(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    # SIGTERM unwinds like Ctrl-C, so every kernel and console we started is ended.
    signal.signal(signal.SIGTERM, _interrupt)
    started = time.perf_counter()
    load_at_start = os.getloadavg()[0]
    status = ("full" if not args.quick else "quick") + (", PROFILED" if args.profile else "")
    try:
        if any(b.group == "kernel" for b in chosen):
            log("warming up (one untimed start of each kernel)")
            warm_up(roles, kernels, chosen, results, log)
        for bench in chosen:
            log(f"{bench.name}:")
            run_benchmark(bench, roles, results, log)
    except KeyboardInterrupt:
        status += ", INTERRUPTED: partial figures"
    print()
    load = os.getloadavg()[0]
    print(f"mycon benchmarks ({status}; medians over repeated runs; "
          f"{time.perf_counter() - started:.0f} s; {os.cpu_count()} cores, load {load_at_start:.1f} "
          f"at start, {load:.1f} at end)")
    print(results.table())
    wrong = [(key, role, cell.failure) for (key, role), cell in results.cells.items()
             if "OUTPUT WRONG" in cell.failure]
    for key, role, failure in wrong:
        print(f"\n!!! {role} {key}: {failure}", file=sys.stderr)
    if args.json:
        Path(args.json).write_text(json.dumps(results.as_json(), indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
